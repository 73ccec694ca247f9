import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { QueueEstimate } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { SchedulerState } from "../domain/state.js";
import { WatchSets } from "../domain/watch-sets.js";
import { NotLeaderError } from "../use-cases/leadership.js";
import { pushEstimates } from "./estimate-pusher.js";
import type { HeldWatches } from "./estimate-watch-subscription.js";

const log = createLogger("scheduler-test", "silent");

/** Two gateways watching the same queued task, as their registrations left them. */
function twoGatewaysWatching(): { state: SchedulerState; watches: HeldWatches } {
  const state = new SchedulerState();
  const taskId = newTaskId();
  state.track(
    create(TaskRecordSchema, {
      tenantId: "acme",
      pool: "standard",
      task: { taskId, status: TaskStatus.QUEUED, attempt: 1, createTime: timestampNow() },
    }),
  );
  const sets = new WatchSets();
  for (const gatewayId of ["gw-a", "gw-b"])
    sets.receive({ gatewayId, generation: 1n, part: 0, parts: 1, taskIds: [taskId], sizes: [] }, Date.now());
  const watches: HeldWatches = { sets, onAdded: () => () => {}, expire: () => {}, unsubscribe: () => {} };
  return { state, watches };
}

const deps = (state: SchedulerState, check: () => void) => ({
  fence: { check },
  state,
  groups: () => [],
  defaultRunSeconds: 60,
  now: Date.now,
  intervalMs: 60_000,
  log,
});

describe("the leader's estimate pusher", () => {
  it("still pushes to every other gateway when a push to one fails", async () => {
    const { state, watches } = twoGatewaysWatching();
    const got = new Map<string, readonly QueueEstimate[]>();
    const sub = pushEstimates(
      {
        push(gatewayId, estimates) {
          if (gatewayId === "gw-a") throw new Error("gw-a's push could not be sent");
          got.set(gatewayId, estimates);
          return 1;
        },
      },
      watches,
      deps(state, () => {}),
    );
    await delay(20);
    sub.unsubscribe();
    assert.equal(got.get("gw-b")?.length, 1, "gw-b got its task's estimate");
    assert.equal(got.get("gw-b")?.[0]?.queued, true);
  });

  it("pushes nothing once the fence refuses", async () => {
    const { state, watches } = twoGatewaysWatching();
    let pushed = 0;
    const sub = pushEstimates(
      {
        push() {
          pushed++;
          return 1;
        },
      },
      watches,
      deps(state, () => {
        throw new NotLeaderError("the term ended");
      }),
    );
    await delay(20);
    sub.unsubscribe();
    assert.equal(pushed, 0);
  });
});
