import { type BlobStore, checkpointObjectName } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import { Attr, inSpan } from "@t2v/common/telemetry";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from "@t2v/model";

/** What a checkpoint must say about itself to continue this computation (the rest `generate` checks). */
export interface CheckpointOwner {
  specHash: string;
  model: string;
  modelVersion: string;
  totalSteps: number;
}

export interface CheckpointStoreMetrics {
  written(seconds: number, bytes: number): void;
  read(seconds: number, bytes: number): void;
}

export interface CheckpointStore {
  /**
   * The stored checkpoint of this task's computation, or null when there is none. A damaged one
   * (the codec's CRC, magic, version or size check failed) or one made for another computation
   * is deleted with a warning and reads as none: the run starts from step 0.
   */
  load(taskId: string, key: string, owner: CheckpointOwner, log: Logger): Promise<Checkpoint | null>;
  /** Writes (replaces) the checkpoint; resolves to the bytes written. */
  save(taskId: string, key: string, checkpoint: Checkpoint): Promise<number>;
  delete(taskId: string, key: string): Promise<void>;
}

/** Checkpoints in the object store, in the model's binary form (`encodeCheckpoint`). */
export function createCheckpointStore(
  blobs: Pick<BlobStore, "get" | "put" | "delete">,
  metrics?: CheckpointStoreMetrics,
): CheckpointStore {
  return {
    load(taskId, key, owner, log) {
      const object = checkpointObjectName(taskId, key);
      return inSpan("checkpoint.read", { [Attr.taskId]: taskId, [Attr.object]: object }, async (span) => {
        const started = performance.now();
        const bytes = await blobs.get(object);
        if (!bytes) return null;
        metrics?.read((performance.now() - started) / 1000, bytes.byteLength);
        span.setAttribute("t2v.checkpoint.bytes", bytes.byteLength);
        let problem: string;
        try {
          const c = decodeCheckpoint(bytes);
          problem = mismatch(c, owner);
          if (problem === "") return c;
        } catch (err) {
          problem = err instanceof Error ? err.message : String(err);
        }
        log.warn({ object, problem }, "checkpoint unusable: deleted, starting from step 0");
        await blobs.delete(object).catch((err: unknown) => log.warn({ err, object }, "checkpoint not deleted"));
        return null;
      });
    },
    save(taskId, key, checkpoint) {
      const object = checkpointObjectName(taskId, key);
      return inSpan(
        "checkpoint.write",
        { [Attr.taskId]: taskId, [Attr.object]: object, [Attr.step]: checkpoint.step },
        async (span) => {
          const started = performance.now();
          const bytes = encodeCheckpoint(checkpoint);
          await blobs.put(object, bytes);
          metrics?.written((performance.now() - started) / 1000, bytes.byteLength);
          span.setAttribute("t2v.checkpoint.bytes", bytes.byteLength);
          return bytes.byteLength;
        },
      );
    },
    delete: (taskId, key) => blobs.delete(checkpointObjectName(taskId, key)),
  };
}

/** Why a decoded checkpoint cannot continue this computation; "" when it can. */
function mismatch(c: Checkpoint, owner: CheckpointOwner): string {
  if (c.model !== owner.model || c.modelVersion !== owner.modelVersion)
    return `made by ${c.model}@${c.modelVersion}, not ${owner.model}@${owner.modelVersion}`;
  if (c.specHash !== owner.specHash) return "made for another generation spec";
  if (c.totalSteps !== owner.totalSteps) return `has ${c.totalSteps} total steps, not ${owner.totalSteps}`;
  return "";
}
