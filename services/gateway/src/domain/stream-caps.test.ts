import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createStreamCaps } from "./stream-caps.js";

describe("createStreamCaps", () => {
  it("caps streams per key and per tenant, counting nothing for a refused one", () => {
    const caps = createStreamCaps({ perKey: 2, perTenant: 3, perGateway: 100 });
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
    const caps = createStreamCaps({ perKey: 1, perTenant: 1, perGateway: 100 });
    assert.equal(caps.tryOpen("k", "t"), "ok");
    assert.equal(caps.tryOpen("k", "t"), "key");
    caps.close("k", "t");
    assert.equal(caps.openFor("k"), 0);
    assert.equal(caps.openForTenant("t"), 0);
    assert.equal(caps.tryOpen("k", "t"), "ok");
  });

  it("caps the gateway's streams of every tenant together, and gives the place back on close", () => {
    const caps = createStreamCaps({ perKey: 10, perTenant: 10, perGateway: 3 });
    assert.equal(caps.tryOpen("a1", "a"), "ok");
    assert.equal(caps.tryOpen("b1", "b"), "ok");
    assert.equal(caps.tryOpen("c1", "c"), "ok");
    assert.equal(caps.tryOpen("d1", "d"), "gateway", "a fourth tenant, under its own caps, finds the gateway full");
    assert.equal(caps.openForTenant("d"), 0, "a refused stream is not counted");
    assert.equal(caps.open(), 3);
    caps.close("b1", "b");
    assert.equal(caps.tryOpen("d1", "d"), "ok");
    assert.equal(caps.open(), 3);
  });
});
