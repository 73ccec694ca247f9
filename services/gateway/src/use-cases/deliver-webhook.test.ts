import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { WebhookDisabled } from "../adapters/webhook-disabled.js";
import type { SendOutcome } from "../adapters/webhook-sender.js";
import { parseAllowList } from "../domain/allow-list.js";
import { webhookRetryDelayMs } from "../domain/webhook-backoff.js";
import { silentLog } from "../testing/gateway-fixture.js";
import { deliverWebhookUseCase } from "./deliver-webhook.js";

const TASK_ID = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";

function record(webhookUrl: string): TaskRecord {
  return create(TaskRecordSchema, {
    task: { taskId: TASK_ID, status: TaskStatus.COMPLETED, attempt: 1, webhookUrl },
    tenantId: "alice",
  });
}

function setup(outcome: SendOutcome, resolved: Record<string, string[]> = {}) {
  const disabled = new Set<string>();
  const store: WebhookDisabled = {
    has: async (id) => disabled.has(id),
    add: async (id) => {
      disabled.add(id);
    },
  };
  const sent: { url: string; address: string; headers: Record<string, string>; body: string }[] = [];
  const outcomes: string[] = [];
  const deliver = deliverWebhookUseCase({
    secretOf: async () => `whsec_${Buffer.from("0123456789abcdef").toString("base64")}`,
    disabled: store,
    view: async (r) => create(TaskSchema, r.task),
    allow: parseAllowList(""),
    resolve: async (host) => {
      const a = resolved[host];
      if (!a) throw new Error("NXDOMAIN");
      return a.map((address) => ({ address, family: 4 }));
    },
    send: async (url, target, headers, body) => {
      sent.push({ url: url.href, address: target.address, headers, body });
      return outcome;
    },
    log: silentLog,
    now: () => 1_700_000_000_000,
    timeoutMs: 1000,
    maxAttempts: 3,
    retryBaseMs: 50,
    onOutcome: (o) => outcomes.push(o),
  });
  return { deliver, disabled, sent, outcomes };
}

describe("deliverWebhook", () => {
  const url = "https://hooks.example.com/t2v";
  const dns = { "hooks.example.com": ["93.184.216.34"] };

  it("sends to the checked address with signed headers; 2xx is done", async () => {
    const s = setup({ kind: "delivered", status: 200 }, dns);
    assert.deepEqual(await s.deliver(record(url), 1), { kind: "done" });
    const [hit] = s.sent;
    assert.equal(hit?.address, "93.184.216.34");
    assert.equal(hit?.headers["webhook-id"], `${TASK_ID}.completed.1`);
    assert.equal(hit?.headers["webhook-timestamp"], "1700000000");
    assert.match(hit?.headers["webhook-signature"] ?? "", /^v1,/);
    assert.equal(JSON.parse(hit?.body ?? "{}").type, "task.completed");
    assert.deepEqual(s.outcomes, ["delivered"]);
  });

  it("retries failures on the scaled schedule, then gives up", async () => {
    const s = setup({ kind: "failed", reason: "HTTP 500" }, dns);
    assert.deepEqual(await s.deliver(record(url), 1), { kind: "retry", delayMs: 50 });
    assert.deepEqual(await s.deliver(record(url), 2), { kind: "retry", delayMs: webhookRetryDelayMs(2, 0.01) });
    assert.deepEqual(await s.deliver(record(url), 3), { kind: "give-up" });
    assert.deepEqual(s.outcomes, ["failed", "failed", "given_up"]);
  });

  it("stops a task's webhooks for good on 410", async () => {
    const s = setup({ kind: "gone" }, dns);
    assert.deepEqual(await s.deliver(record(url), 1), { kind: "done" });
    assert.ok(s.disabled.has(TASK_ID));
    assert.deepEqual(await s.deliver(record(url), 1), { kind: "done" });
    assert.equal(s.sent.length, 1);
  });

  it("refuses a target that turned internal for good, and retries DNS trouble", async () => {
    const internal = setup({ kind: "delivered", status: 200 }, { "hooks.example.com": ["169.254.169.254"] });
    assert.deepEqual(await internal.deliver(record(url), 1), { kind: "done" });
    assert.ok(internal.disabled.has(TASK_ID));
    assert.equal(internal.sent.length, 0);
    const nxdomain = setup({ kind: "delivered", status: 200 });
    assert.deepEqual(await nxdomain.deliver(record(url), 1), { kind: "retry", delayMs: 50 });
    assert.equal(nxdomain.disabled.size, 0);
  });

  it("does nothing for a task without a webhook", async () => {
    const s = setup({ kind: "delivered", status: 200 }, dns);
    assert.deepEqual(await s.deliver(record(""), 1), { kind: "done" });
    assert.equal(s.sent.length, 0);
  });
});
