import { openToolBus } from "../channels/bus/tool-bus.js";
import type { NatsSettings } from "../config/nats-fields.js";
import { type ApiKeyStore, openApiKeyStore } from "./api-key-store.js";

/**
 * For short-lived tools (the CLI, tests): connects once, fails fast when NATS
 * is not there (services instead retry forever), runs `fn`, disconnects.
 */
export async function withApiKeyStore<T>(
  nats: string | NatsSettings,
  fn: (keys: ApiKeyStore) => Promise<T>,
): Promise<T> {
  const bus = await openToolBus(nats, "t2v-keys");
  try {
    return await fn(await openApiKeyStore(bus));
  } finally {
    await bus.close();
  }
}
