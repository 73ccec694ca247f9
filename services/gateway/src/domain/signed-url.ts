import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Download links carry their own authorisation: an expiry and an HMAC over
 * the path and the expiry, so they work without an API key and cannot be
 * stretched or pointed at another file.
 */
export function signDownload(secret: Uint8Array, file: string, expUnix: number): string {
  return createHmac("sha256", secret).update(`${file}\n${expUnix}`).digest("base64url");
}

export function signedPath(secret: Uint8Array, file: string, expUnix: number): string {
  return `/v1/videos/${file}?exp=${expUnix}&sig=${signDownload(secret, file, expUnix)}`;
}

export type SignatureCheck = "valid" | "expired" | "bad";

export function checkDownloadSignature(
  secret: Uint8Array,
  file: string,
  exp: string | null,
  sig: string | null,
  nowUnix: number,
): SignatureCheck {
  if (exp === null || sig === null || !/^\d{1,12}$/.test(exp)) return "bad";
  const want = Buffer.from(signDownload(secret, file, Number(exp)));
  const got = Buffer.from(sig);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return "bad";
  return Number(exp) < nowUnix ? "expired" : "valid";
}
