import { type TaskRecord, TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";
import type { BucketSpec, Bus, ConsumerSpec } from "./bus/bus.js";
import { type Inbox, typedInbox } from "./delivery.js";
import { DAY_MS, HOUR_MS } from "./durations.js";
import { lazy } from "./lazy.js";
import { NOTIFY_STREAM } from "./task-changes.js";

/**
 * `<expiry hour>.<task_id>` -> the exact expiry (unix seconds, decimal): finished tasks whose result is to be
 * deleted. Keyed by hour so a sweep lists only the hours that are due, never every finished task. Entries
 * outlive the longest retention (30 days) by a day.
 */
export const RESULT_EXPIRY_BUCKET: BucketSpec = { name: "t2v_result_expiry", ttlMs: 31 * DAY_MS, history: 1 };

/** Task changes, for the index above; its own durable on the notification stream, shared by scheduler replicas. */
export const RETENTION_CONSUMER: ConsumerSpec = {
  stream: NOTIFY_STREAM,
  durable: "retention",
  filter: "t2v.notify.>",
  ackWaitMs: 30_000,
  maxDeliver: -1,
};

const HOUR_S = HOUR_MS / 1000;
/** No dot: never matches an `<hour>.*` filter. */
const CURSOR_KEY = "cursor";

export interface DueResult {
  readonly key: string;
  readonly taskId: string;
  readonly expireUnix: number;
}

export interface ResultExpiry {
  /**
   * Records that `taskId`'s result goes at `expireUnix`; idempotent. Filed no earlier than the hour of
   * `nowUnix`, which sweeps still look at, so an entry indexed late (its expiry already past) is not missed.
   */
  schedule(taskId: string, expireUnix: number, nowUnix: number): Promise<void>;
  /** Entries due at `nowUnix`, in the hours from `fromHour` (an expiry hour, `expiryHour`) up to now. */
  due(nowUnix: number, fromHour: number): Promise<DueResult[]>;
  /** Drops an entry once its result is deleted. */
  done(key: string): Promise<void>;
  /** The first hour the next sweep must look at (null before the first sweep); kept in the bucket for the next leader. */
  cursor(): Promise<number | null>;
  setCursor(hour: number): Promise<void>;
  /** Every task change, for `schedule`. */
  changes(): Promise<Inbox<TaskRecord>>;
}

export const expiryHour = (unix: number): number => Math.floor(unix / HOUR_S);

export function resultExpiry(bus: Bus): ResultExpiry {
  const kv = lazy(() => bus.kv(RESULT_EXPIRY_BUCKET));
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  return {
    async schedule(taskId, expireUnix, nowUnix) {
      const hour = Math.max(expiryHour(expireUnix), expiryHour(nowUnix));
      await (await kv()).put(`${hour}.${taskId}`, enc.encode(String(expireUnix)));
    },
    async due(nowUnix, fromHour) {
      const bucket = await kv();
      const out: DueResult[] = [];
      for (let h = fromHour; h <= expiryHour(nowUnix); h++) {
        for (const key of await bucket.keys(`${h}.*`)) {
          const e = await bucket.get(key);
          const expireUnix = e ? Number(dec.decode(e.value)) : 0;
          if (e && expireUnix <= nowUnix) out.push({ key, taskId: key.slice(key.indexOf(".") + 1), expireUnix });
        }
      }
      return out;
    },
    async done(key) {
      await (await kv()).delete(key);
    },
    async cursor() {
      const e = await (await kv()).get(CURSOR_KEY);
      return e ? Number(dec.decode(e.value)) : null;
    },
    async setCursor(hour) {
      await (await kv()).put(CURSOR_KEY, enc.encode(String(hour)));
    },
    changes: async () => typedInbox(await bus.inbox(RETENTION_CONSUMER), RETENTION_CONSUMER, TaskRecordSchema),
  };
}
