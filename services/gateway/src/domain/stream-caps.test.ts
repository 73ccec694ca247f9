import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createStreamCaps } from "./stream-caps.js";

describe("createStreamCaps", () => {
  it("caps streams per key and per tenant, counting nothing for a refused one", () => {
    const caps = createStreamCaps({ perKey: 2, perTenant: 3 });
    assert.equal(caps.tryOpen("k1", "t"), "ok");
    assert.equal(caps.tryOpen("k1", "t"), "ok");
    assert.equal(caps.tryOpen("k1", "t"), "key");
    assert.equal(caps.tryOpen("k2", "t"), "ok");
    assert.equal(caps.tryOpen("k2", "t"), "tenant");
    assert.equal(caps.openFor("k2"), 1);
    assert.equal(caps.openForTenant("t"), 3);
    assert.equal(caps.tryOpen("k3", "other"), "ok", "another tenant has its own count");
  });

  it("frees a place when a stream closes, and forgets keys with none open", () => {
    const caps = createStreamCaps({ perKey: 1, perTenant: 1 });
    assert.equal(caps.tryOpen("k", "t"), "ok");
    assert.equal(caps.tryOpen("k", "t"), "key");
    caps.close("k", "t");
    assert.equal(caps.openFor("k"), 0);
    assert.equal(caps.openForTenant("t"), 0);
    assert.equal(caps.tryOpen("k", "t"), "ok");
  });
});
