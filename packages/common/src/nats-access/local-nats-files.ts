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

/** Fresh random passwords, one per user (24 random bytes, base64url: no character the config would quote). */
export function randomPasswords(): NatsPasswords {
  return Object.fromEntries(NATS_USERS.map((u) => [u, randomBytes(24).toString("base64url")])) as Record<
    NatsUser,
    string
  >;
}

/**
 * The passwords kept in `file` (JSON, mode 0600), made and saved there on first use: a local mesh
 * keeps its users across restarts. A file missing a user (an older version) gets that user added.
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
      return [u, typeof p === "string" && p !== "" ? p : fresh[u]];
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
