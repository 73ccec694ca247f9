import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startNatsServer, type TestNatsServer } from "../testing/nats-server.js";
import { createNatsBus } from "./bus/nats-bus.js";
import { describeChannelsContract, describeStoreLimits } from "./channels-contract.js";
import { describeKvCacheContract } from "./kv-cache-contract.js";
import { openMediaStores } from "./media-stores.js";

/** One nats-server with JetStream for this file; each test starts from an empty server (every stream deleted). */
let server: TestNatsServer | undefined;

before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server?.stop();
});

describeChannelsContract("NATS bus", async () => {
  if (!server) throw new Error("nats-server did not start");
  const nc = await connect({ servers: server.url, ...server.admin });
  const jsm = await jetstreamManager(nc);
  // KV buckets and object stores are streams too.
  for await (const s of jsm.streams.list()) await jsm.streams.delete(s.config.name);
  const bus = await createNatsBus(nc);
  return { bus, close: () => bus.close() };
});

describeStoreLimits("NATS bus", async (storeLimits) => {
  if (!server) throw new Error("nats-server did not start");
  const nc = await connect({ servers: server.url, ...server.admin });
  const jsm = await jetstreamManager(nc);
  for await (const s of jsm.streams.list()) await jsm.streams.delete(s.config.name);
  const bus = await createNatsBus(nc, { storeLimits });
  return { bus, close: () => bus.close() };
});

describe("media store limits: NATS bus", () => {
  it("a limit JetStream cannot reserve stops the opener with a message that names the settings", async () => {
    if (!server) throw new Error("nats-server did not start");
    const nc = await connect({ servers: server.url, ...server.admin });
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list()) await jsm.streams.delete(s.config.name);
    const bus = await createNatsBus(nc, { storeLimits: { t2v_latents: 2 ** 50 } });
    try {
      await assert.rejects(openMediaStores(bus, { videoTtlHours: 1 }), /LATENTS_STORE_MAX_GB/);
    } finally {
      await bus.close();
    }
  });
});

describeKvCacheContract("NATS bus", async () => {
  if (!server) throw new Error("nats-server did not start");
  const nc = await connect({ servers: server.url, ...server.admin });
  const jsm = await jetstreamManager(nc);
  for await (const s of jsm.streams.list()) await jsm.streams.delete(s.config.name);
  const bus = await createNatsBus(nc);
  return { bus, close: () => bus.close() };
});
