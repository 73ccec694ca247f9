import { dayOf, type VideoBytes } from "@t2v/common/channels";

/** The bytes of results a tenant may still hold: today's count plus the window's earlier days. */
export type StoredVideoBytes = (tenantId: string) => Promise<number>;

export interface VideoBytesWindow {
  stored: StoredVideoBytes;
  /** Drops the tenant's sums (its count went down here, a DeleteTask): the next submit reads them again. */
  forget(tenantId: string): void;
}

/**
 * Today's count grows as the tenant's tasks complete: read again after this
 * long, so a tenant over its cap is refused within seconds on every replica.
 */
export const VIDEO_BYTES_TODAY_REFRESH_MS = 5_000;

/**
 * Earlier days change only when a result is deleted or expires (and at
 * midnight, when today becomes one of them): read again after this long.
 */
export const VIDEO_BYTES_PAST_REFRESH_MS = 60_000;

interface Part {
  readAt: number;
  sum: Promise<number>;
}

interface Entry {
  day: number;
  today: Part;
  past: Part;
}

/**
 * Sums a tenant's counted bytes over today and `pastDays` before it (one get
 * per day, all at once) and keeps the sums per tenant, so a submit reads
 * nothing in the steady state: at most one get every few seconds for today
 * and one parallel round of `pastDays` gets a minute per tenant that submits.
 * At most `maxTenants` tenants are kept, the least recently used go first.
 */
export function createVideoBytesWindow(
  bytes: Pick<VideoBytes, "countedOn">,
  opts: { pastDays: number; maxTenants: number },
  now: () => number = Date.now,
): VideoBytesWindow {
  const sums = new Map<string, Entry>();

  const read = (tenantId: string, days: number[], at: number): Part => ({
    readAt: at,
    sum: Promise.all(days.map((d) => bytes.countedOn(tenantId, d))).then((n) => n.reduce((a, b) => a + b, 0)),
  });
  const readToday = (tenantId: string, today: number, at: number) => read(tenantId, [today], at);
  const readPast = (tenantId: string, today: number, at: number) =>
    read(
      tenantId,
      Array.from({ length: opts.pastDays }, (_, i) => today - 1 - i),
      at,
    );

  return {
    async stored(tenantId) {
      const at = now();
      const today = dayOf(at);
      const cached = sums.get(tenantId);
      const entry: Entry =
        cached && cached.day === today
          ? {
              day: today,
              today:
                at - cached.today.readAt < VIDEO_BYTES_TODAY_REFRESH_MS ? cached.today : readToday(tenantId, today, at),
              past: at - cached.past.readAt < VIDEO_BYTES_PAST_REFRESH_MS ? cached.past : readPast(tenantId, today, at),
            }
          : { day: today, today: readToday(tenantId, today, at), past: readPast(tenantId, today, at) };
      sums.delete(tenantId);
      sums.set(tenantId, entry);
      while (sums.size > opts.maxTenants) {
        const oldest = sums.keys().next().value;
        if (oldest === undefined) break;
        sums.delete(oldest);
      }
      try {
        const [t, p] = await Promise.all([entry.today.sum, entry.past.sum]);
        return t + p;
      } catch (err) {
        // A failed read is not kept: the next submit asks again.
        if (sums.get(tenantId) === entry) sums.delete(tenantId);
        throw err;
      }
    },
    forget(tenantId) {
      sums.delete(tenantId);
    },
  };
}
