/** One state of a watched thing, numbered by the hub that publishes it. */
export interface Snapshot<T> {
  readonly value: T;
  /** Increases with every snapshot the hub publishes for its topic. */
  readonly seq: number;
  /** Nothing follows a terminal snapshot that a watcher needs. */
  readonly terminal: boolean;
}

/**
 * One watcher's mailbox: at most one snapshot, the newest not yet taken. A
 * slow watcher skips the states it had no time for (coalescing) instead of
 * growing a backlog; a terminal snapshot is never replaced by a later
 * non-terminal one, so the end is never lost.
 */
export interface LatestSlot<T> {
  /** False (and nothing kept) when the snapshot is not newer than what the slot has seen. */
  offer(s: Snapshot<T>, nowMs: number): boolean;
  /** The waiting snapshot, emptying the slot. */
  take(): Snapshot<T> | undefined;
  /** When the waiting snapshot arrived (ms); undefined while the slot is empty. */
  readonly pendingSinceMs: number | undefined;
  /** Snapshots replaced before they were taken. */
  readonly coalesced: number;
}

export function createLatestSlot<T>(): LatestSlot<T> {
  let waiting: Snapshot<T> | undefined;
  let since: number | undefined;
  let lastSeq = -1;
  let ended = false;
  let coalesced = 0;
  return {
    offer(s, nowMs) {
      if (s.seq <= lastSeq || (ended && !s.terminal)) return false;
      lastSeq = s.seq;
      if (s.terminal) ended = true;
      if (waiting) coalesced++;
      else since = nowMs;
      waiting = s;
      return true;
    },
    take() {
      const s = waiting;
      waiting = undefined;
      since = undefined;
      return s;
    },
    get pendingSinceMs() {
      return since;
    },
    get coalesced() {
      return coalesced;
    },
  };
}
