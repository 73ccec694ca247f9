import { HEARTBEAT_EVERY_MS, type HeartbeatInfo, type WorkerRegistry } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";

export type WorkerInfo = Omit<HeartbeatInfo, "busyTaskId">;

export interface Heartbeat {
  /** Writes the heartbeat now (when the busy task changes). */
  beat(): Promise<void>;
  /** Stops beating and removes this worker from the registry. */
  stop(): Promise<void>;
}

/**
 * Tells the scheduler this worker is alive (and what it runs) every few
 * seconds; the scheduler only dispatches to groups with live workers.
 */
export function startHeartbeat(
  registry: WorkerRegistry,
  info: WorkerInfo,
  busyTask: () => string,
  log: Logger,
  everyMs = HEARTBEAT_EVERY_MS,
): Heartbeat {
  const beat = (): Promise<void> =>
    registry
      .beat({ ...info, busyTaskId: busyTask() })
      .catch((err: unknown) => log.warn({ err }, "heartbeat not written"));
  void beat();
  const timer = setInterval(() => void beat(), everyMs);
  return {
    beat,
    async stop() {
      clearInterval(timer);
      await registry.remove(info.workerId).catch(() => undefined);
    },
  };
}
