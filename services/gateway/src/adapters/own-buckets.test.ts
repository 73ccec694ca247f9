import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GATEWAY_OWN_BUCKETS, SERVICE_ACCESS } from "@t2v/common/nats-access";
import { SECRETS_BUCKET } from "./download-secret.js";
import { IDEMPOTENCY_BUCKET } from "./idempotency-store.js";
import { WEBHOOK_DISABLED_BUCKET } from "./webhook-disabled.js";

describe("the gateway's own KV buckets", () => {
  it("are the ones its NATS user may open", () => {
    const own = [IDEMPOTENCY_BUCKET, SECRETS_BUCKET, WEBHOOK_DISABLED_BUCKET].map((b) => b.name).sort();
    assert.deepEqual([...GATEWAY_OWN_BUCKETS].sort(), own);
    for (const name of own) assert.ok(SERVICE_ACCESS.gateway.buckets.includes(name), name);
  });
});
