import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { KV } from "@nats-io/kv";
import { TenantQueueStatsSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import {
  type CachedResult,
  CachedResultSchema,
  DeadLetterSchema,
} from "@t2v/common/gen/t2v/internal/v1/scheduler_state_pb";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";

/** Result cache: cache key -> where the finished video of an identical request is. */
export function createResultCache(kv: KV) {
  return {
    async get(key: string): Promise<CachedResult | null> {
      const e = key === "" ? null : await kv.get(key);
      return e && e.operation === "PUT" ? fromBinary(CachedResultSchema, e.value) : null;
    },
    async put(key: string, r: TaskRecord): Promise<void> {
      await kv.put(
        key,
        toBinary(
          CachedResultSchema,
          create(CachedResultSchema, {
            taskId: r.task?.taskId ?? "",
            videoObject: r.videoObject,
            posterObject: r.posterObject,
            videoSizeBytes: r.videoSizeBytes,
            model: r.model,
            createTime: timestampNow(),
          }),
        ),
      );
    },
  };
}
export type ResultCache = ReturnType<typeof createResultCache>;

/** Dead letters: one per task that failed for good, for operators. */
export function createDeadLetters(kv: KV) {
  return async (r: TaskRecord, stage: string): Promise<void> => {
    const t = r.task;
    if (!t) return;
    await kv.put(
      t.taskId,
      toBinary(
        DeadLetterSchema,
        create(DeadLetterSchema, {
          taskId: t.taskId,
          tenantId: r.tenantId,
          attempts: t.attempt,
          errorMessage: t.errorMessage,
          stage,
          failTime: timestampNow(),
        }),
      ),
    );
  };
}
export type PutDeadLetter = ReturnType<typeof createDeadLetters>;

/** Per-tenant queue depth for the gateway's admission control. */
export function createStatsWriter(kv: KV) {
  return async (tenantId: string, queued: number, running: number): Promise<void> => {
    await kv.put(
      tenantId,
      toBinary(
        TenantQueueStatsSchema,
        create(TenantQueueStatsSchema, { tenantId, queued, running, updateTime: timestampNow() }),
      ),
    );
  };
}
