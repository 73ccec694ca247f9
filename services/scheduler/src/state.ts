import { timestampMs } from "@bufbuild/protobuf/wkt";
import { POOLS } from "@t2v/common";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { FairQueue } from "./domain/fair-queue.js";

export interface InFlight {
  tenantId: string;
  pool: string;
  /** Dispatched but not yet started, or started (denoising or encoding). */
  started: boolean;
}

/**
 * The leader's working memory: the queues, the tasks in flight and the
 * tasks with deadlines. Everything here can be rebuilt from the task records,
 * which stay the source of truth.
 */
export class SchedulerState {
  readonly queues = new Map<string, FairQueue>(POOLS.map((p) => [p, new FairQueue()]));
  readonly inFlight = new Map<string, InFlight>();
  readonly deadlines = new Map<string, number>();
  readonly meanRunSeconds = new Map<string, number>();
  /** Tenants whose queue stats changed since they were last written. */
  readonly dirtyTenants = new Set<string>();

  /** Files a record where it belongs; ended tasks are forgotten. */
  track(r: TaskRecord): void {
    const t = r.task;
    if (!t) return;
    const id = t.taskId;
    this.forget(id);
    if (t.deadline) this.deadlines.set(id, timestampMs(t.deadline));
    if (t.status === TaskStatus.QUEUED && r.dispatchedAttempt !== t.attempt) {
      this.queue(r.pool).add({
        taskId: id,
        tenantId: r.tenantId,
        pool: r.pool,
        enqueuedAt: t.createTime ? timestampMs(t.createTime) : Date.now(),
        notBefore: r.notBefore ? timestampMs(r.notBefore) : 0,
      });
    } else if (
      t.status === TaskStatus.QUEUED ||
      t.status === TaskStatus.PROCESSING ||
      t.status === TaskStatus.ENCODING
    ) {
      this.inFlight.set(id, { tenantId: r.tenantId, pool: r.pool, started: t.status !== TaskStatus.QUEUED });
    } else {
      this.deadlines.delete(id);
    }
    this.dirtyTenants.add(r.tenantId);
  }

  forget(taskId: string): void {
    for (const q of this.queues.values()) {
      const e = q.remove(taskId);
      if (e) this.dirtyTenants.add(e.tenantId);
    }
    const f = this.inFlight.get(taskId);
    if (f) this.dirtyTenants.add(f.tenantId);
    this.inFlight.delete(taskId);
    this.deadlines.delete(taskId);
  }

  queue(pool: string): FairQueue {
    let q = this.queues.get(pool);
    if (!q) {
      q = new FairQueue();
      this.queues.set(pool, q);
    }
    return q;
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
}
