import type { SchedulerState } from "./state.js";
import type { WorkerGroup } from "./worker-group.js";

/** What the current leader term knows, for metrics: its state (none while standing by) and the live worker groups. */
export interface LeaderSnapshot {
  readonly state?: SchedulerState;
  readonly groups: readonly WorkerGroup[];
}

/** A replica that does not lead reports nothing. */
export const STANDBY_SNAPSHOT: LeaderSnapshot = { groups: [] };
