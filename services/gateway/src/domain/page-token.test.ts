import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodePageToken, encodePageToken, filteredPage, pageOfIds } from "./page-token.js";

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

describe("filteredPage", () => {
  const ids = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"];
  const load = async (id: string) => (id === "a4" ? null : id);
  const odd = (id: string) => Number(id.slice(1)) % 2 === 1;

  it("pages through matching items only, without gaps or repeats", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page = await filteredPage(ids, 2, after, load, odd);
      seen.push(...page.items);
      if (page.next === "") break;
      after = decodePageToken(page.next);
    }
    assert.deepEqual(seen, ["a7", "a5", "a3", "a1"]);
  });

  it("skips missing items", async () => {
    const page = await filteredPage(ids, 10, null, load, () => true);
    assert.deepEqual(page.items, ["a7", "a6", "a5", "a3", "a2", "a1"]);
    assert.equal(page.next, "");
  });
});
