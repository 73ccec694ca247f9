import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodePageToken, encodePageToken, pageTokenKey } from "./page-token.js";

describe("page tokens", () => {
  const key = pageTokenKey(new Uint8Array(32).fill(7));
  const want = { status: 0, minDay: 100, maxDay: 130 };
  const cursor = { status: 0, day: 120, slot: 42 };

  it("round-trip for the tenant and status filter they were made for", () => {
    assert.deepEqual(decodePageToken(key, "acme", encodePageToken(key, "acme", cursor), want), cursor);
  });

  it("refuse another tenant's token, another filter's, and one from another key", () => {
    const token = encodePageToken(key, "acme", cursor);
    assert.equal(decodePageToken(key, "bob", token, want), null);
    assert.equal(decodePageToken(key, "acme", token, { ...want, status: 4 }), null);
    const other = pageTokenKey(new Uint8Array(32).fill(8));
    assert.equal(decodePageToken(other, "acme", token, want), null);
  });

  it("refuse edited, truncated and foreign tokens", () => {
    const token = encodePageToken(key, "acme", cursor);
    const [payload = "", sig = ""] = token.split(".");
    const edited = `${Buffer.from("v2.0.120.43").toString("base64url")}.${sig}`;
    for (const bad of [edited, payload, `${payload}.`, `${token}x`, "garbage", "", "a.b", "v1:abc"])
      assert.equal(decodePageToken(key, "acme", bad, want), null, bad);
  });

  it("refuse a day outside the retention window, even when signed", () => {
    for (const day of [99, 131])
      assert.equal(decodePageToken(key, "acme", encodePageToken(key, "acme", { ...cursor, day }), want), null);
  });
});
