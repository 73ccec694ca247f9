import "./instrumentation.js";
import { connectNats, createNatsBus, mediaStoreLimits, watchConnection } from "@t2v/common/channels";
import { readConfigOrExit } from "@t2v/common/config";
import { createLogger } from "@t2v/common/logger";
import { installFatalErrorPolicy, onShutdown } from "@t2v/common/process";
import { start } from "./app.js";
import { gatewayConfig } from "./config.js";
import { telemetry } from "./instrumentation.js";

const config = readConfigOrExit("gateway", gatewayConfig);
const log = createLogger("gateway", config.logLevel);
installFatalErrorPolicy(log, "gateway");
const nc = await connectNats(config.natsUrl, "gateway", log, config);
const bus = await createNatsBus(nc, { replicas: config.natsReplicas, storeLimits: mediaStoreLimits(config) });
const gateway = await start(config, { bus, log });
telemetry.setReady(true);

let stopping = false;
watchConnection(nc, (up) => {
  if (stopping) return;
  gateway.health.set(up);
  telemetry.setReady(up);
});

onShutdown(log, async () => {
  stopping = true;
  telemetry.setReady(false);
  await gateway.stop();
  await bus.close();
  await telemetry.shutdown();
});
