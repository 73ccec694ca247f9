import type { BucketSpec, KvBucket } from "./bus/bus.js";
import { DAY_MS } from "./durations.js";
import { casBackoff, type KeyedSerial } from "./keyed-serial.js";

/** How long a list entry is kept: as long as the task records it points at. */
export const TASK_LIST_RETENTION_DAYS = 30;

/**
 * Per tenant, one list of every task ("all") and one per status, each cut
 * into UTC days of numbered slots, so a newest-first page is read with direct
 * gets (no key listing, which in NATS KV streams every matching key):
 *
 *   "<tenant>.<list>.<yyyymmdd>"         -> the day's highest slot (decimal; compare-and-swap)
 *   "<tenant>.<list>.<yyyymmdd>.<slot>"  -> task id
 *   "<tenant>.<list>.seen.<task_id>"     -> "" (the task is in this list already)
 *
 * Entries are never moved: a task that leaves a status keeps its entry in
 * that status's list, and readers skip it by its record.
 */
export const TASK_LISTS_BUCKET: BucketSpec = {
  name: "t2v_task_lists",
  ttlMs: TASK_LIST_RETENTION_DAYS * DAY_MS,
  history: 1,
};

/** Where a listing goes on: a UTC day (days since the epoch) and the next slot to read down from (0: the day's top). */
export interface TaskListCursor {
  readonly day: number;
  readonly slot: number;
}

export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

function dayKey(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "");
}

/** Only other replicas contend (one allocation per list per process at a time). */
/** A tenant id is one key token: a dot or a wildcard in it would address another tenant's entries. */
export function checkTenantToken(tenantId: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenantId)) throw new Error(`not a tenant id: ${JSON.stringify(tenantId)}`);
}

const MAX_CAS_TRIES = 50;
const text = new TextEncoder();
const untext = new TextDecoder();

/**
 * Puts `taskId` at the top of `list` for `day`, once: a task already in the
 * list is left where it is. `serial` keeps this process to one slot
 * allocation per list at a time.
 */
export async function enterList(
  kv: KvBucket,
  serial: KeyedSerial,
  tenantId: string,
  list: string,
  taskId: string,
  day: number,
) {
  checkTenantToken(tenantId);
  const seenKey = `${tenantId}.${list}.seen.${taskId}`;
  if (await kv.get(seenKey)) return;
  const topKey = `${tenantId}.${list}.${dayKey(day)}`;
  const slot = await serial(topKey, () => nextSlot(kv, topKey));
  const slotKey = `${tenantId}.${list}.${dayKey(day)}.${slot}`;
  await kv.put(slotKey, text.encode(taskId));
  // Two writers raced to enter the same task: the one that lost takes its slot back.
  if ((await kv.create(seenKey, new Uint8Array())) === null) await kv.delete(slotKey);
}

async function nextSlot(kv: KvBucket, topKey: string): Promise<number> {
  for (let i = 0; i < MAX_CAS_TRIES; i++) {
    const e = await kv.get(topKey);
    const next = (e ? Number(untext.decode(e.value)) : 0) + 1;
    const written = e
      ? await kv.update(topKey, text.encode(String(next)), e.revision)
      : await kv.create(topKey, text.encode(String(next)));
    if (written !== null) return next;
    await casBackoff(i);
  }
  throw new Error(`${topKey}: too much contention on the task list`);
}

/** The day's highest slot; 0 when nothing was listed that day. */
export async function topSlot(kv: KvBucket, tenantId: string, list: string, day: number): Promise<number> {
  const e = await kv.get(`${tenantId}.${list}.${dayKey(day)}`);
  const n = e ? Number(untext.decode(e.value)) : 0;
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** The task id in a slot; null for a slot never written or taken back. */
export async function slotTask(
  kv: KvBucket,
  tenantId: string,
  list: string,
  day: number,
  slot: number,
): Promise<string | null> {
  const e = await kv.get(`${tenantId}.${list}.${dayKey(day)}.${slot}`);
  return e ? untext.decode(e.value) : null;
}
