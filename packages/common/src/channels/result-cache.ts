import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { type CachedResult, CachedResultSchema } from "../gen/t2v/internal/v1/scheduler_state_pb.js";
import type { TaskRecord } from "../gen/t2v/internal/v1/task_record_pb.js";
import type { BucketSpec, Bus } from "./bus/bus.js";
import { HOUR_MS } from "./durations.js";
import { lazy } from "./lazy.js";

/** The result cache's bucket name; its TTL is an operator setting (`resultCacheBucket`). */
export const RESULT_CACHE_BUCKET_NAME = "t2v_result_cache";

/** Cache key -> where the finished video of an identical seeded request is. */
export function resultCacheBucket(ttlHours: number): BucketSpec {
  return { name: RESULT_CACHE_BUCKET_NAME, ttlMs: ttlHours * HOUR_MS, history: 1 };
}

export interface ResultCache {
  get(key: string): Promise<CachedResult | null>;
  put(key: string, r: TaskRecord): Promise<void>;
}

export function resultCache(bus: Bus, ttlHours: number): ResultCache {
  const kv = lazy(() => bus.kv(resultCacheBucket(ttlHours)));
  return {
    async get(key) {
      const e = key === "" ? null : await (await kv()).get(key);
      return e ? fromBinary(CachedResultSchema, e.value) : null;
    },
    async put(key, r) {
      const cached = create(CachedResultSchema, {
        taskId: r.task?.taskId ?? "",
        videoObject: r.videoObject,
        posterObject: r.posterObject,
        videoSizeBytes: r.videoSizeBytes,
        model: r.model,
        createTime: timestampNow(),
      });
      await (await kv()).put(key, toBinary(CachedResultSchema, cached));
    },
  };
}
