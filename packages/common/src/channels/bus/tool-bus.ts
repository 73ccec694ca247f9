import { connect } from "@nats-io/transport-node";
import type { NatsSettings } from "../../config/nats-fields.js";
import type { Bus } from "./bus.js";
import { createNatsBus } from "./nats-bus.js";
import { natsAuth, natsServers } from "./nats-connect.js";

/**
 * For short-lived tools (the CLI, tests): connects once and fails fast when
 * NATS is not there (services instead retry forever). A bare URL means an
 * open server and replicas 1. Closing the bus disconnects.
 */
export async function openToolBus(nats: string | NatsSettings, name: string): Promise<Bus> {
  const settings = typeof nats === "string" ? { natsUrl: nats } : nats;
  const nc = await connect({
    servers: natsServers(settings.natsUrl),
    name,
    timeout: 5_000,
    ...(typeof nats === "string" ? {} : natsAuth(nats)),
  });
  return createNatsBus(nc, typeof nats === "string" ? {} : { replicas: nats.natsReplicas }).catch(
    async (err: unknown) => {
      await nc.close();
      throw err;
    },
  );
}
