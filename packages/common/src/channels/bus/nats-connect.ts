import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";

/** Connects with endless reconnects: a NATS restart must not kill a service. */
export async function connectNats(url: string, name: string, log: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(","),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    // No Error (with its stack) made ahead of every request in case it fails: measured at
    // about 7% of the gateway's CPU per CreateTask. A failed request's stack then ends in the client.
    noAsyncTraces: true,
  });
  log.info({ server: nc.getServer() }, "connected to NATS");
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect") log.warn({ status: s.type }, "NATS connection");
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
