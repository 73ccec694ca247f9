import {
  type Bus,
  CHECKPOINTS_STORE,
  channels,
  claimHolder,
  generateConsumer,
  openMediaStores,
} from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import { createEngineSupervisor, type RetryOptions } from "@t2v/common/process";
import { workerGroup } from "@t2v/common/task";
import { createCheckpointStore } from "./adapters/checkpoint-store.js";
import type { GeneratorEngine } from "./adapters/generator-engine.js";
import { startHeartbeat } from "./adapters/heartbeat.js";
import { readSamplerSettings, type SamplerSettings } from "./adapters/sampler-settings.js";
import { supervisedGenerator } from "./adapters/supervised-generator.js";
import type { InferenceConfig } from "./config.js";
import { listenForCancellations } from "./entry-points/cancel-listener.js";
import { createGenerateConsumer } from "./entry-points/generate-consumer.js";
import { workLoop } from "./entry-points/work-loop.js";
import { createInferenceMetrics } from "./metrics.js";
import { createGenerateVideo } from "./use-cases/generate-video.js";
import { createJobPreparer } from "./use-cases/prepare-job.js";

export interface InferenceDeps {
  bus: Bus;
  /**
   * Where latents and checkpoints are written: in main.ts a second NATS connection, so a clip's
   * upload (megabytes, after its denoise) does not queue the next task's record read, claim and
   * checkpoint lookup behind it on one socket. `bus` when not given.
   */
  bulkBus?: Bus;
  log: Logger;
  /** Loaded and warmed by the caller, which also closes it. */
  generator: GeneratorEngine;
  /**
   * Loads a fresh engine after the current one's thread died (main.ts closes the dead one and
   * loads the model again; the caller owns and closes what it returns). Without it a lost
   * engine is fatal at once.
   */
  restartGenerator?: () => Promise<GeneratorEngine>;
  /** The sampler settings tasks report; read from the manifest in `MODEL_DIR` by default. */
  sampler?: SamplerSettings;
  /** The ops port's probes (`telemetry` in main.ts): set not ready and not live when the engine is lost for good. */
  probes?: Probes;
  /**
   * Called once the engine is lost for good and every job was handed back: main.ts exits
   * non-zero so the supervisor restarts the process. A test observes it instead.
   */
  onFatal?: (err: unknown) => void;
  /** Backoff of writes through an outage (tests shorten it). */
  retry?: Omit<RetryOptions, "log" | "what" | "signal">;
}

export interface Probes {
  setReady(ready: boolean): void;
  setLive(live: boolean): void;
}

export interface InferenceApp {
  /** Hands the held and the running job back (or lets it finish its upload), then leaves the registry. */
  stop(): Promise<void>;
}

/**
 * The inference worker on a bus: one task denoising at a time, from its
 * group's consumer (the scheduler decides which pool's work comes next); the
 * next job is held, its text encoded and its noise drawn meanwhile. `config.workerId` must be
 * set (main.ts defaults it to host name and pid).
 */
export async function start(config: InferenceConfig, deps: InferenceDeps): Promise<InferenceApp> {
  const { bus, log } = deps;
  const ch = channels(bus);
  const group = workerGroup(config.pools);
  const stopping = new AbortController();
  let fatal: Promise<void> | undefined;
  const supervisor = createEngineSupervisor<GeneratorEngine>({
    initial: deps.generator,
    restart: deps.restartGenerator ?? (() => Promise.reject(new Error("no engine restart configured"))),
    log,
    onFatal: (err) => {
      deps.probes?.setReady(false);
      deps.probes?.setLive(false);
      // The loop sees ready() false, hands its held job back and ends; then the process may go.
      fatal ??= teardown().then(() => deps.onFatal?.(err));
    },
  });
  const generator = supervisedGenerator(supervisor);
  // Reported in every task's effective request; a package that cannot be read reports none.
  const sampler =
    deps.sampler ??
    (await readSamplerSettings(config.modelDir).catch((err: unknown) => {
      log.warn({ err }, "sampler settings not read from the model package");
      return undefined;
    }));
  const metrics = createInferenceMetrics(generator.info.executionProvider);
  const bulk = deps.bulkBus ?? bus;
  const [{ latents }, checkpointReads, checkpointWrites] = await Promise.all([
    openMediaStores(bulk, { videoTtlHours: config.videoTtlHours }),
    bus.blobs(CHECKPOINTS_STORE),
    bulk.blobs(CHECKPOINTS_STORE),
  ]);
  // A checkpoint is looked up as a task starts (on the control connection) and written while it runs.
  const checkpointBlobs = {
    get: (name: string) => checkpointReads.get(name),
    delete: (name: string) => checkpointReads.delete(name),
    put: (name: string, data: Uint8Array) => checkpointWrites.put(name, data),
  };
  const checkpointStore = createCheckpointStore(checkpointBlobs, {
    written(seconds, bytes) {
      metrics.checkpointWrite.record(seconds);
      metrics.checkpointBytes.record(bytes);
    },
    read: (seconds) => metrics.checkpointRead.record(seconds),
  });
  const inbox = await ch.generateJobs.inbox(group);

  let busyTask = "";
  const heartbeat = startHeartbeat(
    ch.workerRegistry,
    {
      workerId: config.workerId,
      group,
      pools: config.pools,
      model: `${generator.info.name}@${generator.info.version}`,
      executionProvider: generator.info.executionProvider,
    },
    () => busyTask,
    log,
  );
  const running = listenForCancellations(ch.cancellations, ch.taskControls);
  const publishEvent = ch.workerEvents.publisher(config.workerId);
  const handle = createGenerateConsumer({
    tasks: ch.tasks,
    claims: ch.attemptClaims,
    holder: claimHolder(config.workerId),
    leaseMs: generateConsumer(group).ackWaitMs,
    publishEvent,
    generateVideo: createGenerateVideo({
      generator,
      latents,
      decodeJobs: ch.decodeJobs,
      publishEvent,
      metrics,
      previews: ch.previews,
      ...(sampler ? { sampler } : {}),
      checkpoints: {
        store: checkpointStore,
        cadence: { everySteps: config.checkpointEverySteps, everySeconds: config.checkpointEverySeconds },
        onResumed: (steps) => metrics.resumedSteps.add(steps),
        onWriteFailed: () => metrics.checkpointWriteFailures.add(1),
      },
      shutdown: stopping.signal,
      ...(deps.retry ? { retry: deps.retry } : {}),
    }),
    running,
    shutdown: stopping.signal,
    log,
    ...(deps.retry ? { retry: deps.retry } : {}),
    onBusy: (taskId) => {
      busyTask = taskId;
      metrics.busy(taskId !== "");
      void heartbeat.beat();
    },
  });
  const prepare = createJobPreparer(generator, log);
  const loop = workLoop(inbox, handle, {
    signal: stopping.signal,
    log,
    pipeline: config.pipelineNextTask,
    prepare: (d) => prepare(d.message),
    ready: () => supervisor.ready(),
  });
  log.info({ pools: config.pools, group, pipeline: config.pipelineNextTask }, "inference worker running");

  let stopped: Promise<void> | undefined;
  const teardown = (): Promise<void> => {
    stopped ??= loop.then(async () => {
      running.close();
      await heartbeat.stop();
    });
    return stopped;
  };
  return {
    async stop() {
      stopping.abort(new Error("shutdown"));
      await teardown();
      await fatal;
    },
  };
}
