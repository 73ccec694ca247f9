import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "../gen/t2v/internal/v1/task_record_pb.js";
import { type UsageRecord, UsageRecordSchema } from "../gen/t2v/internal/v1/usage_pb.js";
import { usageFor, usageKey } from "../task/usage.js";
import type { BucketSpec, Bus } from "./bus/bus.js";
import { DAY_MS } from "./durations.js";
import { lazy } from "./lazy.js";

/** "<tenant>.<yyyymmdd>.<task_id>" -> UsageRecord, one per completed task; kept 400 days for billing audits. */
export const USAGE_BUCKET: BucketSpec = { name: "t2v_usage", ttlMs: 400 * DAY_MS, history: 1 };

export interface UsageLedger {
  /** Records a completed task's usage once; later calls for the same task change nothing. */
  record(r: TaskRecord): Promise<"written" | "exists">;
  /** A tenant's records completed in [since, until), oldest first. */
  list(tenantId: string, since: Date, until: Date): Promise<UsageRecord[]>;
}

export function usageLedger(bus: Bus): UsageLedger {
  const kv = lazy(() => bus.kv(USAGE_BUCKET));
  return {
    async record(r) {
      const u = usageFor(r);
      const key = usageKey(u.tenantId, u.completeTime ? timestampDate(u.completeTime) : new Date(), u.taskId);
      return (await (await kv()).create(key, toBinary(UsageRecordSchema, u))) === null ? "exists" : "written";
    },
    async list(tenantId, since, until) {
      const bucket = await kv();
      const from = usageKey(tenantId, since, "");
      const to = usageKey(tenantId, until, "");
      const keys = (await bucket.keys(`${tenantId}.>`)).filter((k) => k >= from && k < to).sort();
      const out: UsageRecord[] = [];
      for (const k of keys) {
        const e = await bucket.get(k);
        if (e) out.push(fromBinary(UsageRecordSchema, e.value));
      }
      return out;
    },
  };
}
