import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, readConfig } from "@t2v/common/config";
import { gatewayConfig } from "./config.js";

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
});
