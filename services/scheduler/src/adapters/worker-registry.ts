import { fromBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { KV } from "@nats-io/kv";
import { type WorkerHeartbeat, WorkerHeartbeatSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_state_pb";

export interface WorkerGroupView {
  group: string;
  pools: string[];
  workers: number;
}

/** Live worker groups, from heartbeats newer than `freshMs`. */
export async function readWorkerGroups(kv: KV, freshMs: number, now = Date.now()): Promise<WorkerGroupView[]> {
  const beats: WorkerHeartbeat[] = [];
  for await (const key of await kv.keys()) {
    const e = await kv.get(key);
    if (e?.operation !== "PUT") continue;
    const hb = fromBinary(WorkerHeartbeatSchema, e.value);
    if (hb.updateTime && now - timestampMs(hb.updateTime) <= freshMs) beats.push(hb);
  }
  const groups = new Map<string, WorkerGroupView>();
  for (const hb of beats) {
    const g = groups.get(hb.group) ?? { group: hb.group, pools: hb.pools, workers: 0 };
    g.workers++;
    groups.set(hb.group, g);
  }
  return [...groups.values()];
}
