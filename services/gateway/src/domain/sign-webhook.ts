import { createHmac } from "node:crypto";

/**
 * Standard Webhooks (standardwebhooks.com) signature headers: an HMAC-SHA256
 * of "<id>.<timestamp>.<body>" keyed with the base64 part of the whsec_ secret.
 */
export function signWebhook(secret: string, id: string, timestampSec: number, body: string): Record<string, string> {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
  const sig = createHmac("sha256", key).update(`${id}.${timestampSec}.${body}`).digest("base64");
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSec),
    "webhook-signature": `v1,${sig}`,
  };
}
