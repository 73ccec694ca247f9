import { type AdmissionPlaces, admissionPlaces } from "./admission-places.js";
import { type AttemptClaims, attemptClaims } from "./attempt-claims.js";
import type { Bus } from "./bus/bus.js";
import { type Cancellations, cancellations } from "./cancellations.js";
import { type DailyTaskCounts, dailyTaskCounts } from "./daily-task-counts.js";
import { type DeadLetters, deadLetters } from "./dead-letters.js";
import { type DecodeJobs, decodeJobs } from "./decode-jobs.js";
import { type EstimatePushes, estimatePushes } from "./estimate-pushes.js";
import { type GenerateJobs, generateJobs } from "./generate-jobs.js";
import { type Previews, previews } from "./previews.js";
import { type QueueEstimates, queueEstimates } from "./queue-estimates.js";
import { type QueueStats, queueStats } from "./queue-stats.js";
import { type Submissions, submissions } from "./submissions.js";
import { type TaskChanges, taskChanges } from "./task-changes.js";
import { type TaskControls, taskControls } from "./task-controls.js";
import { type TaskStore, type TaskStoreOptions, taskStore } from "./task-store.js";
import { type UsageLedger, usageLedger } from "./usage-ledger.js";
import { type VideoBytes, videoBytes } from "./video-bytes.js";
import { type WorkerEvents, workerEvents } from "./worker-events.js";
import { type WorkerRegistry, workerRegistry } from "./worker-registry.js";

/**
 * Every message and record that crosses a process boundary, by what it is:
 * this is the mesh's data flow. Each channel owns its subjects, stream,
 * consumer or bucket, codec, message ids and timings; resources are opened
 * on first use.
 *
 *   gateway   -> submissions  -> scheduler -> generateJobs -> inference -> decodeJobs -> encoder
 *   inference, encoder -> attemptClaims (CAS, one run per attempt) -> inference, encoder
 *   inference, encoder -> workerEvents -> scheduler -> tasks (CAS) -> taskChanges -> webhooks
 *   gateway, scheduler -> cancellations -> inference, scheduler
 *   gateway (pause, resume, priority), scheduler (yield) -> taskControls -> scheduler, inference
 *   inference -> previews (core, per task, never stored) -> gateway (WatchTask)
 *   gateway   -> dailyTaskCounts (CAS, per tenant per UTC day) -> gateway
 *   gateway   -> admissionPlaces (CAS, per tenant: each replica's unseen submits) -> gateway
 *   scheduler (completed), gateway and scheduler (deleted) -> videoBytes (CAS, per tenant per UTC day) -> gateway
 *   gateway   -> queueEstimates (request/reply, per call) -> scheduler;  scheduler -> queueStats -> gateway
 *   gateway   -> estimatePushes (watched set) -> scheduler (every replica);  leader -> estimatePushes (changes) -> that gateway
 *   inference -> workerRegistry -> scheduler;  scheduler -> usage, deadLetters -> operators
 *
 * Which service may use which channel on NATS is `SERVICE_ACCESS` (../nats-access/service-access.ts):
 * a new channel, or a service using one more, goes there too, or that service's NATS user is refused.
 */
export interface Channels {
  readonly bus: Bus;
  readonly tasks: TaskStore;
  readonly submissions: Submissions;
  readonly generateJobs: GenerateJobs;
  readonly decodeJobs: DecodeJobs;
  readonly attemptClaims: AttemptClaims;
  readonly workerEvents: WorkerEvents;
  readonly cancellations: Cancellations;
  readonly taskControls: TaskControls;
  readonly taskChanges: TaskChanges;
  readonly queueEstimates: QueueEstimates;
  readonly estimatePushes: EstimatePushes;
  readonly queueStats: QueueStats;
  readonly workerRegistry: WorkerRegistry;
  readonly deadLetters: DeadLetters;
  readonly usage: UsageLedger;
  readonly dailyTaskCounts: DailyTaskCounts;
  readonly admissionPlaces: AdmissionPlaces;
  readonly videoBytes: VideoBytes;
  readonly previews: Previews;
}

export interface ChannelsOptions {
  /** Set by the owner of the task records' retention (the scheduler) only. */
  readonly tasks?: TaskStoreOptions;
}

export function channels(bus: Bus, opts: ChannelsOptions = {}): Channels {
  return {
    bus,
    tasks: taskStore(bus, opts.tasks),
    submissions: submissions(bus),
    generateJobs: generateJobs(bus),
    decodeJobs: decodeJobs(bus),
    attemptClaims: attemptClaims(bus),
    workerEvents: workerEvents(bus),
    cancellations: cancellations(bus),
    taskControls: taskControls(bus),
    taskChanges: taskChanges(bus),
    queueEstimates: queueEstimates(bus),
    estimatePushes: estimatePushes(bus),
    queueStats: queueStats(bus),
    workerRegistry: workerRegistry(bus),
    deadLetters: deadLetters(bus),
    usage: usageLedger(bus),
    dailyTaskCounts: dailyTaskCounts(bus),
    admissionPlaces: admissionPlaces(bus),
    videoBytes: videoBytes(bus),
    previews: previews(bus),
  };
}
