import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AUTHORIZATION_FILE,
  type LocalNatsServer,
  renderAuthorization,
  renderLocalServerConfig,
} from "./nats-config.js";
import { NATS_USERS, type NatsPasswords, type NatsUser } from "./nats-users.js";

/**
 * nats-server parses an environment variable's value as a configuration value, so a password
 * must read as a plain string: one beginning with "-" or shaped like a number ("12e5…") stops the
 * server at start. A letter, then hex digits (192 random bits) always does.
 */
const PASSWORD_FORM = /^[a-z][0-9a-z]{16,}$/;

/** A fresh random password in PASSWORD_FORM. */
function newPassword(): string {
  return `p${randomBytes(24).toString("hex")}`;
}

/** True when nats-server reads `p` back as the string it is. */
export function isSafePassword(p: string): boolean {
  return PASSWORD_FORM.test(p);
}

/** Fresh random passwords, one per user. */
export function randomPasswords(): NatsPasswords {
  return Object.fromEntries(NATS_USERS.map((u) => [u, newPassword()])) as Record<NatsUser, string>;
}

/**
 * The passwords kept in `file` (JSON, mode 0600), made and saved there on first use: a local mesh
 * keeps its users across restarts. A file missing a user (an older version) gets that user added,
 * and one whose password is not in the safe form gets a new one.
 */
export async function loadOrCreatePasswords(file: string): Promise<NatsPasswords> {
  let saved: Partial<Record<NatsUser, string>> = {};
  try {
    saved = JSON.parse(await readFile(file, "utf8")) as Partial<Record<NatsUser, string>>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const fresh = randomPasswords();
  const all = Object.fromEntries(
    NATS_USERS.map((u) => {
      const p = saved[u];
      // A password of an older form may not survive nats-server's parsing: replaced.
      return [u, typeof p === "string" && isSafePassword(p) ? p : fresh[u]];
    }),
  ) as Record<NatsUser, string>;
  if (NATS_USERS.some((u) => saved[u] !== all[u])) {
    await writeFile(file, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
  }
  return all;
}

/** Writes the server configuration and the project's authorization file into `dir`; returns the configuration's path. */
export async function writeLocalNatsConfig(dir: string, server: LocalNatsServer): Promise<string> {
  await mkdir(dir, { recursive: true });
  const conf = join(dir, "nats.conf");
  await writeFile(join(dir, AUTHORIZATION_FILE), renderAuthorization());
  await writeFile(conf, renderLocalServerConfig(server));
  return conf;
}
