import "./instrumentation.js";
import { hostname } from "node:os";
import { connectNats, createNatsBus, mediaStoreLimits, watchConnection } from "@t2v/common/channels";
import { readConfigOrExit } from "@t2v/common/config";
import { createLogger } from "@t2v/common/logger";
import { FATAL_EXIT_CODE, installFatalErrorPolicy, onShutdown } from "@t2v/common/process";
import { loadGenerator } from "./adapters/generator-engine.js";
import { start } from "./app.js";
import { inferenceConfig } from "./config.js";
import { telemetry } from "./instrumentation.js";

const config = readConfigOrExit("inference", inferenceConfig);
const workerId = config.workerId || `${hostname()}-${process.pid}`;
const log = createLogger("inference", config.logLevel).child({ worker_id: workerId });
installFatalErrorPolicy(log, "inference");

// Load and warm the model before taking work.
let generator = await loadGenerator(config);
log.info({ model: generator.info.name, provider: generator.info.executionProvider }, "model loaded");

const busOptions = { replicas: config.natsReplicas, storeLimits: mediaStoreLimits(config) };
const nc = await connectNats(config.natsUrl, `inference-${workerId}`, log, config);
const bus = await createNatsBus(nc, busOptions);
// Latents and checkpoints go over their own connection: see InferenceDeps.bulkBus.
const bulkNc = await connectNats(config.natsUrl, `inference-${workerId}-bulk`, log, config);
const bulkBus = await createNatsBus(bulkNc, busOptions);
const app = await start(
  { ...config, workerId },
  {
    bus,
    bulkBus,
    log,
    generator,
    // After the engine thread died: release what is left of it and load the model again.
    async restartGenerator() {
      await generator.close().catch(() => undefined);
      generator = await loadGenerator(config);
      log.info({ provider: generator.info.executionProvider }, "model loaded again");
      return generator;
    },
    probes: telemetry,
    // Every job is handed back by now; the supervisor (npm start, Kubernetes) starts a fresh process.
    onFatal: () => {
      const exit = (): never => process.exit(FATAL_EXIT_CODE);
      setTimeout(exit, 5_000); // the nak/ack flush must not wait on an unreachable NATS
      void Promise.allSettled([bus.close(), bulkBus.close()]).finally(exit);
    },
  },
);
telemetry.setReady(true);
// Ready while both connections are up.
const up = new Map([
  [nc, true],
  [bulkNc, true],
]);
for (const conn of up.keys())
  watchConnection(conn, (isUp) => {
    up.set(conn, isUp);
    telemetry.setReady([...up.values()].every(Boolean));
  });

onShutdown(log, async () => {
  telemetry.setReady(false);
  await app.stop();
  await generator.close();
  await Promise.all([bus.close(), bulkBus.close()]);
  await telemetry.shutdown();
});
