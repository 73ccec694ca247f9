import { connect } from "@nats-io/transport-node";
import { createNatsBus } from "../channels/bus/nats-bus.js";
import { type ApiKeyStore, openApiKeyStore } from "./api-key-store.js";

/**
 * For short-lived tools (the CLI, tests): connects once, fails fast when NATS
 * is not there (services instead retry forever), runs `fn`, disconnects.
 */
export async function withApiKeyStore<T>(natsUrl: string, fn: (keys: ApiKeyStore) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: natsUrl.split(","), name: "t2v-keys", timeout: 5_000 });
  try {
    return await fn(await openApiKeyStore(await createNatsBus(nc)));
  } finally {
    await nc.close();
  }
}
