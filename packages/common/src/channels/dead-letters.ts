import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { type DeadLetter, DeadLetterSchema } from "../gen/t2v/internal/v1/scheduler_state_pb.js";
import type { TaskRecord } from "../gen/t2v/internal/v1/task_record_pb.js";
import type { BucketSpec, Bus } from "./bus/bus.js";
import { DAY_MS } from "./durations.js";
import { lazy } from "./lazy.js";

/** Task id -> DeadLetter: one per task that failed for good, for operators (`t2v dead-letters`). */
export const DEAD_LETTERS_BUCKET: BucketSpec = { name: "t2v_dead_letters", ttlMs: 30 * DAY_MS, history: 1 };

export interface DeadLetters {
  put(r: TaskRecord, stage: string): Promise<void>;
  /** Newest first. */
  list(): Promise<DeadLetter[]>;
}

export function deadLetters(bus: Bus): DeadLetters {
  const kv = lazy(() => bus.kv(DEAD_LETTERS_BUCKET));
  return {
    async put(r, stage) {
      const t = r.task;
      if (!t) return;
      const letter = create(DeadLetterSchema, {
        taskId: t.taskId,
        tenantId: r.tenantId,
        attempts: t.attempt,
        errorMessage: t.errorMessage,
        stage,
        failTime: timestampNow(),
      });
      await (await kv()).put(t.taskId, toBinary(DeadLetterSchema, letter));
    },
    async list() {
      const bucket = await kv();
      const found: DeadLetter[] = [];
      for (const k of await bucket.keys()) {
        const e = await bucket.get(k);
        if (e) found.push(fromBinary(DeadLetterSchema, e.value));
      }
      return found.sort((a, b) => b.taskId.localeCompare(a.taskId));
    },
  };
}
