import { readFileSync } from "node:fs";
import { type ConnectionOptions, credsAuthenticator, errors, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { NatsAccess } from "../../config/nats-fields.js";
import { inboxPrefixOf } from "./inbox-prefix.js";
import { CLUSTERED_CAS_FIXED_IN, lacksClusteredCas } from "./nats-server-defects.js";

/** The connect options for the credentials the configuration gives (none: an open server). */
export function natsAuth(access: NatsAccess | undefined): Partial<ConnectionOptions> {
  if (!access) return {};
  if (access.natsCreds !== "") return { authenticator: credsAuthenticator(readFileSync(access.natsCreds)) };
  if (access.natsToken !== "") return { token: access.natsToken };
  if (access.natsUser !== "")
    return { user: access.natsUser, pass: access.natsPassword, inboxPrefix: inboxPrefixOf(access.natsUser) };
  return {};
}

/** The servers of a NATS_URL list, for the client to fail over between. */
export function natsServers(url: string): string[] {
  return url.split(",").map((s) => s.trim());
}

/**
 * Connects with endless reconnects: a NATS restart must not kill a service.
 * With a list of servers (a cluster) the client moves to another node when
 * its own goes away.
 */
export async function connectNats(
  url: string,
  name: string,
  log: Logger,
  settings?: NatsAccess & { natsReplicas?: number },
): Promise<NatsConnection> {
  const nc = await connect({
    servers: natsServers(url),
    name,
    ...natsAuth(settings),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    // No Error (with its stack) made ahead of every request in case it fails: measured at
    // about 7% of the gateway's CPU per CreateTask. A failed request's stack then ends in the client.
    noAsyncTraces: true,
  });
  log.info({ server: nc.getServer() }, "connected to NATS");
  const version = nc.info?.version ?? "";
  if ((settings?.natsReplicas ?? 1) > 1 && lacksClusteredCas(version)) {
    log.warn(
      { server_version: version, fixed_in: CLUSTERED_CAS_FIXED_IN },
      "this nats-server lets two concurrent compare-and-swaps on a replicated KV bucket both win (nats-server#4320): run the cluster on a fixed version",
    );
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect") {
        log.warn({ status: s.type, server: nc.getServer() }, "NATS connection");
      }
      // A subject outside this user's permissions (nats-access): the server dropped the message or
      // subscription. Said loudly: it is a missing permission or a bug, never load.
      if (s.type === "error" && s.error instanceof errors.PermissionViolationError) {
        log.error(
          { err: s.error, subject: s.error.subject, operation: s.error.operation },
          "NATS Permissions Violation",
        );
      }
    }
  })();
  return nc;
}

/** Calls `onChange(false)` when the connection drops and `onChange(true)` when it is back, until it closes. */
export function watchConnection(nc: NatsConnection, onChange: (up: boolean) => void): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") onChange(false);
      if (s.type === "reconnect") onChange(true);
    }
  })();
}
