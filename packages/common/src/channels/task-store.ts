import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type TaskRecord, TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";
import type { BucketSpec, Bus, KvBucket } from "./bus/bus.js";
import { DAY_MS } from "./durations.js";
import { lazy } from "./lazy.js";

/**
 * How long a task record is kept after its last change unless TASK_RECORD_RETENTION_DAYS says more: the
 * longest retention a request may ask for, so a result never outlives the record that links to it.
 */
export const DEFAULT_TASK_RECORD_RETENTION_MS = 30 * DAY_MS;
/** Task records (a few revisions, for diagnosis). */
export const TASKS_BUCKET: BucketSpec = { name: "t2v_tasks", ttlMs: DEFAULT_TASK_RECORD_RETENTION_MS, history: 5 };
/** "<tenant>.<task_id>" -> empty: lists a tenant's tasks without reading every record. */
export const TASK_INDEX_BUCKET: BucketSpec = {
  name: "t2v_task_index",
  ttlMs: DEFAULT_TASK_RECORD_RETENTION_MS,
  history: 1,
};
/**
 * "<task_id>" -> empty, for every task whose end is not settled yet: not ended, or completed and
 * not yet billed. A new leader rebuilds from it and the sweep reads it, so both cost O(active
 * tasks), not O(every record kept). Kept a day past the records as a backstop.
 */
export const ACTIVE_TASKS_BUCKET: BucketSpec = { name: "t2v_active_tasks", ttlMs: 31 * DAY_MS, history: 1 };
/** The entry saying the active index was filled from the records once (for records older than the index). */
const SEEDED_KEY = "_seeded";

export interface TaskStoreOptions {
  /**
   * TASK_RECORD_RETENTION_DAYS, given by its owner (the scheduler): both buckets are created with it and an
   * existing bucket is changed to it. Without it the buckets are opened as they are (created with the default).
   */
  readonly retentionMs?: number;
}

export interface StoredTask {
  readonly record: TaskRecord;
  readonly revision: number;
}

/** The durable truth about every task. The scheduler is its only writer after creation, but for cancels. */
export interface TaskStore {
  get(taskId: string): Promise<StoredTask | null>;
  /** Fails if the id exists: ids are never reused. */
  create(record: TaskRecord): Promise<StoredTask>;
  /**
   * Compare-and-swap: `change` sees the latest record and returns the new one,
   * or null to leave it alone. Retries when another writer got there first, so
   * `change` must be a pure function of the record it is given.
   */
  update(taskId: string, change: (current: TaskRecord) => TaskRecord | null): Promise<StoredTask | null>;
  /** Writes `record` only if the entry is still at `revision`; null when another writer got there first. */
  replace(record: TaskRecord, revision: number): Promise<StoredTask | null>;
  /** The current record, then every later revision, until the signal aborts. */
  watch(taskId: string, signal: AbortSignal): AsyncIterable<StoredTask>;
  /** All task ids. Ids are UUIDv7, so sorting them sorts by creation time. */
  ids(): Promise<string[]>;
  /** The task ids of one tenant, from the tenant index (no record is read). */
  idsOf(tenantId: string): Promise<string[]>;
  /** The ids of tasks whose end is not settled (see ACTIVE_TASKS_BUCKET): a superset of those not ended. */
  activeIds(): Promise<string[]>;
  /** Takes a task out of the active index once it ended and, if it completed, was billed. */
  settled(taskId: string): Promise<void>;
  /** Files a task in the active index (seeding it from records written before it existed). */
  markActive(taskId: string): Promise<void>;
  /** Whether the active index was seeded from the records; `seeded()` records that it was. */
  activeSeeded(): Promise<boolean>;
  seeded(): Promise<void>;
  /** Opens both buckets now (applying the retention, when given) instead of on first use. */
  open(): Promise<void>;
}

const MAX_CAS_TRIES = 20;

export function taskStore(bus: Bus, opts: TaskStoreOptions = {}): TaskStore {
  const { retentionMs } = opts;
  const spec = (b: BucketSpec): BucketSpec =>
    retentionMs === undefined ? b : { ...b, ttlMs: retentionMs, applyTtl: true };
  const records = lazy(() => bus.kv(spec(TASKS_BUCKET)));
  const index = lazy(() => bus.kv(spec(TASK_INDEX_BUCKET)));
  const active = lazy(() => bus.kv(ACTIVE_TASKS_BUCKET));
  const decode = (value: Uint8Array, revision: number): StoredTask => ({
    record: fromBinary(TaskRecordSchema, value),
    revision,
  });
  const encode = (r: TaskRecord): Uint8Array => toBinary(TaskRecordSchema, r);

  async function replaceIn(kv: KvBucket, record: TaskRecord, revision: number): Promise<StoredTask | null> {
    const next = await kv.update(record.task?.taskId ?? "", encode(record), revision);
    return next === null ? null : { record, revision: next };
  }

  return {
    async get(taskId) {
      const e = await (await records()).get(taskId);
      return e ? decode(e.value, e.revision) : null;
    },

    async create(record) {
      const taskId = record.task?.taskId ?? "";
      // Indexes first: an index entry without a record is skipped when listing and settled by
      // the sweep; a record missing from an index would never be listed, rebuilt or swept.
      const empty = new Uint8Array();
      await Promise.all([
        (await index()).put(`${record.tenantId}.${taskId}`, empty),
        (await active()).put(taskId, empty),
      ]);
      const revision = await (await records()).create(taskId, encode(record));
      if (revision === null) throw new Error(`task ${taskId} already exists`);
      return { record, revision };
    },

    async update(taskId, change) {
      const kv = await records();
      for (let i = 0; i < MAX_CAS_TRIES; i++) {
        const e = await kv.get(taskId);
        if (!e) return null;
        const next = change(fromBinary(TaskRecordSchema, e.value));
        if (next === null) return null;
        const written = await replaceIn(kv, next, e.revision);
        if (written) return written;
      }
      throw new Error(`task ${taskId}: too much contention on the task record`);
    },

    async replace(record, revision) {
      return replaceIn(await records(), record, revision);
    },

    async *watch(taskId, signal) {
      for await (const e of (await records()).watch(taskId, signal)) if (e) yield decode(e.value, e.revision);
    },

    async ids() {
      return (await records()).keys();
    },

    async activeIds() {
      return (await (await active()).keys()).filter((k) => k !== SEEDED_KEY);
    },

    async settled(taskId) {
      await (await active()).delete(taskId);
    },

    async markActive(taskId) {
      await (await active()).put(taskId, new Uint8Array());
    },

    async activeSeeded() {
      return (await (await active()).get(SEEDED_KEY)) !== null;
    },

    async seeded() {
      await (await active()).put(SEEDED_KEY, new Uint8Array());
    },

    async idsOf(tenantId) {
      const prefix = `${tenantId}.`;
      return (await (await index()).keys(`${prefix}>`)).map((k) => k.slice(prefix.length));
    },

    async open() {
      await Promise.all([records(), index()]);
    },
  };
}
