import { createHash } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { type BucketSpec, type Bus, HOUR_MS, type KvBucket } from "@t2v/common/channels";
import { type IdempotencyEntry, IdempotencyEntrySchema } from "@t2v/common/gen/t2v/internal/v1/gateway_state_pb";

/** "<tenant>.<sha256(key)>" -> IdempotencyEntry; a retry with the same key within 48 h gets the first task. */
export const IDEMPOTENCY_BUCKET: BucketSpec = { name: "t2v_idempotency", ttlMs: 48 * HOUR_MS, history: 1 };

export interface IdempotencyStore {
  find(tenantId: string, key: string): Promise<IdempotencyEntry | null>;
  /** Claims the key for this task; when another request claimed it first, returns that claim instead. */
  claim(tenantId: string, key: string, taskId: string, requestHash: string): Promise<IdempotencyEntry>;
}

/** Keys are scoped per tenant; the key text is hashed so any printable string is a valid KV key. */
function kvKey(tenantId: string, key: string): string {
  return `${tenantId}.${createHash("sha256").update(key).digest("hex")}`;
}

export async function openIdempotencyStore(bus: Bus): Promise<IdempotencyStore> {
  return createIdempotencyStore(await bus.kv(IDEMPOTENCY_BUCKET));
}

export function createIdempotencyStore(kv: KvBucket): IdempotencyStore {
  const find = async (tenantId: string, key: string): Promise<IdempotencyEntry | null> => {
    const e = await kv.get(kvKey(tenantId, key));
    return e ? fromBinary(IdempotencyEntrySchema, e.value) : null;
  };
  return {
    find,
    async claim(tenantId, key, taskId, requestHash) {
      const entry = create(IdempotencyEntrySchema, { taskId, requestHash, createTime: timestampNow() });
      if ((await kv.create(kvKey(tenantId, key), toBinary(IdempotencyEntrySchema, entry))) !== null) return entry;
      // Lost the race to a concurrent request with the same key.
      const winner = await find(tenantId, key);
      if (winner) return winner;
      throw new Error("idempotency key claimed and gone again");
    },
  };
}
