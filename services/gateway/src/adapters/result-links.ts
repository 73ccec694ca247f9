import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { ResultLinks as StoreLinks } from "@t2v/common/s3-store";
import type { TaskLinks } from "../domain/public-task.js";
import { linkSecondsAt } from "../domain/result-retention.js";

/** Mints the download links of a completed task whose result is available until `expireUnix`. */
export interface ResultLinks {
  linksFor(record: TaskRecord, nowUnix: number, expireUnix: number): Promise<TaskLinks>;
}

/**
 * The embedded (JetStream) store: the gateway's own signed `/v1/videos/...` links, which it serves.
 * The expiry counts from the finish time, so every read returns the same links, cut at the result's expiry.
 */
export function gatewayResultLinks(opts: {
  baseUrl: () => string;
  sign: (file: string, expUnix: number) => string;
  ttlSeconds: number;
}): ResultLinks {
  return {
    async linksFor(record, _nowUnix, expireUnix) {
      const task = record.task;
      const finished = Number((task?.finishTime ?? task?.updateTime)?.seconds ?? 0n);
      const exp = Math.min(finished + opts.ttlSeconds, expireUnix);
      const base = opts.baseUrl().replace(/\/$/, "");
      const id = task?.taskId ?? "";
      return {
        resultUrl: `${base}${opts.sign(`${id}.mp4`, exp)}`,
        posterUrl: record.posterObject !== "" ? `${base}${opts.sign(`${id}.jpg`, exp)}` : "",
        expireUnix: exp,
      };
    },
  };
}

/**
 * S3: presigned GET links of the store itself, so downloads skip the gateway. Minted at each read with
 * min(RESULT_URL_TTL_SECONDS, time to expiry, 7 days): reading the task again renews an expired link.
 */
export function storeResultLinks(store: StoreLinks, ttlSeconds: number): ResultLinks {
  return {
    async linksFor(record, nowUnix, expireUnix) {
      const seconds = linkSecondsAt(nowUnix, expireUnix, ttlSeconds);
      const id = record.task?.taskId ?? "";
      const [resultUrl, posterUrl] = await Promise.all([
        store.presignGet(record.videoObject, seconds, { contentType: "video/mp4", filename: `${id}.mp4` }),
        record.posterObject !== ""
          ? store.presignGet(record.posterObject, seconds, { contentType: "image/jpeg", filename: `${id}.jpg` })
          : Promise.resolve(""),
      ]);
      return { resultUrl, posterUrl, expireUnix: nowUnix + seconds };
    },
  };
}
