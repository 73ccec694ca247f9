import { createInterface } from "node:readline";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { connectNats, createNatsBus } from "@t2v/common/channels";
import { start } from "../app.js";
import { publicResolver, silentLog, tenant, testConfig } from "./gateway-fixture.js";

/**
 * A whole gateway on a real nats-server (NATS_URL) in a process of its own, for tests that measure
 * its memory and what it reads from NATS: prints {"port","key"} once listening; each line on stdin
 * is answered with its memory after a GC (run with --expose-gc), its peak RSS so far, and the bytes
 * and messages its NATS connection has received. Settings come from GATEWAY_ENV (JSON); it connects
 * as NATS_USER with NATS_PASSWORD (the gateway's user).
 */
const nc = await connectNats(process.env.NATS_URL ?? "nats://127.0.0.1:4222", "gateway-test", silentLog, {
  natsCreds: "",
  natsToken: "",
  natsUser: process.env.NATS_USER ?? "",
  natsPassword: process.env.NATS_PASSWORD ?? "",
});
const bus = await createNatsBus(nc);
const gateway = await start(testConfig(JSON.parse(process.env.GATEWAY_ENV ?? "{}") as Record<string, string>), {
  bus,
  log: silentLog,
  resolve: publicResolver,
});
const alice = await tenant(await openApiKeyStore(bus), "alice");
process.stdout.write(`${JSON.stringify({ port: gateway.port, key: alice.key })}\n`);
const gc = (globalThis as { gc?: () => void }).gc;
for await (const _ of createInterface({ input: process.stdin })) {
  gc?.();
  const m = process.memoryUsage();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const { inBytes, inMsgs } = nc.stats();
  process.stdout.write(
    `${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, peakRss, inBytes, inMsgs })}\n`,
  );
}
await gateway.stop();
await bus.close();
