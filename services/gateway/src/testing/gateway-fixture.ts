import { type CallOptions, type Client, createClient, createRouterTransport } from "@connectrpc/connect";
import { type ApiKeyStore, openApiKeyStore } from "@t2v/common/api-keys";
import { type Channels, channels, createMemoryBus, type MemoryBus } from "@t2v/common/channels";
import { readConfig } from "@t2v/common/config";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { buildGateway, type GatewayParts } from "../app.js";
import { type GatewayConfig, gatewayConfig } from "../config.js";
import type { Resolver } from "../domain/webhook-target.js";

/** Settings every in-process test shares; `env` overrides them. */
export function testConfig(env: Record<string, string> = {}): GatewayConfig {
  return readConfig(gatewayConfig, {
    PORT: "0",
    HOST: "127.0.0.1",
    DOWNLOAD_SIGNING_SECRET: "test-download-secret",
    LOG_LEVEL: "silent",
    ...env,
  });
}

/** A public address for every name, so webhook URLs pass the SSRF check without DNS. */
export const publicResolver: Resolver = async (hostname) =>
  /^\d+\.\d+\.\d+\.\d+$/.test(hostname)
    ? [{ address: hostname, family: 4 }]
    : [{ address: "93.184.216.34", family: 4 }];

export const silentLog = createLogger("gateway", "silent");

export interface Tenant {
  key: string;
  prefix: string;
  tenantId: string;
  /** Call options carrying the key. */
  auth: CallOptions;
}

export interface RpcFixture {
  bus: MemoryBus;
  ch: Channels;
  keys: ApiKeyStore;
  parts: GatewayParts;
  client: Client<typeof VideoService>;
  alice: Tenant;
  bob: Tenant;
}

export async function tenant(keys: ApiKeyStore, tenantId: string): Promise<Tenant> {
  const created = await keys.create({ tenantId, tier: "standard" });
  return {
    key: created.key,
    prefix: created.record.prefix,
    tenantId,
    auth: { headers: { authorization: `Bearer ${created.key}` } },
  };
}

/** The whole gateway on an in-memory bus, called through Connect's in-memory router transport: no socket, no process. */
export async function rpcFixture(env: Record<string, string> = {}): Promise<RpcFixture> {
  const bus = createMemoryBus();
  const parts = await buildGateway(testConfig(env), {
    bus,
    log: silentLog,
    resolve: publicResolver,
    randomSeed: () => 1234,
  });
  const keys = await openApiKeyStore(bus);
  return {
    bus,
    ch: channels(bus),
    keys,
    parts,
    client: createClient(VideoService, createRouterTransport(parts.routes)),
    alice: await tenant(keys, "alice"),
    bob: await tenant(keys, "bob"),
  };
}
