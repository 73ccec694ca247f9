import { randomInt } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { connectNats, createLogger, onShutdown, openStores, readConfigOrExit } from "@t2v/common";
import { gatewayConfig } from "./config.js";
import { buildGateway } from "./server.js";

const config = readConfigOrExit("gateway", gatewayConfig);
const log = createLogger("gateway", config.logLevel);
const nc = await connectNats(config.natsUrl, "gateway", log);
const stores = await openStores(nc, { videoTtlHours: config.videoTtlHours });
let serving = true;

const gateway = buildGateway({
  tasks: stores.tasks,
  videos: stores.videos,
  js: jetstream(nc),
  nc,
  publicBaseUrl: config.publicBaseUrl || `http://127.0.0.1:${config.port}`,
  log,
  randomSeed: () => randomInt(0, 2_147_483_647),
  isReady: () => serving && !nc.isClosed(),
});

gateway.server.listen(config.port, config.host, () => log.info({ port: config.port }, "gateway listening"));

onShutdown(log, async () => {
  serving = false;
  await gateway.close();
  await nc.drain();
});
