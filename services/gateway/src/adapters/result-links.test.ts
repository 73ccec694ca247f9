import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { PresignGetOptions } from "@t2v/common/s3-store";
import { gatewayResultLinks, storeResultLinks } from "./result-links.js";

const T0 = 1_800_000_000;
const record = create(TaskRecordSchema, {
  videoObject: "abc.mp4",
  posterObject: "abc.jpg",
  task: { taskId: "abc", status: TaskStatus.COMPLETED, finishTime: timestampFromMs(T0 * 1000) },
});

describe("ResultLinks", () => {
  it("S3: presigns both objects at each read for min(TTL, time to expiry), with type and file name", async () => {
    const calls: [string, number, PresignGetOptions][] = [];
    const links = storeResultLinks(
      {
        async presignGet(name, seconds, opts) {
          calls.push([name, seconds, opts]);
          return `https://store.example/${name}?X-Amz-Expires=${seconds}`;
        },
      },
      86400,
    );
    const now = T0 + 100;
    const got = await links.linksFor(record, now, T0 + 3600);
    assert.deepEqual(got, {
      resultUrl: "https://store.example/abc.mp4?X-Amz-Expires=3500",
      posterUrl: "https://store.example/abc.jpg?X-Amz-Expires=3500",
      expireUnix: now + 3500,
    });
    assert.deepEqual(calls[0]?.[2], { contentType: "video/mp4", filename: "abc.mp4" });
    assert.deepEqual(calls[1]?.[2], { contentType: "image/jpeg", filename: "abc.jpg" });
    // A later read mints a link that lives from then on: an expired one is renewed by reading again.
    const later = await links.linksFor(record, T0 + 200_000, T0 + 30 * 86400);
    assert.equal(later.expireUnix, T0 + 200_000 + 86400);
  });

  it("JetStream: the gateway's signed links, from the finish time, cut at the expiry", async () => {
    const links = gatewayResultLinks({
      baseUrl: () => "http://gw/",
      sign: (file, exp) => `/v1/videos/${file}?exp=${exp}`,
      ttlSeconds: 86400,
    });
    const a = await links.linksFor(record, T0 + 5, T0 + 168 * 3600);
    const b = await links.linksFor(record, T0 + 500, T0 + 168 * 3600);
    assert.deepEqual(a, b, "every read returns the same links");
    assert.equal(a.resultUrl, `http://gw/v1/videos/abc.mp4?exp=${T0 + 86400}`);
    assert.equal((await links.linksFor(record, T0, T0 + 3600)).expireUnix, T0 + 3600);
  });
});
