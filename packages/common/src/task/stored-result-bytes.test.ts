import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";
import { TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import { longestRetentionSeconds, MAX_REQUEST_RETENTION_SECONDS, retentionPolicyOf } from "./retention.js";
import { storedResultBytes } from "./stored-result-bytes.js";

function done(status: TaskStatus, cacheHit = false) {
  return create(TaskRecordSchema, {
    tenantId: "acme",
    task: { taskId: "t1", status, cacheHit },
    videoObject: "t1.mp4",
    videoSizeBytes: 1_000n,
    posterSizeBytes: 40n,
  });
}

describe("storedResultBytes", () => {
  it("is the MP4 plus the poster of a completed task", () => {
    assert.equal(storedResultBytes(done(TaskStatus.COMPLETED)), 1_040);
  });

  it("is nothing for a cache hit (the video is another task's) or a task that did not complete", () => {
    assert.equal(storedResultBytes(done(TaskStatus.COMPLETED, true)), 0);
    for (const s of [TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.ENCODING]) {
      assert.equal(storedResultBytes(done(s)), 0, TaskStatus[s]);
    }
  });
});

describe("longestRetentionSeconds", () => {
  it("is VIDEO_TTL_HOURS on JetStream (its bucket drops objects then), at least a request's 30 days on S3", () => {
    assert.equal(longestRetentionSeconds(retentionPolicyOf(168, "nats")), 168 * 3600);
    assert.equal(longestRetentionSeconds(retentionPolicyOf(168, "s3")), MAX_REQUEST_RETENTION_SECONDS);
    assert.equal(longestRetentionSeconds(retentionPolicyOf(24 * 40, "s3")), 40 * 86_400);
  });
});
