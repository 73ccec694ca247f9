import "./instrumentation.js";
import { connectNats, createNatsBus, mediaStoreLimits, watchConnection } from "@t2v/common/channels";
import { readConfigOrExit } from "@t2v/common/config";
import { createLogger } from "@t2v/common/logger";
import { installFatalErrorPolicy, onShutdown } from "@t2v/common/process";
import { start } from "./app.js";
import { checkSchedulerConfig, replicaIdOf, schedulerConfig } from "./config.js";
import { telemetry } from "./instrumentation.js";

const config = readConfigOrExit("scheduler", schedulerConfig, process.env, checkSchedulerConfig);
const replicaId = replicaIdOf(config);
const log = createLogger("scheduler", config.logLevel).child({ replica: replicaId });
installFatalErrorPolicy(log, "scheduler");
const nc = await connectNats(config.natsUrl, `scheduler-${replicaId}`, log, config);
const bus = await createNatsBus(nc, { replicas: config.natsReplicas, storeLimits: mediaStoreLimits(config) });
const app = await start(config, { bus, log, replicaId });
telemetry.setReady(true);
watchConnection(nc, (up) => telemetry.setReady(up));

onShutdown(log, async () => {
  await app.stop();
  await bus.close();
  await telemetry.shutdown();
});
