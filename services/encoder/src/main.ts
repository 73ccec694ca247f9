import "./instrumentation.js";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { connectNats, createNatsBus, mediaStoreLimits, watchConnection } from "@t2v/common/channels";
import { readConfigOrExit } from "@t2v/common/config";
import { createLogger } from "@t2v/common/logger";
import { FATAL_EXIT_CODE, installFatalErrorPolicy, onShutdown } from "@t2v/common/process";
import { startDecoder } from "@t2v/model";
import { start } from "./app.js";
import { encoderConfig } from "./config.js";
import { telemetry } from "./instrumentation.js";

const config = readConfigOrExit("encoder", encoderConfig);
const workerId = config.workerId || `${hostname()}-${process.pid}`;
const log = createLogger("encoder", config.logLevel).child({ worker_id: workerId });
installFatalErrorPolicy(log, "encoder");

const loadDecoder = () =>
  startDecoder({
    modelDir: config.modelDir,
    executionProviders: config.executionProviders,
    ...(config.intraOpThreads > 0 ? { intraOpThreads: config.intraOpThreads } : {}),
  });
let decoder = await loadDecoder();
log.info({ model: decoder.info.name, provider: decoder.info.executionProvider }, "VAE decoder loaded");

const nc = await connectNats(config.natsUrl, `encoder-${workerId}`, log, config);
const bus = await createNatsBus(nc, { replicas: config.natsReplicas, storeLimits: mediaStoreLimits(config) });
const tmpDir = await mkdtemp(join(tmpdir(), "t2v-encoder-"));
const app = await start(
  { ...config, workerId },
  {
    bus,
    log,
    decoder,
    ffmpegPath: config.ffmpegPath,
    tmpDir,
    // After the engine thread died: release what is left of it and load the decoder again.
    async restartDecoder() {
      await decoder.close().catch(() => undefined);
      decoder = await loadDecoder();
      log.info({ provider: decoder.info.executionProvider }, "VAE decoder loaded again");
      return decoder;
    },
    probes: telemetry,
    // The job is handed back by now; the supervisor (npm start, Kubernetes) starts a fresh process.
    onFatal: () => {
      const exit = (): never => process.exit(FATAL_EXIT_CODE);
      setTimeout(exit, 5_000); // the nak flush must not wait on an unreachable NATS
      void Promise.allSettled([bus.close(), rm(tmpDir, { recursive: true, force: true })]).finally(exit);
    },
  },
);
telemetry.setReady(true);
watchConnection(nc, (up) => telemetry.setReady(up));

onShutdown(log, async () => {
  telemetry.setReady(false);
  await app.stop();
  await decoder.close();
  await bus.close();
  await rm(tmpDir, { recursive: true, force: true });
  await telemetry.shutdown();
});
