import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsSettings } from "@t2v/common/config";
import { ADMIN_USER, type NatsPasswords, type NatsUser, SERVICE_NAMES } from "@t2v/common/nats-access";

/** Where `t2v up` keeps the passwords of the users of the nats-server it starts (mode 0600). */
export function natsCredentialsFile(dataDir: string): string {
  return join(dataDir, "nats-credentials.json");
}

/** `settings` connecting as `user` with `password`, whatever credentials they named before. */
export function asNatsUser(settings: NatsSettings, user: string, password: string): NatsSettings {
  return { ...settings, natsCreds: "", natsToken: "", natsUser: user, natsPassword: password };
}

const hasAccess = (s: NatsSettings): boolean => s.natsCreds !== "" || s.natsToken !== "" || s.natsUser !== "";

const isLoopback = (url: string): boolean =>
  url.split(",").every((u) => /^(nats:\/\/)?(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(u.trim()));

/**
 * What an operator command (`t2v keys`, `t2v usage`, `t2v dead-letters`) connects with: the credentials
 * in the environment when it names any; otherwise, for a NATS on this machine, the admin user of the
 * nats-server `t2v up` started (its passwords in DATA_DIR); otherwise none.
 */
export function operatorNats(settings: NatsSettings, dataDir: string): NatsSettings {
  if (hasAccess(settings) || !isLoopback(settings.natsUrl)) return settings;
  let saved: Partial<Record<NatsUser, unknown>>;
  try {
    saved = JSON.parse(readFileSync(natsCredentialsFile(dataDir), "utf8")) as Partial<Record<NatsUser, unknown>>;
  } catch {
    return settings;
  }
  const admin = saved[ADMIN_USER];
  return typeof admin === "string" ? asNatsUser(settings, ADMIN_USER, admin) : settings;
}

/** NATS_USER and NATS_PASSWORD of each service, for the environment `t2v up` starts it with. */
export function serviceNatsEnv(passwords: NatsPasswords): Record<string, NodeJS.ProcessEnv> {
  return Object.fromEntries(SERVICE_NAMES.map((u) => [u, { NATS_USER: u, NATS_PASSWORD: passwords[u] }]));
}
