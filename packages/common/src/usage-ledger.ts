import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampNow } from "@bufbuild/protobuf/wkt";
import type { KV } from "@nats-io/kv";
import type { TaskRecord } from "./gen/t2v/internal/v1/task_record_pb.js";
import { type UsageRecord, UsageRecordSchema } from "./gen/t2v/internal/v1/usage_pb.js";

/** Key of a usage record: tenant first, then day, so a tenant's period is one key filter. */
export function usageKey(tenantId: string, completedAt: Date, taskId: string): string {
  const day = completedAt.toISOString().slice(0, 10).replaceAll("-", "");
  return `${tenantId}.${day}.${taskId}`;
}

/** The usage record of a completed task. Pure. */
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

export interface UsageLedger {
  /** Records a completed task's usage once; later calls for the same task change nothing. */
  record(r: TaskRecord): Promise<"written" | "exists">;
  /** A tenant's records completed in [since, until), oldest first. */
  list(tenantId: string, since: Date, until: Date): Promise<UsageRecord[]>;
}

export function createUsageLedger(kv: KV): UsageLedger {
  return {
    async record(r) {
      const u = usageFor(r);
      const key = usageKey(u.tenantId, u.completeTime ? timestampDate(u.completeTime) : new Date(), u.taskId);
      try {
        await kv.create(key, toBinary(UsageRecordSchema, u));
        return "written";
      } catch (err) {
        if (/wrong last sequence|key exists/i.test(String(err))) return "exists";
        throw err;
      }
    },
    async list(tenantId, since, until) {
      const from = usageKey(tenantId, since, "");
      const to = usageKey(tenantId, until, "");
      const keys: string[] = [];
      for await (const k of await kv.keys(`${tenantId}.>`)) if (k >= from && k < to) keys.push(k);
      keys.sort();
      const out: UsageRecord[] = [];
      for (const k of keys) {
        const e = await kv.get(k);
        if (e?.operation === "PUT") out.push(fromBinary(UsageRecordSchema, e.value));
      }
      return out;
    },
  };
}
