import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { createNatsBus } from "./bus/nats-bus.js";
import { describeChannelsContract, describeStoreLimits } from "./channels-contract.js";
import { describeKvCacheContract } from "./kv-cache-contract.js";
import { openMediaStores } from "./media-stores.js";

/** One nats-server with JetStream for this file; each test starts from an empty server (every stream deleted). */
let server: { url: string; stop(): Promise<void> } | undefined;

before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server?.stop();
});

describeChannelsContract("NATS bus", async () => {
  if (!server) throw new Error("nats-server did not start");
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  // KV buckets and object stores are streams too.
  for await (const s of jsm.streams.list()) await jsm.streams.delete(s.config.name);
  const bus = await createNatsBus(nc);
  return { bus, close: () => bus.close() };
});

describeStoreLimits("NATS bus", async (storeLimits) => {
  if (!server) throw new Error("nats-server did not start");
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  for await (const s of jsm.streams.list()) await jsm.streams.delete(s.config.name);
  const bus = await createNatsBus(nc, { storeLimits });
  return { bus, close: () => bus.close() };
});

describe("media store limits: NATS bus", () => {
  it("a limit JetStream cannot reserve stops the opener with a message that names the settings", async () => {
    if (!server) throw new Error("nats-server did not start");
    const nc = await connect({ servers: server.url });
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
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  for await (const s of jsm.streams.list()) await jsm.streams.delete(s.config.name);
  const bus = await createNatsBus(nc);
  return { bus, close: () => bus.close() };
});

async function startNatsServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), "t2v-channels-nats-"));
  const child: ChildProcess = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], {
    stdio: "ignore",
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    }
    await rm(storeDir, { recursive: true, force: true });
  };
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (await connects(port)) return { url: `nats://127.0.0.1:${port}`, stop };
    await delay(50);
  }
  await stop();
  throw new Error("nats-server did not start");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
