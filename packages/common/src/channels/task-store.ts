import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type TaskRecord, TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";
import type { BucketSpec, Bus, KvBucket } from "./bus/bus.js";
import { DAY_MS } from "./durations.js";
import { lazy } from "./lazy.js";

/** Task records, kept 30 days after their last change (a few revisions, for diagnosis). */
export const TASKS_BUCKET: BucketSpec = { name: "t2v_tasks", ttlMs: 30 * DAY_MS, history: 5 };
/** "<tenant>.<task_id>" -> empty: lists a tenant's tasks without reading every record. */
export const TASK_INDEX_BUCKET: BucketSpec = { name: "t2v_task_index", ttlMs: 30 * DAY_MS, history: 1 };

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
}

const MAX_CAS_TRIES = 20;

export function taskStore(bus: Bus): TaskStore {
  const records = lazy(() => bus.kv(TASKS_BUCKET));
  const index = lazy(() => bus.kv(TASK_INDEX_BUCKET));
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
      const [indexKv, recordsKv] = await Promise.all([index(), records()]);
      // Index and record at once (one round trip, not two). An index entry
      // without a record is skipped when listing; a record missing from the
      // index would never be listed, so a record whose index write failed is
      // deleted again and the create fails: the caller never hands out its id.
      const [indexed, created] = await Promise.allSettled([
        indexKv.put(`${record.tenantId}.${taskId}`, new Uint8Array()),
        recordsKv.create(taskId, encode(record)),
      ]);
      if (created.status === "rejected") throw created.reason;
      const revision = created.value;
      if (revision === null) throw new Error(`task ${taskId} already exists`);
      if (indexed.status === "rejected") {
        await recordsKv.delete(taskId, revision).catch(() => undefined);
        throw indexed.reason;
      }
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

    async idsOf(tenantId) {
      const prefix = `${tenantId}.`;
      return (await (await index()).keys(`${prefix}>`)).map((k) => k.slice(prefix.length));
    },
  };
}
