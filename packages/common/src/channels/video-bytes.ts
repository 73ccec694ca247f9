import type { BucketSpec, Bus, KvBucket } from "./bus/bus.js";
import { DAY_MS } from "./durations.js";
import { casBackoff, type KeyedSerial, keyedSerial } from "./keyed-serial.js";
import { lazy } from "./lazy.js";
import { checkTenantToken } from "./task-lists.js";

/**
 * The days before today a result can still be stored: the longest retention
 * (a request's 30 days, VIDEO_TTL_HOURS on JetStream). Readers sum today and
 * at most this many days before it.
 */
export const VIDEO_BYTES_MAX_PAST_DAYS = 30;

/**
 * Per tenant, the bytes of the results (MP4 and poster) counted each UTC day,
 * and per task what was counted, so each task counts once:
 *
 *   "<tenant>.<yyyymmdd>"       -> bytes counted that day (decimal; compare-and-swap)
 *   "<tenant>.task.<task_id>"   -> "counted <day> <bytes>", or "released" once taken back
 *
 * Kept until a day's results can no longer be stored: a counter written at
 * the start of its day is still summed at the end of the 30th day after.
 */
export const VIDEO_BYTES_BUCKET: BucketSpec = {
  name: "t2v_video_bytes",
  ttlMs: (VIDEO_BYTES_MAX_PAST_DAYS + 2) * DAY_MS,
  history: 1,
};

export interface VideoBytes {
  /**
   * Counts a completed task's result (`bytes` > 0) for the tenant's UTC day of
   * `atMs`, once: "exists" when the task was counted (or released) before.
   */
  count(tenantId: string, taskId: string, bytes: number, atMs: number): Promise<"counted" | "exists">;
  /**
   * Takes a task's bytes back from the day they were counted (its result was
   * deleted), once, never below 0; a task not counted yet is marked so that it
   * never will be. The bytes taken back (0: none).
   */
  release(tenantId: string, taskId: string): Promise<number>;
  /** The bytes counted for the tenant on a UTC day (days since the epoch). */
  countedOn(tenantId: string, day: number): Promise<number>;
}

type Marker = { kind: "counted"; day: number; bytes: number } | { kind: "released" };

/** One write per key at a time per process, so only replicas contend; this many losses in a row is not contention. */
const MAX_CAS_TRIES = 50;
const text = new TextEncoder();
const untext = new TextDecoder();
const RELEASED = text.encode("released");

function dayKey(tenantId: string, day: number): string {
  return `${tenantId}.${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

function markerKey(tenantId: string, taskId: string): string {
  checkTenantToken(tenantId);
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(taskId)) throw new Error(`not a task id: ${JSON.stringify(taskId)}`);
  return `${tenantId}.task.${taskId}`;
}

function decodeMarker(v: Uint8Array): Marker {
  const [kind, day, bytes] = untext.decode(v).split(" ");
  const d = Number(day);
  const b = Number(bytes);
  if (kind === "counted" && Number.isSafeInteger(d) && Number.isSafeInteger(b) && b > 0) {
    return { kind, day: d, bytes: b };
  }
  // Unreadable: treated as taken back, so nothing is ever subtracted twice.
  return { kind: "released" };
}

function decodeCount(v: Uint8Array): number {
  const n = Number(untext.decode(v));
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** Adds `delta` (negative: takes back, never below 0, never creating a counter) to a day's counter. */
async function addToDay(kv: KvBucket, serial: KeyedSerial, key: string, delta: number): Promise<void> {
  await serial(key, async () => {
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const e = await kv.get(key);
      if (!e && delta < 0) return;
      const value = text.encode(String(Math.max(0, (e ? decodeCount(e.value) : 0) + delta)));
      const written = e ? await kv.update(key, value, e.revision) : await kv.create(key, value);
      if (written !== null) return;
      await casBackoff(i);
    }
    throw new Error(`${key}: too much contention on the video byte count`);
  });
}

/**
 * Counted where a completed task is settled (the scheduler) and taken back
 * where a result is deleted (the gateway's DeleteTask, the scheduler's expiry
 * sweep). Every failure errs high, never low: the day is added to before the
 * task's marker is written (a crash in between counts it again on the retry),
 * a writer that finds the marker written meanwhile takes its own add back,
 * and a release marks the task before it subtracts.
 */
export function videoBytes(bus: Bus): VideoBytes {
  const kv = lazy(() => bus.kv(VIDEO_BYTES_BUCKET));
  const serial = keyedSerial();
  return {
    async count(tenantId, taskId, bytes, atMs) {
      if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`not a byte count: ${bytes}`);
      const key = markerKey(tenantId, taskId);
      const b = await kv();
      return serial(key, async () => {
        if (await b.get(key)) return "exists";
        const day = Math.floor(atMs / DAY_MS);
        await addToDay(b, serial, dayKey(tenantId, day), bytes);
        if ((await b.create(key, text.encode(`counted ${day} ${bytes}`))) !== null) return "counted";
        // Another replica counted it too, or its result was deleted meanwhile: this add is one too many.
        await addToDay(b, serial, dayKey(tenantId, day), -bytes);
        return "exists";
      });
    },
    async release(tenantId, taskId) {
      const key = markerKey(tenantId, taskId);
      const b = await kv();
      return serial(key, async () => {
        for (let i = 0; i < MAX_CAS_TRIES; i++) {
          const e = await b.get(key);
          if (!e) {
            if ((await b.create(key, RELEASED)) !== null) return 0;
          } else {
            const m = decodeMarker(e.value);
            if (m.kind === "released") return 0;
            // Marked first: of two releases only one subtracts.
            if ((await b.update(key, RELEASED, e.revision)) !== null) {
              await addToDay(b, serial, dayKey(tenantId, m.day), -m.bytes);
              return m.bytes;
            }
          }
          await casBackoff(i);
        }
        throw new Error(`${key}: too much contention on the video byte count`);
      });
    },
    async countedOn(tenantId, day) {
      checkTenantToken(tenantId);
      const e = await (await kv()).get(dayKey(tenantId, day));
      return e ? decodeCount(e.value) : 0;
    },
  };
}
