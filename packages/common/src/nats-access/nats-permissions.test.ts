import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { API_KEYS_BUCKET } from "../api-keys/api-key-buckets.js";
import { subjectMatches } from "../channels/bus/bus.js";
import { inboxPrefixOf } from "../channels/bus/inbox-prefix.js";
import { CANCEL_SUBJECT } from "../channels/cancellations.js";
import { ESTIMATE_WATCH_SUBJECT, estimatePushSubject } from "../channels/estimate-pushes.js";
import { GENERATE_STREAM } from "../channels/generate-jobs.js";
import { natsPermissions, type SubjectPermissions } from "./nats-permissions.js";
import { SERVICE_ACCESS, SERVICE_NAMES, type ServiceName } from "./service-access.js";

const perms = (s: ServiceName): SubjectPermissions => natsPermissions(s, SERVICE_ACCESS[s]);
const allowed = (filters: readonly string[], subject: string): boolean =>
  filters.some((f) => f === subject || subjectMatches(f, subject));
const mayPublish = (s: ServiceName, subject: string): boolean => allowed(perms(s).publish, subject);
const maySubscribe = (s: ServiceName, subject: string): boolean => allowed(perms(s).subscribe, subject);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** Every spec and subject constant exported by the channel modules and the API-key buckets. */
async function channelExports(): Promise<{ key: string; value: unknown }[]> {
  const here = dirname(fileURLToPath(import.meta.url));
  const dirs = [join(here, "..", "channels"), join(here, "..", "api-keys")];
  const out: { key: string; value: unknown }[] = [];
  for (const dir of dirs) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".js") && !/test|contract|index/.test(n))) {
      const mod = (await import(join(dir, f))) as Record<string, unknown>;
      for (const [key, value] of Object.entries(mod)) out.push({ key: `${f}:${key}`, value });
    }
  }
  return out;
}

describe("NATS permissions from the channels each service uses", () => {
  it("every stream, consumer, bucket, store and subject a channel module declares is some service's", async () => {
    const services = SERVICE_NAMES.map((s) => SERVICE_ACCESS[s]);
    const exported = await channelExports();
    let seen = 0;
    for (const { key, value } of exported) {
      if (isRecord(value) && Array.isArray(value.subjects) && typeof value.name === "string") {
        seen++;
        assert.ok(
          services.some((a) => a.publishes.some((p) => p.name === value.name)),
          `${key}: no service publishes to ${value.name}`,
        );
      } else if (isRecord(value) && isRecord(value.stream) && typeof value.durable === "string") {
        seen++;
        const stream = value.stream.name;
        assert.ok(
          services.some((a) => a.consumes.some((c) => c.stream.name === stream && c.durable === value.durable)),
          `${key}: no service reads consumer ${value.durable} of ${String(stream)}`,
        );
      } else if (isRecord(value) && typeof value.name === "string" && typeof value.ttlMs === "number") {
        seen++;
        const name = value.name;
        assert.ok(
          services.some((a) => a.buckets.includes(name) || a.readsBuckets.includes(name) || a.stores.includes(name)),
          `${key}: no service may open ${name}`,
        );
      } else if (/_SUBJECT(_PREFIX)?$/.test(key) && typeof value === "string") {
        seen++;
        const subject = key.endsWith("_PREFIX") ? `${value}.x` : value;
        assert.ok(
          SERVICE_NAMES.some((s) => mayPublish(s, subject)),
          `${key}: no service may send on ${subject}`,
        );
        assert.ok(
          SERVICE_NAMES.some((s) => maySubscribe(s, subject)),
          `${key}: no service may listen on ${subject}`,
        );
      }
    }
    // The streams, consumers, buckets, stores and subjects of today's channels: the scan found them.
    assert.ok(seen >= 25, `only ${seen} channel specs found`);
  });

  it("each service may publish to the streams and subjects it sends on, and read its consumers", () => {
    assert.ok(mayPublish("gateway", "t2v.submit.standard"));
    assert.ok(mayPublish("scheduler", "t2v.job.generate.standard"));
    assert.ok(mayPublish("scheduler", "$JS.API.CONSUMER.MSG.NEXT.T2V_SUBMIT.scheduler-submit"));
    assert.ok(mayPublish("inference", "$JS.API.CONSUMER.MSG.NEXT.T2V_GENERATE.inference-vip"));
    assert.ok(mayPublish("inference", "$JS.ACK.T2V_GENERATE.inference-vip.1.2.3.4.5"));
    assert.ok(mayPublish("inference", "t2v.job.decode"));
    assert.ok(mayPublish("encoder", "$JS.API.CONSUMER.MSG.NEXT.T2V_DECODE.encoder"));
    assert.ok(mayPublish("encoder", "$O.t2v_videos.C.abc"));
    assert.ok(mayPublish("inference", "$KV.t2v_attempt_claims.task.1"));
    assert.ok(maySubscribe("inference", CANCEL_SUBJECT));
    assert.ok(maySubscribe("gateway", "t2v.preview.task-1"));
    // Only the scheduler answers requests (queue estimates), to the gateway and operators' tools;
    // each user reads its own replies and no other user's.
    assert.deepEqual(
      SERVICE_NAMES.filter((s) => mayPublish(s, `${inboxPrefixOf("gateway")}.abc.1`)),
      ["scheduler"],
    );
    assert.equal(mayPublish("scheduler", `${inboxPrefixOf("inference")}.abc.1`), false);
    for (const s of SERVICE_NAMES) {
      assert.ok(maySubscribe(s, `${inboxPrefixOf(s)}.abc.1`), s);
      for (const other of SERVICE_NAMES.filter((o) => o !== s))
        assert.equal(maySubscribe(s, `${inboxPrefixOf(other)}.abc.1`), false, `${s} reads ${other}'s replies`);
      assert.equal(maySubscribe(s, "_INBOX.abc.1"), false, `${s} reads default-inbox replies`);
    }
  });

  it("lets the workers read task records but not write them", () => {
    for (const s of ["inference", "encoder"] as const) {
      assert.ok(mayPublish(s, "$JS.API.DIRECT.GET.KV_t2v_tasks"), s);
      assert.equal(mayPublish(s, "$KV.t2v_tasks.t-1"), false, s);
      assert.equal(mayPublish(s, "$JS.API.STREAM.PURGE.KV_t2v_tasks"), false, s);
    }
    assert.ok(mayPublish("scheduler", "$KV.t2v_tasks.t-1"));
  });

  it("refuses what a service does not do", () => {
    // The gateway submits; only the scheduler dispatches.
    assert.equal(mayPublish("gateway", "t2v.job.generate.standard"), false);
    assert.equal(mayPublish("gateway", `$JS.API.CONSUMER.MSG.NEXT.${GENERATE_STREAM.name}.inference-standard`), false);
    // Workers never see API keys or tenants.
    for (const s of ["inference", "encoder", "scheduler"] as const) {
      assert.equal(mayPublish(s, `$KV.${API_KEYS_BUCKET.name}.abc`), false, s);
      assert.equal(mayPublish(s, `$JS.API.DIRECT.GET.KV_${API_KEYS_BUCKET.name}`), false, s);
      assert.equal(mayPublish(s, `$JS.API.CONSUMER.CREATE.KV_${API_KEYS_BUCKET.name}`), false, s);
    }
    // The encoder takes only decode jobs, and steals no one's generate jobs.
    assert.equal(
      mayPublish("encoder", "$JS.API.CONSUMER.CREATE.T2V_GENERATE.inference-standard.t2v.job.generate.standard"),
      false,
    );
    assert.equal(mayPublish("encoder", CANCEL_SUBJECT), false);
    assert.equal(maySubscribe("encoder", CANCEL_SUBJECT), false);
    // Pushed estimates: gateways register on one subject, the scheduler pushes to theirs; no one else.
    assert.deepEqual(
      SERVICE_NAMES.filter((s) => mayPublish(s, ESTIMATE_WATCH_SUBJECT)),
      ["gateway"],
    );
    assert.deepEqual(
      SERVICE_NAMES.filter((s) => maySubscribe(s, ESTIMATE_WATCH_SUBJECT)),
      ["scheduler"],
    );
    assert.deepEqual(
      SERVICE_NAMES.filter((s) => mayPublish(s, estimatePushSubject("gw-1"))),
      ["scheduler"],
    );
    assert.deepEqual(
      SERVICE_NAMES.filter((s) => maySubscribe(s, estimatePushSubject("gw-1"))),
      ["gateway"],
    );
    // Previews go from inference to the gateway only.
    assert.equal(mayPublish("gateway", "t2v.preview.task-1"), false);
    assert.equal(maySubscribe("scheduler", "t2v.preview.task-1"), false);
    // Nobody but the admin deletes a stream, lists them or reads another account's events.
    for (const s of SERVICE_NAMES) {
      assert.equal(mayPublish(s, "$JS.API.STREAM.DELETE.KV_t2v_tasks"), false, s);
      assert.equal(mayPublish(s, "$JS.API.STREAM.DELETE.T2V_SUBMIT"), false, s);
      assert.equal(maySubscribe(s, ">"), false, s);
      assert.equal(mayPublish(s, "$SYS.REQ.SERVER.PING"), false, s);
    }
  });
});
