import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodePageToken, encodePageToken, pageOfIds } from "./page-token.js";

describe("pageOfIds", () => {
  const ids = ["a1", "a3", "a2", "a5", "a4"];

  it("pages newest first without gaps or repeats", () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page = pageOfIds(ids, 2, after);
      seen.push(...page.items);
      if (page.next === "") break;
      after = decodePageToken(page.next);
    }
    assert.deepEqual(seen, ["a5", "a4", "a3", "a2", "a1"]);
  });

  it("ends with an empty token on the last page", () => {
    assert.equal(pageOfIds(ids, 5, null).next, "");
    assert.notEqual(pageOfIds(ids, 4, null).next, "");
  });

  it("round-trips tokens and rejects foreign ones", () => {
    assert.equal(decodePageToken(encodePageToken("abc")), "abc");
    assert.equal(decodePageToken("garbage"), null);
    assert.equal(decodePageToken(""), null);
  });
});
