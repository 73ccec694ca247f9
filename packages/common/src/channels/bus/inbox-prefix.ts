/**
 * Where the replies to a NATS user's requests arrive (JetStream API answers, pulled messages,
 * KV watches, queue estimates): `_INBOX_<user>`, so the project's permissions can let each user
 * subscribe to its own replies only, never to another's (API-key lookups, task records).
 * Characters a subject token cannot hold become "_".
 */
export function inboxPrefixOf(user: string): string {
  return `_INBOX_${user.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}
