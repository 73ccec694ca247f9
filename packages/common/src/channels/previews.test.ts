import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PreviewSchema } from "../gen/t2v/v1/video_service_pb.js";
import { createMemoryBus } from "./bus/memory-bus.js";
import { channels } from "./channels.js";
import { MAX_PREVIEW_BYTES } from "./previews.js";

const preview = (bytes: number, step = 1) =>
  create(PreviewSchema, { image: new Uint8Array(bytes).fill(7), mimeType: "image/jpeg", step, width: 8, height: 4 });

describe("previews", () => {
  it("reach only the task's subscribers, with the attempt; oversized and empty ones are not sent", async () => {
    const c = channels(createMemoryBus());
    const heard: Array<[number, number]> = [];
    const other: number[] = [];
    const sub = c.previews.subscribe("t1", (p, attempt) => heard.push([p.step, attempt]));
    c.previews.subscribe("t2", (p) => other.push(p.step));
    assert.equal(c.previews.publish("t1", 2, preview(100, 3)), true);
    assert.equal(c.previews.publish("t1", 2, preview(MAX_PREVIEW_BYTES + 1, 4)), false);
    assert.equal(c.previews.publish("t1", 2, preview(0, 5)), false);
    // Delivered asynchronously, as on core NATS.
    await new Promise((r) => setImmediate(r));
    sub.unsubscribe();
    c.previews.publish("t1", 2, preview(10, 6));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(heard, [[3, 2]]);
    assert.deepEqual(other, []);
  });
});
