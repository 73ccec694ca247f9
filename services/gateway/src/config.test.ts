import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WEBHOOK_CONSUMER } from "@t2v/common/channels";
import { ConfigError, readConfig } from "@t2v/common/config";
import { DNS_TIMEOUT_MS } from "./adapters/dns-resolver.js";
import { gatewayConfig, MAX_WEBHOOK_TIMEOUT_MS } from "./config.js";

describe("gatewayConfig", () => {
  it("reads the defaults", () => {
    const c = readConfig(gatewayConfig, {});
    assert.equal(c.port, 8080);
    assert.deepEqual(c.rateStandard, { perMinute: 600, burst: 120 });
    assert.equal(c.webhookAllow.hasHost("127.0.0.1"), false);
  });

  it("parses WEBHOOK_ALLOW_HOSTS into an allow list", () => {
    const c = readConfig(gatewayConfig, { WEBHOOK_ALLOW_HOSTS: "localhost, 10.0.0.0/8" });
    assert.ok(c.webhookAllow.hasHost("localhost"));
    assert.ok(c.webhookAllow.hasAddress("10.1.2.3"));
    assert.ok(!c.webhookAllow.hasAddress("192.168.0.1"));
  });

  it("reports every bad value at once, by variable", () => {
    assert.throws(
      () => readConfig(gatewayConfig, { WEBHOOK_ALLOW_HOSTS: "10.0.0.0/33", RATE_LIMIT_VIP: "fast", PORT: "70000" }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 3 &&
        err.problems.some((p) => p.startsWith("WEBHOOK_ALLOW_HOSTS: ")) &&
        err.problems.some((p) => p.startsWith("RATE_LIMIT_VIP: ")) &&
        err.problems.some((p) => p.startsWith("PORT: ")),
    );
  });

  it("keeps a webhook delivery (DNS and POST) inside the webhooks consumer's ack wait", () => {
    assert.ok(MAX_WEBHOOK_TIMEOUT_MS + DNS_TIMEOUT_MS < WEBHOOK_CONSUMER.ackWaitMs);
    assert.throws(
      () => readConfig(gatewayConfig, { WEBHOOK_TIMEOUT_MS: String(WEBHOOK_CONSUMER.ackWaitMs) }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith("WEBHOOK_TIMEOUT_MS: ")),
    );
    const c = readConfig(gatewayConfig, {});
    assert.deepEqual([c.dailyQuotaVip, c.dailyQuotaStandard, c.dailyQuotaBatch], [20_000, 5_000, 50_000]);
    assert.ok(c.webhookConcurrencyPerTenant < c.webhookConcurrency);
  });
});
