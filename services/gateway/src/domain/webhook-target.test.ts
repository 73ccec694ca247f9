import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAllowList } from "./allow-list.js";
import { checkWebhookUrlForm, chooseTarget } from "./webhook-target.js";

const none = parseAllowList("");
const local = parseAllowList("127.0.0.1,localhost");

describe("checkWebhookUrlForm", () => {
  it("wants https, or http to an allow-listed host", () => {
    assert.ok(checkWebhookUrlForm("https://hooks.example.com/t2v", none).ok);
    assert.equal(checkWebhookUrlForm("http://hooks.example.com/t2v", none).ok, false);
    assert.ok(checkWebhookUrlForm("http://127.0.0.1:9999/hook", local).ok);
    assert.equal(checkWebhookUrlForm("http://127.0.0.2:9999/hook", local).ok, false);
    for (const bad of ["ftp://x/", "file:///etc/passwd", "gopher://x", "not a url", "", "//x/y", "javascript:alert(1)"])
      assert.equal(checkWebhookUrlForm(bad, none).ok, false, bad);
  });
  it("refuses credentials and overlong URLs", () => {
    assert.equal(checkWebhookUrlForm("https://u:p@example.com/", none).ok, false);
    assert.equal(checkWebhookUrlForm(`https://example.com/${"a".repeat(2100)}`, none).ok, false);
  });
});

describe("chooseTarget", () => {
  const v4 = (address: string) => ({ address, family: 4 });
  it("takes a public address", () => {
    const r = chooseTarget("example.com", [v4("93.184.216.34")], none);
    assert.ok(r.ok);
    assert.equal(r.ok && r.target.address, "93.184.216.34");
  });
  it("refuses when any resolved address is internal", () => {
    assert.equal(chooseTarget("x", [v4("93.184.216.34"), v4("10.0.0.1")], none).ok, false);
    assert.equal(chooseTarget("x", [{ address: "::ffff:127.0.0.1", family: 6 }], none).ok, false);
    assert.equal(chooseTarget("x", [v4("169.254.169.254")], none).ok, false);
    assert.equal(chooseTarget("x", [], none).ok, false);
  });
  it("lets allow-listed hosts and addresses through", () => {
    assert.ok(chooseTarget("localhost", [v4("127.0.0.1")], local).ok);
    assert.ok(chooseTarget("other", [v4("127.0.0.1")], local).ok);
    assert.equal(chooseTarget("other", [v4("127.0.0.2")], local).ok, false);
  });
});
