import type { BucketSpec, KvBucket } from "./bus/bus.js";
import { casCells } from "./cas-cell.js";
import { DAY_MS } from "./durations.js";
import { keyedBatch } from "./keyed-batch.js";

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

/** A tenant id is one key token: a dot or a wildcard in it would address another tenant's entries. */
export function checkTenantToken(tenantId: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenantId)) throw new Error(`not a tenant id: ${JSON.stringify(tenantId)}`);
}

const MAX_CAS_TRIES = 50;
const text = new TextEncoder();
const untext = new TextDecoder();

/** Takes the next slot at the top of a day's list ("<tenant>.<list>.<yyyymmdd>"): its number. */
export type SlotAllocator = (topKey: string) => Promise<number>;

/**
 * Slots of one process's writers: the allocations that wait on a list while
 * one runs go together, so a burst of a tenant's creates moves the day's top
 * once per batch (one compare-and-swap) instead of once per task in a row.
 */
export function slotAllocator(kv: KvBucket): SlotAllocator {
  const tops = casCells(kv, "task list", MAX_CAS_TRIES);
  const batch = keyedBatch<null, number>(async (topKey, items) => {
    const first = await tops.change(topKey, (current) => {
      const top = current ? Number(untext.decode(current)) : 0;
      const from = Number.isSafeInteger(top) && top > 0 ? top : 0;
      return { next: text.encode(String(from + items.length)), result: from + 1 };
    });
    return items.map((_, i) => first + i);
  });
  return (topKey) => batch(topKey, null);
}

/**
 * Puts `taskId` at the top of `list` for `day`, once: a task already in the
 * list is left where it is. `fresh`: the id was made by this create and no
 * other writer knows it, so the "already listed?" read is skipped and the
 * marker is written beside the slot, not after it; `lastEntry` (with fresh):
 * nothing enters the task in this list again, so no marker is kept at all.
 */
export async function enterList(
  kv: KvBucket,
  allocate: SlotAllocator,
  tenantId: string,
  list: string,
  taskId: string,
  day: number,
  opts: { fresh?: boolean; lastEntry?: boolean } = {},
) {
  checkTenantToken(tenantId);
  const seenKey = `${tenantId}.${list}.seen.${taskId}`;
  const topKey = `${tenantId}.${list}.${dayKey(day)}`;
  if (opts.fresh) {
    const slot = await allocate(topKey);
    const entry = kv.put(`${topKey}.${slot}`, text.encode(taskId));
    await Promise.all(opts.lastEntry ? [entry] : [entry, kv.put(seenKey, new Uint8Array())]);
    return;
  }
  if (await kv.get(seenKey)) return;
  const slotKey = `${topKey}.${await allocate(topKey)}`;
  await kv.put(slotKey, text.encode(taskId));
  // Two writers raced to enter the same task: the one that lost takes its slot back.
  if ((await kv.create(seenKey, new Uint8Array())) === null) await kv.delete(slotKey);
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
