import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { KV } from "@nats-io/kv";
import type { Logger } from "@t2v/common";
import { WorkerHeartbeatSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_state_pb";

export interface HeartbeatInfo {
  workerId: string;
  group: string;
  pools: string[];
  model: string;
  executionProvider: string;
}

/**
 * Tells the scheduler this worker is alive (and what it runs) every few
 * seconds; the scheduler only dispatches to groups with live workers.
 */
export function startHeartbeat(kv: KV, info: HeartbeatInfo, busyTask: () => string, log: Logger, everyMs = 3_000) {
  const beat = async (): Promise<void> => {
    await kv
      .put(
        info.workerId,
        toBinary(
          WorkerHeartbeatSchema,
          create(WorkerHeartbeatSchema, { ...info, busyTaskId: busyTask(), updateTime: timestampNow() }),
        ),
      )
      .catch((err: unknown) => log.warn({ err }, "heartbeat not written"));
  };
  void beat();
  const timer = setInterval(() => void beat(), everyMs);
  return {
    beat,
    async stop(): Promise<void> {
      clearInterval(timer);
      await kv.delete(info.workerId).catch(() => undefined);
    },
  };
}
