import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampMs, timestampNow } from "@bufbuild/protobuf/wkt";
import { type WorkerHeartbeat, WorkerHeartbeatSchema } from "../gen/t2v/internal/v1/scheduler_state_pb.js";
import type { BucketSpec, Bus } from "./bus/bus.js";
import { lazy } from "./lazy.js";

/** Worker id -> WorkerHeartbeat; an entry expires when its worker stops writing. */
export const WORKERS_BUCKET: BucketSpec = { name: "t2v_workers", ttlMs: 30_000, history: 1 };

/** How often a worker writes its heartbeat. */
export const HEARTBEAT_EVERY_MS = 3_000;

/** Workers serving the same pools, counted from fresh heartbeats. */
export interface WorkerGroup {
  group: string;
  pools: string[];
  workers: number;
}

export type HeartbeatInfo = Omit<WorkerHeartbeat, "$typeName" | "$unknown" | "updateTime">;

export interface WorkerRegistry {
  beat(info: HeartbeatInfo): Promise<void>;
  remove(workerId: string): Promise<void>;
  /** Groups with a heartbeat newer than `freshMs`. */
  liveGroups(freshMs: number, now?: number): Promise<WorkerGroup[]>;
}

export function workerRegistry(bus: Bus): WorkerRegistry {
  const kv = lazy(() => bus.kv(WORKERS_BUCKET));
  return {
    async beat(info) {
      const hb = create(WorkerHeartbeatSchema, { ...info, updateTime: timestampNow() });
      await (await kv()).put(info.workerId, toBinary(WorkerHeartbeatSchema, hb));
    },
    async remove(workerId) {
      await (await kv()).delete(workerId);
    },
    async liveGroups(freshMs, now = Date.now()) {
      const bucket = await kv();
      const groups = new Map<string, WorkerGroup>();
      for (const key of await bucket.keys()) {
        const e = await bucket.get(key);
        if (!e) continue;
        const hb = fromBinary(WorkerHeartbeatSchema, e.value);
        if (!hb.updateTime || now - timestampMs(hb.updateTime) > freshMs) continue;
        const g = groups.get(hb.group) ?? { group: hb.group, pools: hb.pools, workers: 0 };
        g.workers++;
        groups.set(hb.group, g);
      }
      return [...groups.values()];
    },
  };
}
