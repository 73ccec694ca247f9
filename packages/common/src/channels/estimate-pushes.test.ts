import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  EstimatePushSchema,
  EstimateWatchSchema,
  QueueEstimateSchema,
  TaskSizeSchema,
} from "../gen/t2v/internal/v1/scheduler_queries_pb.js";
import { createMemoryBus } from "./bus/memory-bus.js";
import {
  ESTIMATE_WATCH_SUBJECT,
  estimatePushes,
  estimatePushSubject,
  isGatewayId,
  MAX_PUSH_ESTIMATES,
  MAX_WATCH_IDS_PER_PART,
  type WatchPart,
} from "./estimate-pushes.js";

describe("estimate pushes channel", () => {
  it("sends a large watched set in parts of one generation, each with its own tasks' sizes", async () => {
    const bus = createMemoryBus();
    const ch = estimatePushes(bus);
    const parts: WatchPart[] = [];
    ch.onRegistration((p) => parts.push(p));
    const ids = Array.from({ length: 2 * MAX_WATCH_IDS_PER_PART + 1 }, (_, i) => `t${i}`);
    const last = ids.at(-1) ?? "";
    const sent = ch.register("gw-1", 7n, ids, [create(TaskSizeSchema, { taskId: last, pool: "standard" })]);
    await delay(5);
    assert.equal(sent, 3);
    assert.deepEqual(
      parts.map((p) => [p.generation, p.part, p.parts, p.taskIds.length, p.sizes.length]),
      [
        [7n, 0, 3, MAX_WATCH_IDS_PER_PART, 0],
        [7n, 1, 3, MAX_WATCH_IDS_PER_PART, 0],
        [7n, 2, 3, 1, 1],
      ],
    );
    // An empty set is one empty part.
    assert.equal(ch.register("gw-1", 8n, [], []), 1);
  });

  it("drops garbage and out-of-bounds registrations and pushes instead of passing them on", async () => {
    const bus = createMemoryBus();
    const ch = estimatePushes(bus);
    const parts: WatchPart[] = [];
    ch.onRegistration((p) => parts.push(p));
    const watch = (o: Parameters<typeof create<typeof EstimateWatchSchema>>[1]) =>
      bus.broadcast(ESTIMATE_WATCH_SUBJECT, toBinary(EstimateWatchSchema, create(EstimateWatchSchema, o)));
    bus.broadcast(ESTIMATE_WATCH_SUBJECT, new Uint8Array([0xff, 0xff, 0xff]));
    watch({ gatewayId: "bad id.>", parts: 1, taskIds: ["a"] });
    watch({ gatewayId: "gw", parts: 0, taskIds: ["a"] });
    watch({ gatewayId: "gw", part: 1, parts: 1, taskIds: ["a"] });
    watch({ gatewayId: "gw", parts: 1000, taskIds: ["a"] });
    watch({ gatewayId: "gw", parts: 1, taskIds: [""] });
    watch({
      gatewayId: "gw",
      parts: 1,
      taskIds: Array.from({ length: MAX_WATCH_IDS_PER_PART + 1 }, (_, i) => `t${i}`),
    });
    watch({ gatewayId: "gw", parts: 1, taskIds: ["a"], sizes: [{ taskId: "b" }] });
    watch({ gatewayId: "gw", parts: 1, taskIds: ["ok"] });
    await delay(5);
    assert.deepEqual(
      parts.map((p) => p.taskIds),
      [["ok"]],
    );

    const heard: string[][] = [];
    ch.onPush("gw", (es) => heard.push(es.map((e) => e.taskId)));
    const push = (o: Parameters<typeof create<typeof EstimatePushSchema>>[1]) =>
      bus.broadcast(estimatePushSubject("gw"), toBinary(EstimatePushSchema, create(EstimatePushSchema, o)));
    bus.broadcast(estimatePushSubject("gw"), new Uint8Array([0xff, 0xff, 0xff]));
    push({ gatewayId: "someone-else", estimates: [{ taskId: "x" }] });
    push({ gatewayId: "gw", estimates: [{ taskId: "" }, { taskId: "y" }] });
    await delay(5);
    assert.deepEqual(heard, [["y"]]);
    assert.throws(() => ch.onPush("no.such>", () => undefined));
    assert.equal(isGatewayId("a".repeat(65)), false);
    assert.equal(isGatewayId("3f2c9a4e-0b1d-4c8e-9f00-1a2b3c4d5e6f"), true);
  });

  it("splits a large push into messages of at most MAX_PUSH_ESTIMATES", async () => {
    const bus = createMemoryBus();
    const ch = estimatePushes(bus);
    const sizes: number[] = [];
    ch.onPush("gw", (es) => sizes.push(es.length));
    const many = Array.from({ length: MAX_PUSH_ESTIMATES + 5 }, (_, i) =>
      create(QueueEstimateSchema, { taskId: `t${i}` }),
    );
    assert.equal(ch.push("gw", many), 2);
    assert.equal(ch.push("gw", []), 0);
    await delay(5);
    assert.deepEqual(sizes, [MAX_PUSH_ESTIMATES, 5]);
  });
});
