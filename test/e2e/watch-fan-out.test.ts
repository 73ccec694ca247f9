import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { connect } from "@nats-io/transport-node";
import { ErrorInfoSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { newTaskId } from "@t2v/common/task";
import { grpcClient } from "../support/gateway-clients.js";
import { grpcVideoClient } from "../support/grpc-video-client.js";
import { useMesh } from "../support/use-mesh.js";

const STREAMS = 1_000;
const PER_KEY = STREAMS + 10;
// The gateway lets one HTTP/2 connection have 100 streams open (HTTP2_MAX_CONCURRENT_STREAMS);
// a stream over that is refused by HTTP/2 itself, before the key's cap is asked.
const PER_SESSION = 100;

// The gateway alone on a real nats-server; the test writes the task records itself (the scheduler's part).
const mesh = useMesh({
  services: ["gateway"],
  env: {
    RATE_LIMIT_STANDARD: "9999999/9999999",
    WATCH_STREAMS_PER_KEY: String(PER_KEY),
    WATCH_STREAMS_PER_TENANT: String(PER_KEY + 5),
  },
});

function record(taskId: string, tenantId: string, status: TaskStatus, progress: number): TaskRecord {
  return create(TaskRecordSchema, {
    tenantId,
    pool: "standard",
    task: {
      taskId,
      status,
      progress,
      attempt: 1,
      tier: "standard",
      createTime: timestampNow(),
      updateTime: timestampNow(),
    },
  });
}

async function until(pred: () => boolean, what: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(50);
  }
}

/** Consumers on the task bucket's stream: each KV watch is one. */
async function taskWatchConsumers(): Promise<number> {
  const nc = await connect({ servers: mesh.natsUrl, ...mesh.nats.admin });
  try {
    const info = (await nc.request("$JS.API.STREAM.INFO.KV_t2v_tasks", "", { timeout: 5_000 })).json<{
      state: { consumer_count: number };
    }>();
    return info.state.consumer_count;
  } finally {
    await nc.close();
  }
}

describe("WatchTask fan-out on one gateway, real nats-server and gRPC clients", () => {
  it(`${STREAMS} streams on one task share one watch and all see the terminal state`, async () => {
    const taskId = newTaskId();
    await mesh.channels.tasks.create(record(taskId, "test", TaskStatus.PROCESSING, 0));
    // 900 over Connect's gRPC transport on 9 HTTP/2 sessions, 100 over @grpc/grpc-js.
    const connect = Array.from({ length: 9 }, () => grpcClient(mesh.baseUrl, mesh.apiKey));
    const grpcJs = grpcVideoClient(`127.0.0.1:${mesh.port}`, mesh.apiKey);
    const abort = new AbortController();
    let firsts = 0;
    const last: (TaskStatus | undefined)[] = [];
    const streams = Array.from({ length: STREAMS }, async (_, i) => {
      const events =
        i < 900
          ? (connect[i % 9] ?? assert.fail()).watchTask({ taskId }, { signal: abort.signal })
          : grpcJs.watchTask(taskId);
      let seen = false;
      for await (const ev of events) {
        if (!seen) {
          seen = true;
          firsts++;
        }
        last[i] = ev.task?.status;
      }
    });
    await until(() => firsts === STREAMS, `${STREAMS} streams to get their first state`);
    const consumers = await taskWatchConsumers();
    assert.ok(consumers <= 2, `${consumers} KV watch consumers for ${STREAMS} streams`);
    for (let step = 1; step <= 10; step++) {
      await mesh.channels.tasks.update(taskId, () => record(taskId, "test", TaskStatus.PROCESSING, step / 10));
      await delay(20);
    }
    await mesh.channels.tasks.update(taskId, () => record(taskId, "test", TaskStatus.COMPLETED, 1));
    await Promise.all(streams);
    grpcJs.close();
    assert.equal(last.filter((s) => s === TaskStatus.COMPLETED).length, STREAMS, "every stream ends on COMPLETED");
  });

  it("streams on 300 different tasks share one watch of the task records, and each sees its own task end", async () => {
    const TASKS = 300;
    const ids = Array.from({ length: TASKS }, () => newTaskId());
    for (const id of ids) await mesh.channels.tasks.create(record(id, "test", TaskStatus.PROCESSING, 0));
    const clients = Array.from({ length: Math.ceil(TASKS / PER_SESSION) + 1 }, () =>
      grpcClient(mesh.baseUrl, mesh.apiKey),
    );
    const abort = new AbortController();
    let firsts = 0;
    const ends = new Map<string, { status: TaskStatus | undefined; taskId: string }>();
    const streams = ids.map(async (taskId, i) => {
      let seen = false;
      for await (const ev of (clients[i % clients.length] ?? assert.fail()).watchTask(
        { taskId },
        { signal: abort.signal },
      )) {
        if (!seen) {
          seen = true;
          firsts++;
        }
        ends.set(taskId, { status: ev.task?.status, taskId: ev.task?.taskId ?? "" });
      }
    });
    await until(() => firsts === TASKS, `${TASKS} streams to get their first state`);
    const consumers = await taskWatchConsumers();
    assert.ok(consumers <= 2, `${consumers} KV watch consumers for ${TASKS} tasks`);
    for (const id of ids) await mesh.channels.tasks.update(id, () => record(id, "test", TaskStatus.COMPLETED, 1));
    await Promise.all(streams);
    for (const id of ids) assert.deepEqual(ends.get(id), { status: TaskStatus.COMPLETED, taskId: id });
  });

  it("refuses a stream over the key's cap with RESOURCE_EXHAUSTED, RetryInfo and ErrorInfo", async () => {
    const taskId = newTaskId();
    await mesh.channels.tasks.create(record(taskId, "test", TaskStatus.PROCESSING, 0));
    // Room on every session for the streams held and the one refused.
    const sessions = Math.ceil((PER_KEY + 1) / PER_SESSION) + 1;
    const clients = Array.from({ length: sessions }, () => grpcClient(mesh.baseUrl, mesh.apiKey));
    const abort = new AbortController();
    let opened = 0;
    const failures: unknown[] = [];
    const held = Array.from({ length: PER_KEY }, async (_, i) => {
      try {
        for await (const _ev of (clients[i % sessions] ?? assert.fail()).watchTask(
          { taskId },
          { signal: abort.signal },
        ))
          opened++;
      } catch (err) {
        if (ConnectError.from(err).code !== Code.Canceled) failures.push(err);
      }
    });
    await until(() => opened === PER_KEY || failures.length > 0, "the key's streams to open");
    if (failures.length > 0) {
      abort.abort();
      await Promise.all(held);
      assert.fail(`a stream under the cap failed: ${String(failures[0])}`);
    }
    const refused = await (async () => {
      try {
        for await (const _ev of (clients[0] ?? assert.fail()).watchTask({ taskId })) assert.fail("opened over the cap");
      } catch (err) {
        return ConnectError.from(err);
      }
      return assert.fail("no error");
    })();
    assert.equal(refused.code, Code.ResourceExhausted);
    assert.ok(refused.findDetails(RetryInfoSchema)[0]?.retryDelay, "RetryInfo");
    assert.equal(refused.findDetails(ErrorInfoSchema)[0]?.reason, "STREAM_LIMIT");
    abort.abort();
    await Promise.all(held);
    // Closed streams are counted out: a new one opens (once the gateway has seen them close).
    let reopened = false;
    const deadline = Date.now() + 30_000;
    while (!reopened && Date.now() < deadline) {
      const ctl = new AbortController();
      try {
        for await (const _ev of (clients[1] ?? assert.fail()).watchTask({ taskId }, { signal: ctl.signal })) {
          reopened = true;
          ctl.abort();
        }
      } catch (err) {
        if (ConnectError.from(err).code !== Code.Canceled && ConnectError.from(err).code !== Code.ResourceExhausted)
          throw err;
        if (!reopened) await delay(100);
      }
    }
    assert.ok(reopened, "a stream opens once the others closed");
  });

  it("revoking a key ends its open streams within seconds, with UNAUTHENTICATED", async () => {
    const other = await mesh.createKey("revoked-tenant");
    const taskId = newTaskId();
    await mesh.channels.tasks.create(record(taskId, "revoked-tenant", TaskStatus.PROCESSING, 0));
    const client = grpcClient(mesh.baseUrl, other.key);
    let opened = 0;
    const codes: (Code | "ended")[] = [];
    const streams = Array.from({ length: 5 }, async () => {
      try {
        for await (const _ev of client.watchTask({ taskId })) opened++;
        codes.push("ended");
      } catch (err) {
        codes.push(ConnectError.from(err).code);
      }
    });
    await until(() => opened === 5, "five streams to open");
    const prefix = (await mesh.apiKeys.list()).find((k) => k.tenantId === "revoked-tenant")?.prefix ?? assert.fail();
    const t0 = Date.now();
    assert.ok(await mesh.apiKeys.revoke(prefix));
    await Promise.all(streams);
    assert.ok(Date.now() - t0 < 30_000, "ended while the test waited (its deadline, not a timing claim)");
    assert.deepEqual(codes, Array(5).fill(Code.Unauthenticated));
  });
});
