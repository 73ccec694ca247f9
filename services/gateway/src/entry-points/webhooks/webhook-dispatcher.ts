import { setTimeout as delay } from "node:timers/promises";
import { type Delivery, handleOne, type Inbox } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { Logger } from "@t2v/common/logger";
import type { DeliverWebhook } from "../../use-cases/deliver-webhook.js";

export interface WebhookDispatcherDeps {
  /** `taskChanges.inbox`: the shared `webhooks` consumer, so gateway replicas split the work. */
  inbox: () => Promise<Inbox<TaskRecord>>;
  deliver: DeliverWebhook;
  log: Logger;
  /** A delivery that throws (a KV hiccup) is tried again after this long. */
  retryBaseMs: number;
  /** Deliveries in flight at once, all tenants together. */
  concurrency: number;
  /** Deliveries in flight at once for one tenant: a slow endpoint holds at most this many. */
  perTenant: number;
  /** Changes held waiting for a tenant's slots; past it a change goes back to the stream. */
  queuedPerTenant: number;
  /** How long a change sent back for a full tenant waits before it is delivered again. */
  deferMs: number;
}

interface Lane {
  running: number;
  waiting: Array<{ d: Delivery<TaskRecord>; stopKeepAlive: () => void }>;
}

export interface WebhookDispatcher {
  /** Deliveries in flight and changes held waiting for a slot (for tests and metrics). */
  load(): { running: number; waiting: number };
  stop(): Promise<void>;
}

/**
 * Delivers task status changes to each task's webhook_url, fairly between
 * tenants: each tenant has a lane of `perTenant` deliveries in flight and
 * `queuedPerTenant` waiting, and a freed slot goes to the next tenant in
 * turn that has work, so a tenant whose endpoint never answers holds only its
 * own lane. Waiting changes keep their message (in-progress acks); at most
 * 2 x `concurrency` wait in all, so with the running ones a replica holds
 * at most 3 x `concurrency` unacknowledged, under the consumer's
 * max_ack_pending. A change that finds no room is naked for `deferMs`; the
 * stream counts that as a delivery, so it counts as an attempt. A failed
 * delivery is naked with the Standard Webhooks backoff; the stream keeps the
 * delivery count, so the attempt number survives restarts.
 */
export function startWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const stopped = new AbortController();
  const opts = { log: deps.log, name: "webhooks", retryDelayMs: deps.retryBaseMs };
  const maxWaiting = 2 * deps.concurrency;
  const lanes = new Map<string, Lane>();
  /** Tenants with changes waiting, in the order free slots go to them. */
  const turn: string[] = [];
  const running = new Set<Promise<void>>();
  let waiting = 0;
  let roomFreed: (() => void) | undefined;

  const handle = async (d: Delivery<TaskRecord>) => {
    const verdict = await deps.deliver(d.message, d.deliveryCount);
    if (verdict.kind === "done") d.ack();
    else if (verdict.kind === "retry") d.nak(verdict.delayMs);
    else d.term("webhook attempts exhausted");
  };

  function laneOf(tenantId: string): Lane {
    let lane = lanes.get(tenantId);
    if (!lane) {
      lane = { running: 0, waiting: [] };
      lanes.set(tenantId, lane);
    }
    return lane;
  }

  function run(tenantId: string, lane: Lane, d: Delivery<TaskRecord>) {
    lane.running++;
    const stopKeepAlive = d.keepAlive();
    const p: Promise<void> = handleOne(d, handle, opts).finally(() => {
      stopKeepAlive();
      running.delete(p);
      lane.running--;
      if (lane.running === 0 && lane.waiting.length === 0) lanes.delete(tenantId);
      pump();
    });
    running.add(p);
  }

  /** Gives free slots to waiting changes, one tenant at a time in turn. */
  function pump() {
    let passed = 0;
    while (running.size < deps.concurrency && turn.length > 0 && passed < turn.length) {
      const tenantId = turn.shift() as string;
      const lane = laneOf(tenantId);
      const next = lane.running < deps.perTenant ? lane.waiting.shift() : undefined;
      if (next) {
        waiting--;
        next.stopKeepAlive();
        run(tenantId, lane, next.d);
        passed = 0;
        roomFreed?.();
      } else passed++;
      if (lane.waiting.length > 0) turn.push(tenantId);
    }
  }

  /** Places a pulled change; "wait" when it was sent back because every waiting place is taken. */
  function arrive(d: Delivery<TaskRecord>): "next" | "wait" {
    // Most tasks have no webhook: they never wait behind anyone's lane.
    if (!d.message.task?.webhookUrl) {
      d.ack();
      return "next";
    }
    const tenantId = d.message.tenantId;
    const lane = laneOf(tenantId);
    if (running.size < deps.concurrency && lane.running < deps.perTenant && lane.waiting.length === 0) {
      run(tenantId, lane, d);
      return "next";
    }
    if (lane.waiting.length < deps.queuedPerTenant && waiting < maxWaiting) {
      waiting++;
      if (lane.waiting.length === 0) turn.push(tenantId);
      lane.waiting.push({ d, stopKeepAlive: d.keepAlive() });
      return "next";
    }
    if (lane.running === 0 && lane.waiting.length === 0) lanes.delete(tenantId);
    deps.log.debug({ task_id: d.message.task?.taskId, tenant_id: tenantId }, "no webhook slot; deferred");
    d.nak(deps.deferMs);
    // The tenant's own lane was full: go on, the next change may be another tenant's.
    return lane.waiting.length >= deps.queuedPerTenant ? "next" : "wait";
  }

  /** Resolves when a waiting change starts, on stop, or after `ms`. */
  function room(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        stopped.signal.removeEventListener("abort", done);
        roomFreed = undefined;
        resolve();
      };
      roomFreed = done;
      stopped.signal.addEventListener("abort", done);
    });
  }

  async function pull() {
    let inbox: Inbox<TaskRecord> | undefined;
    while (!stopped.signal.aborted) {
      let d: Delivery<TaskRecord> | null;
      try {
        inbox ??= await deps.inbox();
        d = await inbox.next();
      } catch (err) {
        deps.log.warn({ err, consumer: opts.name }, "pull failed; retrying");
        await delay(500);
        continue;
      }
      // Every waiting place is taken: pull again once one frees, not in a tight nak loop.
      if (d && arrive(d) === "wait") await room(deps.deferMs);
    }
  }

  const puller = pull();
  return {
    load: () => ({ running: running.size, waiting }),
    async stop() {
      stopped.abort();
      await puller;
      // Changes that were only waiting go back at once, for another replica.
      for (const lane of lanes.values())
        for (const w of lane.waiting.splice(0)) {
          w.stopKeepAlive();
          w.d.nak(0);
        }
      waiting = 0;
      await Promise.allSettled([...running]);
    },
  };
}
