export interface QueueEntry {
  readonly taskId: string;
  readonly tenantId: string;
  /** The task's pool (its tier). */
  readonly pool: string;
  /** Creation time: a retried task keeps its place among its tenant's tasks. */
  readonly enqueuedAt: number;
  /** Not dispatched before this time (retry backoff); 0 = at once. */
  readonly notBefore: number;
  /** Order among the tenant's own entries: higher first, then older (UpdateTaskPriority). */
  readonly priority: number;
}

/** True when `a` goes before `b` in their tenant's list. */
function before(a: QueueEntry, b: QueueEntry): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.enqueuedAt < b.enqueuedAt;
}

/**
 * One pool's queue: FIFO per tenant, round robin across tenants, so a tenant
 * with a thousand queued tasks delays another tenant's single task by at most
 * one dispatch. Priority orders a tenant's own list only: it never changes
 * whose turn it is. Pure data structure, no I/O.
 */
export class FairQueue {
  private readonly byTenant = new Map<string, QueueEntry[]>();
  private readonly byId = new Map<string, QueueEntry>();
  /** Tenants with queued work, in turn order; `turn` indexes the next one. */
  private rotation: string[] = [];
  private turn = 0;
  /** Tenants that joined since the turn last moved; they go first, in arrival order. */
  private joined = 0;

  get size(): number {
    return this.byId.size;
  }

  has(taskId: string): boolean {
    return this.byId.has(taskId);
  }

  get(taskId: string): QueueEntry | undefined {
    return this.byId.get(taskId);
  }

  sizeOf(tenantId: string): number {
    return this.byTenant.get(tenantId)?.length ?? 0;
  }

  tenants(): string[] {
    return [...this.rotation];
  }

  add(e: QueueEntry): void {
    const old = this.byId.get(e.taskId);
    if (old && old.tenantId === e.tenantId) {
      // Moved within its tenant's list (a new priority): the tenant keeps its turn.
      const mine = this.byTenant.get(e.tenantId) ?? [];
      mine.splice(mine.indexOf(old), 1);
      this.insert(mine, e);
      return;
    }
    if (old) this.remove(e.taskId);
    let list = this.byTenant.get(e.tenantId);
    if (!list) {
      list = [];
      this.byTenant.set(e.tenantId, list);
      // A tenant with nothing queued goes next (after earlier newcomers): it
      // waits only for work in flight, never behind another tenant's backlog.
      this.rotation.splice(this.turn + this.joined, 0, e.tenantId);
      this.joined++;
    }
    this.insert(list, e);
  }

  /** Keeps each tenant's list ordered by priority, then enqueue time (retried, resumed and preempted tasks re-enter in place). */
  private insert(list: QueueEntry[], e: QueueEntry): void {
    let i = list.length;
    while (i > 0 && before(e, list[i - 1] ?? e)) i--;
    list.splice(i, 0, e);
    this.byId.set(e.taskId, e);
  }

  remove(taskId: string): QueueEntry | undefined {
    const e = this.byId.get(taskId);
    if (!e) return undefined;
    this.byId.delete(taskId);
    const list = this.byTenant.get(e.tenantId) ?? [];
    list.splice(list.indexOf(e), 1);
    if (list.length === 0) {
      this.byTenant.delete(e.tenantId);
      const idx = this.rotation.indexOf(e.tenantId);
      this.rotation.splice(idx, 1);
      if (idx < this.turn) this.turn--;
      else if (idx < this.turn + this.joined) this.joined--;
      if (this.turn >= this.rotation.length) this.turn = 0;
    }
    return e;
  }

  /** The entry round robin would dispatch next among those due at `now`. */
  peek(now: number): QueueEntry | undefined {
    const n = this.rotation.length;
    for (let k = 0; k < n; k++) {
      const tenant = this.rotation[(this.turn + k) % n] ?? "";
      const due = this.byTenant.get(tenant)?.find((e) => e.notBefore <= now);
      if (due) return due;
    }
    return undefined;
  }

  /** Removes an entry chosen by peek() and passes the turn to the next tenant. */
  take(taskId: string): QueueEntry | undefined {
    const e = this.byId.get(taskId);
    if (!e) return undefined;
    const idx = this.rotation.indexOf(e.tenantId);
    const emptied = this.sizeOf(e.tenantId) === 1;
    this.remove(taskId);
    if (this.rotation.length > 0) {
      // After removal the tenant's slot is either still at idx (not emptied) or gone.
      const after = emptied ? idx : idx + 1;
      this.turn = after % this.rotation.length;
    }
    this.joined = 0;
    return e;
  }

  /** The oldest due entry, whatever its tenant (for ageing). */
  oldest(now: number): QueueEntry | undefined {
    let best: QueueEntry | undefined;
    for (const list of this.byTenant.values()) {
      const due = list.find((e) => e.notBefore <= now);
      if (due && (!best || due.enqueuedAt < best.enqueuedAt)) best = due;
    }
    return best;
  }

  /**
   * How many entries round robin dispatches before this one: a full round of
   * the other tenants for each of the tenant's own entries ahead of it.
   */
  position(taskId: string): number | undefined {
    const e = this.byId.get(taskId);
    if (!e) return undefined;
    return this.ahead(e.tenantId, (this.byTenant.get(e.tenantId) ?? []).indexOf(e));
  }

  /**
   * What position() would say of an entry of the tenant, with this priority,
   * added now (after every entry already there): where a task whose
   * submission is on its way will stand. Changes nothing.
   */
  positionOfNew(tenantId: string, priority: number): number {
    const mine = this.byTenant.get(tenantId);
    // A tenant with nothing queued goes in after the earlier newcomers (see add), each one entry ahead of it.
    if (!mine) return this.joined;
    // It goes after every entry of at least its priority (all older than it).
    return this.ahead(tenantId, mine.filter((e) => e.priority >= priority).length);
  }

  /** Entries round robin dispatches before the tenant's i-th: i of its own, and each other tenant's share of the rounds. */
  private ahead(tenantId: string, i: number): number {
    const n = this.rotation.length;
    const m = (this.rotation.indexOf(tenantId) - this.turn + n) % n;
    let ahead = i;
    for (let k = 0; k < n; k++) {
      if (k === m) continue;
      const len = this.byTenant.get(this.rotation[(this.turn + k) % n] ?? "")?.length ?? 0;
      ahead += Math.min(len, k < m ? i + 1 : i);
    }
    return ahead;
  }
}
