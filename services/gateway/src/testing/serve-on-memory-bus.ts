import { createInterface } from "node:readline";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { createMemoryBus } from "@t2v/common/channels";
import { start } from "../app.js";
import { publicResolver, silentLog, tenant, testConfig } from "./gateway-fixture.js";

/**
 * A whole gateway on an in-memory bus in a process of its own, for tests that
 * measure its memory: prints {"port","key"} once listening; each line on
 * stdin ("mem") is answered with its memory after a GC (run with --expose-gc),
 * and its peak RSS so far. Settings come from the environment (GATEWAY_ENV, JSON).
 */
const bus = createMemoryBus();
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
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = m;
  process.stdout.write(`${JSON.stringify({ rss, heapUsed, heapTotal, external, arrayBuffers, peakRss })}\n`);
}
await gateway.stop();
await bus.close();
