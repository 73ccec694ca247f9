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
 * non-terminal one, so the end is never lost. A class, not a closure record:
 * a gateway holds one per open stream, and its instances stay small
 * fast-mode objects (getters on an object literal would put each in
 * dictionary mode).
 */
export class LatestSlot<T> {
  private waiting: Snapshot<T> | undefined = undefined;
  private since: number | undefined = undefined;
  private lastSeq = -1;
  private ended = false;
  private replaced = 0;

  /** False (and nothing kept) when the snapshot is not newer than what the slot has seen. */
  offer(s: Snapshot<T>, nowMs: number): boolean {
    if (s.seq <= this.lastSeq || (this.ended && !s.terminal)) return false;
    this.lastSeq = s.seq;
    if (s.terminal) this.ended = true;
    if (this.waiting) this.replaced++;
    else this.since = nowMs;
    this.waiting = s;
    return true;
  }

  /** The waiting snapshot, emptying the slot. */
  take(): Snapshot<T> | undefined {
    const s = this.waiting;
    this.waiting = undefined;
    this.since = undefined;
    return s;
  }

  /** When the waiting snapshot arrived (ms); undefined while the slot is empty. */
  get pendingSinceMs(): number | undefined {
    return this.since;
  }

  /** Snapshots replaced before they were taken. */
  get coalesced(): number {
    return this.replaced;
  }
}
