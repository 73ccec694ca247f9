import {
  type BlobStore,
  type Channels,
  channels,
  createMemoryBus,
  type Delivery,
  type Inbox,
  type MemoryBus,
  openMediaStores,
  type WorkerEventBody,
} from "@t2v/common/channels";
import { readConfig } from "@t2v/common/config";
import type { GenerateJob } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { endTask, type Tier, workerGroup } from "@t2v/common/task";
import { type QueuedTask, submitQueuedTask } from "@t2v/common/testing/queued-task";
import { type SchedulerApp, type SchedulerDeps, start } from "../app.js";
import { type SchedulerConfig, schedulerConfig } from "../config.js";
import { waitUntil } from "./wait-until.js";

/**
 * Timings short enough for in-process tests, read through the schema like
 * the environment (so they stay within its bounds). No prefetch: a group gets
 * exactly one job per free worker, which makes dispatch order observable.
 */
export const FAST_ENV: Record<string, string> = {
  LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
  LEADER_LEASE_MS: "1000",
  RECONCILE_INTERVAL_MS: "100",
  SWEEP_INTERVAL_MS: "200",
  RETRY_BASE_DELAY_MS: "50",
  RETRY_MAX_DELAY_MS: "200",
  DISPATCH_PREFETCH: "0",
};

export function testConfig(env: Record<string, string> = {}): SchedulerConfig {
  return readConfig(schedulerConfig, { ...FAST_ENV, ...env });
}

/** A task of tenant-a in the standard pool unless told otherwise. */
export interface SubmitOptions extends Partial<QueuedTask> {
  pool?: Tier;
  /** Write the record only, as if the submission message had been lost. */
  loseSubmission?: boolean;
}

/** An inference worker as the scheduler sees it: a heartbeat, its group's job inbox, the events it reports. */
export interface FakeWorker {
  readonly group: string;
  /** The next job dispatched to the group, or null when none comes within `timeoutMs`. */
  nextJob(timeoutMs?: number): Promise<Delivery<GenerateJob> | null>;
  report(taskId: string, attempt: number, event: WorkerEventBody): Promise<void>;
}

/** One memory bus with the gateway's and the workers' side of the channels, and the schedulers under test. */
export interface SchedulerHarness {
  readonly bus: MemoryBus;
  readonly ch: Channels;
  readonly videos: BlobStore;
  readonly config: SchedulerConfig;
  startScheduler(deps?: Partial<SchedulerDeps>): Promise<SchedulerApp>;
  /** Writes the task record and publishes its submission, as the gateway does. */
  submit(o?: SubmitOptions): Promise<string>;
  /** Ends the record and broadcasts the cancel, as the gateway does. */
  cancel(taskId: string): Promise<void>;
  record(taskId: string): Promise<TaskRecord>;
  waitFor(taskId: string, done: (r: TaskRecord) => boolean, what: string, timeoutMs?: number): Promise<TaskRecord>;
  /** Resolves once every worker event published so far has been applied and acknowledged. */
  eventsApplied(): Promise<void>;
  /**
   * Submits a task, runs its job on `w` to the end (with a stored video, so the
   * result cache can reuse it) and waits until the scheduler applied it all.
   */
  completeThroughWorker(w: FakeWorker, o?: SubmitOptions): Promise<string>;
  worker(pools: Tier[], workerId?: string): Promise<FakeWorker>;
  close(): Promise<void>;
}

export async function createSchedulerHarness(env: Record<string, string> = {}): Promise<SchedulerHarness> {
  const bus = createMemoryBus();
  const ch = channels(bus);
  const config = testConfig(env);
  const { videos } = await openMediaStores(bus, { videoTtlHours: config.videoTtlHours });
  const apps: SchedulerApp[] = [];
  const log = createLogger("scheduler", config.logLevel);

  const record = async (taskId: string): Promise<TaskRecord> => {
    const s = await ch.tasks.get(taskId);
    if (!s) throw new Error(`no task ${taskId}`);
    return s.record;
  };

  const harness: SchedulerHarness = {
    bus,
    ch,
    videos,
    config,
    async startScheduler(deps = {}) {
      const app = await start(config, { bus, log, replicaId: `scheduler-${apps.length + 1}`, ...deps });
      apps.push(app);
      return app;
    },
    submit: (o = {}) => submitQueuedTask(ch, { ...o, tenant: o.tenant ?? "tenant-a" }),
    async cancel(taskId) {
      await ch.tasks.update(taskId, (r) => endTask(r, TaskStatus.CANCELLED));
      ch.cancellations.broadcast(taskId);
    },
    record,
    waitFor: (taskId, done, what, timeoutMs) => waitUntil(() => record(taskId), done, what, timeoutMs),
    async eventsApplied() {
      await waitUntil(
        async () => bus.streamMessages("T2V_EVENTS").length,
        (n) => n === 0,
        "events",
      );
    },
    async completeThroughWorker(w, o) {
      const id = await harness.submit(o);
      const job = await w.nextJob();
      if (!job) throw new Error(`no job for ${id}`);
      job.ack();
      await videos.put(`${id}.mp4`, new Uint8Array([1, 2, 3]));
      await runJob(w, job.message);
      await harness.waitFor(id, (x) => x.task?.status === TaskStatus.COMPLETED, `${id} completed`);
      await harness.eventsApplied();
      return id;
    },
    async worker(pools, workerId = `worker-${pools.join("-")}`) {
      const group = workerGroup(pools);
      const inbox: Inbox<GenerateJob> = await ch.generateJobs.inbox(group);
      await ch.workerRegistry.beat({
        workerId,
        group,
        pools,
        model: "wan-tiny@1",
        executionProvider: "cpu",
        busyTaskId: "",
      });
      const publish = ch.workerEvents.publisher(workerId);
      return {
        group,
        nextJob: (timeoutMs = 5_000) => inbox.next(timeoutMs),
        report: (taskId, attempt, event) => publish(taskId, attempt, event),
      };
    },
    async close() {
      // Abort the terms first, then close the bus so their consumers stop waiting for messages.
      const stopping = apps.map((a) => a.stop());
      await bus.close();
      await Promise.all(stopping);
    },
  };
  return harness;
}

/** A worker running a job to the end: started, two steps, denoised, video ready. */
export async function runJob(w: FakeWorker, job: GenerateJob, videoObject = `${job.taskId}.mp4`): Promise<void> {
  const { taskId, attempt } = job;
  await w.report(taskId, attempt, { case: "started", value: { executionProvider: "cpu", totalSteps: 2 } });
  await w.report(taskId, attempt, { case: "step", value: { step: 1, totalSteps: 2, stepSeconds: 0.1 } });
  await w.report(taskId, attempt, { case: "step", value: { step: 2, totalSteps: 2, stepSeconds: 0.1 } });
  await w.report(taskId, attempt, {
    case: "denoised",
    value: { latentObject: `${taskId}.${attempt}`, denoiseSeconds: 0.2 },
  });
  await w.report(taskId, attempt, {
    case: "videoReady",
    value: { videoObject, sizeBytes: 10n, frames: 72, decodeSeconds: 0.1, encodeSeconds: 0.1 },
  });
}
