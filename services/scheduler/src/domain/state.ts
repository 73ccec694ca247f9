import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { TIERS } from "@t2v/common/task";
import { estimateGpuSeconds, type TaskSizeInput, workUnits } from "./estimate-gpu.js";
import { updateMean } from "./estimate-wait.js";
import { FairQueue, type QueueEntry } from "./fair-queue.js";
import type { GroupWork } from "./preemption-policy.js";

export interface InFlight {
  tenantId: string;
  pool: string;
  /** Dispatched but not yet started, or started (denoising or encoding). */
  started: boolean;
  /** Denoising on a worker (PROCESSING): the worker is taken. Encoding frees it. */
  denoising: boolean;
  /** The worker group the attempt was dispatched to. */
  group: string;
  attempt: number;
  /** When this leader first saw this attempt denoising (ms); 0 until then. */
  runningSince: number;
  remainingSteps: number;
  /** When it was asked to yield its worker (preemption), ms; 0: not asked. Cleared with the attempt. */
  yieldingSince: number;
}

/**
 * The leader's working memory: the queues, the tasks in flight and the
 * tasks with deadlines. Everything here can be rebuilt from the task records,
 * which stay the source of truth. Pure: no I/O.
 */
export class SchedulerState {
  readonly queues = new Map<string, FairQueue>(TIERS.map((p) => [p, new FairQueue()]));
  readonly inFlight = new Map<string, InFlight>();
  readonly deadlines = new Map<string, number>();
  private readonly meanRunSeconds = new Map<string, number>();
  /** Per pool: measured gpu seconds per work unit (estimate-gpu.ts). */
  private readonly secondsPerUnit = new Map<string, number>();
  /** The model's default steps, as workers last reported them. */
  private defaultSteps: number | undefined;
  /** Tenants whose queue stats changed since they were last taken. */
  private readonly dirtyTenants = new Set<string>();

  /** Files a record where it belongs; ended tasks are forgotten. */
  track(r: TaskRecord, now = Date.now()): void {
    const t = r.task;
    if (!t) return;
    const id = t.taskId;
    const prev = this.inFlight.get(id);
    const queued = t.status === TaskStatus.QUEUED && r.dispatchedAttempt !== t.attempt;
    // A task queued already stays in its queue (re-sorted by add), so its tenant keeps its turn.
    this.forget(id, queued && this.queues.get(r.pool)?.has(id) ? r.pool : undefined);
    if (t.deadline) this.deadlines.set(id, timestampMs(t.deadline));
    // A start deadline matters until the task starts; the reconciler watches it like a deadline.
    else if (t.startDeadline && !t.startTime) this.deadlines.set(id, timestampMs(t.startDeadline));
    if (queued) {
      this.queue(r.pool).add({
        taskId: id,
        tenantId: r.tenantId,
        pool: r.pool,
        enqueuedAt: t.createTime ? timestampMs(t.createTime) : now,
        notBefore: r.notBefore ? timestampMs(r.notBefore) : 0,
        priority: t.priority,
      });
    } else if (
      t.status === TaskStatus.QUEUED ||
      t.status === TaskStatus.PROCESSING ||
      t.status === TaskStatus.ENCODING
    ) {
      const denoising = t.status === TaskStatus.PROCESSING;
      const same = prev?.attempt === t.attempt ? prev : undefined;
      this.inFlight.set(id, {
        tenantId: r.tenantId,
        pool: r.pool,
        started: t.status !== TaskStatus.QUEUED,
        denoising,
        group: r.dispatchedGroup,
        attempt: t.attempt,
        runningSince: denoising ? same?.runningSince || now : 0,
        remainingSteps: Math.max(0, t.totalSteps - t.currentStep),
        yieldingSince: same?.yieldingSince ?? 0,
      });
    } else if (t.status === TaskStatus.PAUSED) {
      // Neither queued nor running: the reconciler watches when its pause runs out.
      const expires = t.pauseExpireTime ? timestampMs(t.pauseExpireTime) : undefined;
      const d = this.deadlines.get(id);
      if (expires !== undefined) this.deadlines.set(id, d === undefined ? expires : Math.min(d, expires));
    } else {
      this.deadlines.delete(id);
    }
    this.dirtyTenants.add(r.tenantId);
  }

  /** Drops the task from the queues (but `keepPool`'s), the tasks in flight and the deadlines. */
  forget(taskId: string, keepPool?: string): void {
    for (const [pool, q] of this.queues) {
      if (pool === keepPool) continue;
      const e = q.remove(taskId);
      if (e) this.dirtyTenants.add(e.tenantId);
    }
    const f = this.inFlight.get(taskId);
    if (f) this.dirtyTenants.add(f.tenantId);
    this.inFlight.delete(taskId);
    this.deadlines.delete(taskId);
  }

  /**
   * The group's dispatched and denoising tasks, for the preemption policy. A yield asked for
   * more than `answerMs` ago counts as lost (a missed broadcast, a dead worker): it may be asked again.
   */
  groupWork(group: string, now: number, answerMs: number): GroupWork[] {
    const out: GroupWork[] = [];
    for (const [taskId, f] of this.inFlight) {
      if (f.group !== group || (f.started && !f.denoising)) continue;
      out.push({
        taskId,
        attempt: f.attempt,
        pool: f.pool,
        started: f.denoising,
        remainingSteps: f.remainingSteps,
        runningSince: f.runningSince,
        yielding: f.yieldingSince > 0 && now - f.yieldingSince < answerMs,
      });
    }
    return out;
  }

  /** The task's current attempt was asked to yield; the group waits for its answer. */
  markYielding(taskId: string, now: number): void {
    const f = this.inFlight.get(taskId);
    if (f) f.yieldingSince = now;
  }

  /** Takes an entry chosen by pickNext out of its queue, to be dispatched. */
  take(entry: QueueEntry): void {
    this.queue(entry.pool).take(entry.taskId);
    this.dirtyTenants.add(entry.tenantId);
  }

  /** Puts back an entry taken for dispatch that could not be dispatched, in its place (its enqueue time). */
  putBack(entry: QueueEntry): void {
    if (this.knows(entry.taskId)) return;
    this.queue(entry.pool).add(entry);
    this.dirtyTenants.add(entry.tenantId);
  }

  queue(pool: string): FairQueue {
    let q = this.queues.get(pool);
    if (!q) {
      q = new FairQueue();
      this.queues.set(pool, q);
    }
    return q;
  }

  /** True when the task is queued or in flight in this term. */
  knows(taskId: string): boolean {
    return this.inFlight.has(taskId) || this.poolOf(taskId) !== undefined;
  }

  /** The pool whose queue holds the task, if it is queued. */
  poolOf(taskId: string): string | undefined {
    for (const [pool, q] of this.queues) if (q.has(taskId)) return pool;
    return undefined;
  }

  /** Tasks the reconciler watches: in flight, or with a deadline. */
  watchedIds(): string[] {
    return [...new Set([...this.inFlight.keys(), ...this.deadlines.keys()])];
  }

  counts(tenantId: string): { queued: number; running: number } {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.sizeOf(tenantId);
    let running = 0;
    for (const f of this.inFlight.values()) if (f.tenantId === tenantId) running++;
    return { queued, running };
  }

  runningIn(pools: readonly string[]): number {
    let n = 0;
    for (const f of this.inFlight.values()) if (pools.includes(f.pool)) n++;
    return n;
  }

  /** Feeds one measured run time (denoise to video ready) into the pool's mean. */
  recordRunSeconds(pool: string, seconds: number): void {
    this.meanRunSeconds.set(pool, updateMean(this.meanRunSeconds.get(pool), seconds));
  }

  meanRunSecondsOf(pool: string): number | undefined {
    return this.meanRunSeconds.get(pool);
  }

  /** Feeds one completed task's billed gpu seconds and size (steps as run) into the pool's calibration. */
  recordGpuSeconds(pool: string, gpuSeconds: number, size: TaskSizeInput): void {
    const units = workUnits(size, this.defaultSteps ?? size.steps);
    if (!(gpuSeconds > 0) || !(units > 0)) return;
    this.secondsPerUnit.set(pool, updateMean(this.secondsPerUnit.get(pool), gpuSeconds / units));
  }

  /** What a worker reported as the model's default steps (a started task that asked for none). */
  learnDefaultSteps(steps: number): void {
    if (steps > 0) this.defaultSteps = steps;
  }

  estimateGpuSecondsOf(pool: string, size: TaskSizeInput, defaultRunSeconds: number): number {
    return estimateGpuSeconds(size, {
      secondsPerUnit: this.secondsPerUnit.get(pool),
      defaultSteps: this.defaultSteps,
      defaultRunSeconds,
    });
  }

  /** The tenants whose queue stats changed since the last call; the set starts empty again. */
  takeDirtyTenants(): string[] {
    const tenants = [...this.dirtyTenants];
    this.dirtyTenants.clear();
    return tenants;
  }

  /** Asks for a tenant's stats to be written again (after a failed write). */
  markDirty(tenantId: string): void {
    this.dirtyTenants.add(tenantId);
  }
}
