import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { KV } from "@nats-io/kv";
import { KvWatchInclude } from "@nats-io/kv";
import { type TaskRecord, TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";

export interface StoredTask {
  readonly record: TaskRecord;
  readonly revision: number;
}

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

export function createTaskStore(kv: KV, index: KV): TaskStore {
  const decode = (value: Uint8Array, revision: number): StoredTask => ({
    record: fromBinary(TaskRecordSchema, value),
    revision,
  });

  return {
    async get(taskId) {
      const e = await kv.get(taskId);
      if (e?.operation !== "PUT") return null;
      return decode(e.value, e.revision);
    },

    async create(record) {
      const taskId = record.task?.taskId ?? "";
      // Index first: an index entry without a record is skipped when listing,
      // a record missing from the index would never be listed.
      await index.put(`${record.tenantId}.${taskId}`, new Uint8Array());
      const revision = await kv.create(taskId, toBinary(TaskRecordSchema, record));
      return { record, revision };
    },

    async update(taskId, change) {
      for (let i = 0; i < MAX_CAS_TRIES; i++) {
        const e = await kv.get(taskId);
        if (e?.operation !== "PUT") return null;
        const next = change(fromBinary(TaskRecordSchema, e.value));
        if (next === null) return null;
        try {
          const revision = await kv.update(taskId, toBinary(TaskRecordSchema, next), e.revision);
          return { record: next, revision };
        } catch (err) {
          if (!isWrongRevision(err)) throw err;
        }
      }
      throw new Error(`task ${taskId}: too much contention on the task record`);
    },

    async replace(record, revision) {
      try {
        const next = await kv.update(record.task?.taskId ?? "", toBinary(TaskRecordSchema, record), revision);
        return { record, revision: next };
      } catch (err) {
        if (isWrongRevision(err)) return null;
        throw err;
      }
    },

    async *watch(taskId, signal) {
      const it = await kv.watch({ key: taskId, include: KvWatchInclude.LastValue });
      const stop = (): void => it.stop();
      signal.addEventListener("abort", stop, { once: true });
      try {
        for await (const e of it) {
          if (signal.aborted) break;
          if (e.operation === "PUT") yield decode(e.value, e.revision);
        }
      } finally {
        signal.removeEventListener("abort", stop);
        it.stop();
      }
    },

    async ids() {
      const out: string[] = [];
      for await (const k of await kv.keys()) out.push(k);
      return out;
    },

    async idsOf(tenantId) {
      const prefix = `${tenantId}.`;
      const out: string[] = [];
      for await (const k of await index.keys(`${prefix}>`)) out.push(k.slice(prefix.length));
      return out;
    },
  };
}

function isWrongRevision(err: unknown): boolean {
  return /wrong last sequence|key exists/i.test(String(err));
}
