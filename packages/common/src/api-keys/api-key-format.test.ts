import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiKeyMatches, apiKeyPrefix, isTenantId, mintApiKey, mintWebhookSecret } from "./api-key-format.js";

describe("API key format", () => {
  it("mints keys whose prefix parses back and whose hash matches", () => {
    const k = mintApiKey();
    assert.match(k.key, /^t2v_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(apiKeyPrefix(k.key), k.prefix);
    assert.ok(apiKeyMatches(k.key, k.sha256));
    assert.ok(!apiKeyMatches(`${k.key.slice(0, -1)}A`, k.sha256) || k.key.endsWith("A"));
    assert.ok(!apiKeyMatches(k.key, new Uint8Array(3)));
  });

  it("rejects malformed keys", () => {
    for (const s of ["", "t2v_", "Bearer x", "t2v_0123456789ab_short", `t2v_XYZ_${"a".repeat(43)}`]) {
      assert.equal(apiKeyPrefix(s), null, s);
    }
  });

  it("accepts tenant ids that are safe KV key parts only", () => {
    for (const ok of ["a", "acme", "acme-2_x", "0", "a".repeat(63)]) assert.ok(isTenantId(ok), ok);
    for (const bad of ["", "-a", "_a", "A", "a.b", "a b", "a/b", "a".repeat(64), "ä"]) assert.ok(!isTenantId(bad), bad);
  });

  it("mints Standard Webhooks secrets", () => {
    const s = mintWebhookSecret();
    assert.match(s, /^whsec_/);
    assert.equal(Buffer.from(s.slice(6), "base64").length, 32);
  });
});
