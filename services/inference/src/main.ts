import "./instrumentation.js";
import { hostname } from "node:os";
import { connectNats, createNatsBus, watchConnection } from "@t2v/common/channels";
import { readConfigOrExit } from "@t2v/common/config";
import { createLogger } from "@t2v/common/logger";
import { onShutdown } from "@t2v/common/process";
import { loadGenerator } from "./adapters/generator-engine.js";
import { start } from "./app.js";
import { inferenceConfig } from "./config.js";
import { telemetry } from "./instrumentation.js";

const config = readConfigOrExit("inference", inferenceConfig);
const workerId = config.workerId || `${hostname()}-${process.pid}`;
const log = createLogger("inference", config.logLevel).child({ worker_id: workerId });

// Load and warm the model before taking work.
const generator = await loadGenerator(config);
log.info({ model: generator.info.name, provider: generator.info.executionProvider }, "model loaded");

const nc = await connectNats(config.natsUrl, `inference-${workerId}`, log);
const bus = await createNatsBus(nc);
const app = await start({ ...config, workerId }, { bus, log, generator });
telemetry.setReady(true);
watchConnection(nc, (up) => telemetry.setReady(up));

onShutdown(log, async () => {
  telemetry.setReady(false);
  await app.stop();
  await generator.close();
  await bus.close();
  await telemetry.shutdown();
});
