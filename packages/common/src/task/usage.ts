import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "../gen/t2v/internal/v1/task_record_pb.js";
import { type UsageRecord, UsageRecordSchema } from "../gen/t2v/internal/v1/usage_pb.js";

/** Key of a usage record: tenant first, then day, so a tenant's period is one key filter. */
export function usageKey(tenantId: string, completedAt: Date, taskId: string): string {
  const day = completedAt.toISOString().slice(0, 10).replaceAll("-", "");
  return `${tenantId}.${day}.${taskId}`;
}

/** The usage record of a completed task: cache hits are recorded but not billed. */
export function usageFor(r: TaskRecord): UsageRecord {
  const t = r.task;
  const p = t?.params;
  return create(UsageRecordSchema, {
    taskId: t?.taskId ?? "",
    tenantId: r.tenantId,
    model: r.model,
    resolution: p?.resolution ?? "",
    durationSeconds: p?.duration ?? 0,
    frames: p?.numFrames ?? 0,
    steps: t?.cacheHit ? 0 : (t?.totalSteps ?? 0),
    gpuSeconds: t?.cacheHit ? 0 : r.gpuSeconds,
    cacheHit: t?.cacheHit ?? false,
    billable: !t?.cacheHit,
    tier: t?.tier ?? "",
    completeTime: t?.finishTime ?? timestampNow(),
  });
}
