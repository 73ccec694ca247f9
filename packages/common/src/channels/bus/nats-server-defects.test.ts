import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lacksClusteredCas } from "./nats-server-defects.js";

describe("lacksClusteredCas", () => {
  it("is true before 2.9.21 and false from it on", () => {
    assert.equal(lacksClusteredCas("2.9.10"), true);
    assert.equal(lacksClusteredCas("v2.9.20"), true);
    assert.equal(lacksClusteredCas("2.8.4"), true);
    assert.equal(lacksClusteredCas("2.9.21"), false);
    assert.equal(lacksClusteredCas("2.10.0"), false);
    assert.equal(lacksClusteredCas("3.0.0-beta"), false);
  });

  it("does not guess on a version it cannot read", () => {
    assert.equal(lacksClusteredCas(""), false);
    assert.equal(lacksClusteredCas("dev"), false);
  });
});
