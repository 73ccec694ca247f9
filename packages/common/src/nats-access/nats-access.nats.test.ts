import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { API_KEYS_BUCKET, TENANTS_BUCKET } from "../api-keys/api-key-buckets.js";
import { ATTEMPT_CLAIMS_BUCKET } from "../channels/attempt-claims.js";
import type { Bus } from "../channels/bus/bus.js";
import { inboxPrefixOf } from "../channels/bus/inbox-prefix.js";
import { createNatsBus } from "../channels/bus/nats-bus.js";
import { natsAuth } from "../channels/bus/nats-connect.js";
import { CANCEL_SUBJECT } from "../channels/cancellations.js";
import { channels } from "../channels/channels.js";
import { ESTIMATE_WATCH_SUBJECT, estimatePushSubject } from "../channels/estimate-pushes.js";
import { GENERATE_STREAM } from "../channels/generate-jobs.js";
import { CHECKPOINTS_STORE, LATENTS_STORE } from "../channels/media-stores.js";
import { TASKS_BUCKET } from "../channels/task-store.js";
import { GenerateJobSchema } from "../gen/t2v/internal/v1/jobs_pb.js";
import { type QueueEstimate, QueueEstimateSchema } from "../gen/t2v/internal/v1/scheduler_queries_pb.js";
import { startNatsServer, type TestNatsServer } from "../testing/nats-server.js";
import type { NatsUser } from "./nats-users.js";

/** One nats-server run from the project's configuration: its users and their permissions. */
let server: TestNatsServer;
const open: NatsConnection[] = [];

before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await Promise.all(open.map((nc) => nc.close()));
  await server.stop();
});

async function as(user: NatsUser): Promise<{ nc: NatsConnection; bus: Bus }> {
  // As the services connect (connectNats): the user's own inbox prefix.
  const nc = await connect({
    servers: server.url,
    name: `acl-${user}`,
    ...natsAuth({ natsCreds: "", natsToken: "", natsUser: user, natsPassword: server.passwords[user] }),
  });
  open.push(nc);
  return { nc, bus: await createNatsBus(nc) };
}

/** Resolves with the next permission violation the server reports on `nc`. */
async function nextViolation(nc: NatsConnection): Promise<string> {
  for await (const s of nc.status()) {
    if (s.type === "error" && /permission/i.test(String(s.error))) return String(s.error);
  }
  throw new Error("connection closed without a permission violation");
}

const job = (taskId: string) => create(GenerateJobSchema, { taskId, attempt: 1 });
const refused = /permission/i;

describe("NATS access control, on a nats-server run from the project's configuration", () => {
  it("refuses a client without credentials and one with a wrong password", async () => {
    await assert.rejects(connect({ servers: server.url }), /authorization/i);
    await assert.rejects(connect({ servers: server.url, user: "gateway", pass: "wrong" }), /authorization/i);
    await assert.rejects(
      connect({ servers: server.url, user: "nobody", pass: server.passwords.admin }),
      /authorization/i,
    );
  });

  it("the gateway submits tasks and reads API keys, but cannot dispatch generate jobs", async () => {
    const { bus } = await as("gateway");
    const ch = channels(bus);
    await ch.submissions.submit({ taskId: "t-gw", tenantId: "acme", pool: "standard" });
    await (await bus.kv(API_KEYS_BUCKET)).put("k1", new Uint8Array([1]));
    await (await bus.kv(TENANTS_BUCKET)).get("acme");
    await (await bus.kv(TASKS_BUCKET)).put("t-gw", new Uint8Array([1]));
    await assert.rejects(ch.generateJobs.publish(job("t-gw"), "standard"), refused);
    await assert.rejects(ch.generateJobs.inbox("standard"), refused);
    await assert.rejects(bus.blobs(CHECKPOINTS_STORE), refused);
  });

  it("the scheduler dispatches generate jobs and reads submissions; the inference worker takes them", async () => {
    const scheduler = channels((await as("scheduler")).bus);
    const submitted = await (await scheduler.submissions.inbox()).next(5_000);
    assert.equal(submitted?.message.taskId, "t-gw");
    submitted?.ack();
    await scheduler.generateJobs.publish(job("t-1"), "standard");

    const inference = channels((await as("inference")).bus);
    const delivered = await (await inference.generateJobs.inbox("standard")).next(5_000);
    assert.equal(delivered?.message.taskId, "t-1");
    delivered?.ack();
    // Backlog of the group, as the dispatcher reads it (the ack is on its way: asked until it lands).
    let backlog = await scheduler.generateJobs.backlog("standard");
    for (const end = Date.now() + 5_000; backlog !== 0 && Date.now() < end; await delay(50))
      backlog = await scheduler.generateJobs.backlog("standard");
    assert.equal(backlog, 0);
  });

  it("the inference worker cannot read or write the API keys, nor dispatch or take submissions", async () => {
    const { bus } = await as("inference");
    await (await bus.kv(ATTEMPT_CLAIMS_BUCKET)).put("t-1.1", new Uint8Array([1]));
    await (await bus.blobs(LATENTS_STORE)).put("t-1.1", new Uint8Array([1, 2, 3]));
    await assert.rejects(bus.kv(API_KEYS_BUCKET), refused);
    await assert.rejects(bus.kv(TENANTS_BUCKET), refused);
    const ch = channels(bus);
    await assert.rejects(ch.generateJobs.publish(job("t-2"), "standard"), refused);
    await assert.rejects(ch.submissions.inbox(), refused);
  });

  it("the encoder takes decode jobs, but no generate jobs and no task controls", async () => {
    const { nc, bus } = await as("encoder");
    const ch = channels(bus);
    await ch.decodeJobs.inbox();
    await assert.rejects(ch.generateJobs.inbox("standard"), refused);
    // Task records: read, never written (the scheduler's).
    const records = await bus.kv(TASKS_BUCKET);
    assert.equal(await records.get("t-none"), null);
    await assert.rejects(records.put("t-none", new Uint8Array([1])), refused);
    await assert.rejects(bus.kv(API_KEYS_BUCKET), refused);

    // Listening to cancellations: the server closes the subscription.
    const sub = nc.subscribe(CANCEL_SUBJECT);
    assert.match(String(await sub.closed), refused);

    // Sending one: dropped by the server, which says so; a listener hears only the permitted sender.
    const admin = (await as("admin")).nc;
    const heard = admin.subscribe(CANCEL_SUBJECT, { max: 1 });
    await admin.flush();
    const violation = nextViolation(nc);
    nc.publish(CANCEL_SUBJECT, new TextEncoder().encode("from-encoder"));
    assert.match(await violation, /t2v\.control\.cancel/);
    const scheduler = (await as("scheduler")).nc;
    scheduler.publish(CANCEL_SUBJECT, new TextEncoder().encode("from-scheduler"));
    for await (const m of heard) assert.equal(m.string(), "from-scheduler");
  });

  it("the scheduler answers the gateway's queue-estimate requests; no service reads another's replies", async () => {
    const scheduler = channels((await as("scheduler")).bus);
    const answering = scheduler.queueEstimates.answer((ids) =>
      ids.map((taskId) => create(QueueEstimateSchema, { taskId, queued: true, position: 3 })),
    );
    try {
      const gateway = channels((await as("gateway")).bus);
      const [estimate] = await gateway.queueEstimates.request(["t-est"], 5_000);
      assert.equal(estimate?.position, 3);
      // Replies to the gateway come to its own inbox prefix; the inference user may not listen there.
      const { nc } = await as("inference");
      const sub = nc.subscribe(`${inboxPrefixOf("gateway")}.>`);
      assert.match(String(await sub.closed), refused);
    } finally {
      answering.unsubscribe();
    }
  });

  it("the gateway registers what it watches and hears its pushes; the inference user may do neither", async () => {
    const schedulerConn = await as("scheduler");
    const scheduler = channels(schedulerConn.bus);
    const parts: string[][] = [];
    const hearing = scheduler.estimatePushes.onRegistration((p) => parts.push(p.taskIds));
    const gatewayConn = await as("gateway");
    const gateway = channels(gatewayConn.bus);
    const pushed: QueueEstimate[] = [];
    const listening = gateway.estimatePushes.onPush("gw-acl", (es) => pushed.push(...es));
    try {
      // Both subscriptions are on the server before anything is sent.
      await Promise.all([schedulerConn.nc.flush(), gatewayConn.nc.flush()]);
      gateway.estimatePushes.register("gw-acl", 1n, ["t-watch"], []);
      for (const end = Date.now() + 5_000; parts.length === 0 && Date.now() < end; ) await delay(20);
      assert.deepEqual(parts, [["t-watch"]]);
      scheduler.estimatePushes.push("gw-acl", [
        create(QueueEstimateSchema, { taskId: "t-watch", queued: true, position: 2 }),
      ]);
      for (const end = Date.now() + 5_000; pushed.length === 0 && Date.now() < end; ) await delay(20);
      assert.equal(pushed[0]?.position, 2);

      // The inference user may not listen to a gateway's pushes, nor register or push.
      const { nc } = await as("inference");
      const sub = nc.subscribe(estimatePushSubject("gw-acl"));
      assert.match(String(await sub.closed), refused);
      const violation = nextViolation(nc);
      nc.publish(ESTIMATE_WATCH_SUBJECT, new Uint8Array([1]));
      assert.match(await violation, /estimate-watch/);
      // Nor may a gateway push estimates (only the scheduler does).
      const spoof = nextViolation(gatewayConn.nc);
      gatewayConn.nc.publish(estimatePushSubject("gw-acl"), new Uint8Array([1]));
      assert.match(await spoof, /t2v\.gateway\.estimates/);
    } finally {
      hearing.unsubscribe();
      listening.unsubscribe();
    }
  });

  it("no service deletes a stream; the admin may", async () => {
    for (const user of ["gateway", "scheduler", "inference", "encoder"] as const) {
      const { nc } = await as(user);
      await assert.rejects(
        nc.request(`$JS.API.STREAM.DELETE.${GENERATE_STREAM.name}`, undefined, { timeout: 5_000 }),
        refused,
      );
    }
    const { nc } = await as("admin");
    const answer = await nc.request(`$JS.API.STREAM.DELETE.${GENERATE_STREAM.name}`, undefined, { timeout: 5_000 });
    assert.match(answer.string(), /"success":true/);
  });
});
