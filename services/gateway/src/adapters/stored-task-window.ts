import { dayOf, TASK_LIST_RETENTION_DAYS, type TaskStore } from "@t2v/common/channels";

/**
 * Tasks the tenant created on the UTC days before today that are still in
 * the window (today's own count is the daily quota's, read in the same
 * compare-and-swap that takes a place in it).
 */
export type TasksStoredBefore = (tenantId: string, nowMs: number) => Promise<number>;

/**
 * The days before today whose tasks still hold a record and list entries:
 * list entries live TASK_LIST_RETENTION_DAYS from their write, so a task
 * created that many days ago may still be listed.
 */
export const STORED_WINDOW_PAST_DAYS = TASK_LIST_RETENTION_DAYS;

/**
 * Past days change only in the seconds after midnight, when another replica
 * may still list a task it admitted the day before; a sum is read again
 * after this long.
 */
export const STORED_WINDOW_REFRESH_MS = 60_000;

interface Entry {
  day: number;
  readAt: number;
  sum: Promise<number>;
}

/**
 * Sums the tenant's past days from the task lists' day counters (one get per
 * day, all at once) and keeps the sum per tenant, so a submit reads nothing
 * in the steady state: the first submit of a tenant in a minute pays one
 * parallel round of STORED_WINDOW_PAST_DAYS gets. At most `maxTenants` sums
 * are kept, the least recently used go first.
 */
export function createStoredTaskWindow(
  tasks: Pick<TaskStore, "createdOn">,
  maxTenants: number,
  now: () => number = Date.now,
): TasksStoredBefore {
  const sums = new Map<string, Entry>();

  const read = async (tenantId: string, today: number): Promise<number> => {
    const days = Array.from({ length: STORED_WINDOW_PAST_DAYS }, (_, i) => today - 1 - i);
    const counts = await Promise.all(days.map((d) => tasks.createdOn(tenantId, d)));
    return counts.reduce((a, b) => a + b, 0);
  };

  return async (tenantId, nowMs) => {
    const today = dayOf(nowMs);
    const at = now();
    const cached = sums.get(tenantId);
    if (cached && cached.day === today && at - cached.readAt < STORED_WINDOW_REFRESH_MS) {
      sums.delete(tenantId);
      sums.set(tenantId, cached);
      return cached.sum;
    }
    const entry: Entry = { day: today, readAt: at, sum: read(tenantId, today) };
    sums.delete(tenantId);
    sums.set(tenantId, entry);
    // A failed read is not kept: the next submit asks again.
    entry.sum.catch(() => {
      if (sums.get(tenantId) === entry) sums.delete(tenantId);
    });
    while (sums.size > maxTenants) {
      const oldest = sums.keys().next().value;
      if (oldest === undefined) break;
      sums.delete(oldest);
    }
    return entry.sum;
  };
}
