import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkDownloadSignature, signDownload, signedPath } from "./signed-url.js";

const secret = Buffer.from("0123456789abcdef0123456789abcdef");

describe("signed download links", () => {
  const file = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee.mp4";
  const sig = signDownload(secret, file, 2000);

  it("accepts its own signature until the expiry", () => {
    assert.equal(checkDownloadSignature(secret, file, "2000", sig, 1999), "valid");
    assert.equal(checkDownloadSignature(secret, file, "2000", sig, 2000), "valid");
    assert.equal(checkDownloadSignature(secret, file, "2000", sig, 2001), "expired");
  });

  it("refuses a changed expiry, file, signature or secret", () => {
    assert.equal(checkDownloadSignature(secret, file, "2001", sig, 0), "bad");
    assert.equal(checkDownloadSignature(secret, file.replace(".mp4", ".jpg"), "2000", sig, 0), "bad");
    assert.equal(checkDownloadSignature(secret, file, "2000", `${sig.slice(0, -1)}x`, 0), "bad");
    assert.equal(checkDownloadSignature(Buffer.from("other"), file, "2000", sig, 0), "bad");
    assert.equal(checkDownloadSignature(secret, file, null, sig, 0), "bad");
    assert.equal(checkDownloadSignature(secret, file, "1e9", sig, 0), "bad");
  });

  it("builds the path clients see", () => {
    assert.equal(signedPath(secret, file, 2000), `/v1/videos/${file}?exp=2000&sig=${sig}`);
  });
});
