import type { Consumer, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "@t2v/common";

export interface RunHooks {
  /** The model is free for the next job: this one's denoise ended (or never started). */
  onModelFree: () => void;
}

export type JobHandler = (msg: JsMsg, hooks: RunHooks) => Promise<void>;

export interface WorkLoopOptions {
  signal: AbortSignal;
  log: Logger;
  /**
   * Hold the next job while one denoises, prepare it, and start it the moment the model is free
   * (while the previous job still uploads its latents). Off: pull only after a job is fully
   * handled, as a plain pull loop does.
   */
  pipeline: boolean;
  /** Work done ahead for a held job (text encoding); a failure only costs that head start. */
  prepare: (msg: JsMsg) => Promise<void>;
  /** In-progress acks for a held job, well inside the consumer's ack_wait. */
  heartbeatMs?: number;
  pullExpiresMs?: number;
}

interface HeldJob {
  msg: JsMsg;
  /** Stops its heartbeats and hands the message over (to run it, or to nak it). */
  release(): JsMsg;
}

const FREE: unique symbol = Symbol("model free");
const STOP: unique symbol = Symbol("stop");

/**
 * One job denoising at a time per worker, pulled one message at a time from the group's
 * consumer. With `pipeline`, a second message is pulled while the first runs and kept alive
 * with `working()`, so the hand-off to the next task costs no fetch round trip and no text
 * encoding. On abort a held job is naked at once; running ones finish or hand themselves back
 * (the handler watches the same signal), and the returned promise waits for them.
 */
export async function workLoop(consumer: Consumer, handle: JobHandler, opts: WorkLoopOptions): Promise<void> {
  const { signal, log } = opts;
  const inFlight = new Set<Promise<void>>();
  let pending: Promise<JsMsg | null> | undefined;
  let held: HeldJob | undefined;

  const startPull = (): Promise<JsMsg | null> => {
    pending ??= consumer.next({ expires: opts.pullExpiresMs ?? 2_000 }).catch(async (err: unknown) => {
      log.warn({ err }, "pull failed; retrying");
      await sleep(500);
      return null;
    });
    return pending;
  };
  const stopped = new Promise<typeof STOP>((resolve) => {
    if (signal.aborted) resolve(STOP);
    signal.addEventListener("abort", () => resolve(STOP), { once: true });
  });
  const nakHeld = (): void => {
    const job = held;
    held = undefined;
    if (job === undefined) return;
    log.info("shutting down: handing the held job back");
    job.release().nak();
  };
  signal.addEventListener("abort", nakHeld, { once: true });

  const hold = (msg: JsMsg): HeldJob => {
    const timer = setInterval(() => msg.working(), opts.heartbeatMs ?? 10_000);
    opts.prepare(msg).catch((err: unknown) => log.warn({ err }, "preparing the next job failed"));
    return {
      msg,
      release() {
        clearInterval(timer);
        return msg;
      },
    };
  };

  /** Pulls (at most one message) until the running job frees the model or we stop. */
  const holdNext = async (free: Promise<void>): Promise<void> => {
    const freed = free.then((): typeof FREE => FREE);
    while (!signal.aborted) {
      const pull = startPull();
      const got = await Promise.race([pull, freed, stopped]);
      if (got === FREE || got === STOP) return; // an outstanding pull is taken by the main loop
      pending = undefined;
      if (got === null) continue;
      if (signal.aborted) {
        got.nak();
        return;
      }
      held = hold(got);
      return;
    }
  };

  const run = (msg: JsMsg): { free: Promise<void> } => {
    let onModelFree = (): void => undefined;
    const free = new Promise<void>((resolve) => {
      onModelFree = resolve;
    });
    const done = handle(msg, { onModelFree })
      .catch((err: unknown) => {
        log.error({ err, subject: msg.subject }, "message handler failed; redelivering");
        msg.nak(1_000);
      })
      .finally(() => {
        onModelFree();
        inFlight.delete(done);
      });
    inFlight.add(done);
    // Without pipelining the next pull waits for the whole job, upload and ack included.
    return { free: opts.pipeline ? free : done };
  };

  while (!signal.aborted) {
    let msg: JsMsg | null;
    if (held !== undefined) {
      msg = held.release();
      held = undefined;
    } else {
      const pull = startPull();
      const got = await Promise.race([pull, stopped]);
      if (got === STOP) break;
      pending = undefined;
      msg = got;
    }
    if (msg === null) continue;
    if (signal.aborted) {
      msg.nak();
      break;
    }
    const { free } = run(msg);
    if (opts.pipeline) await holdNext(free);
    await Promise.race([free, stopped]);
  }

  nakHeld();
  // A pull still out may yet deliver a message: hand it straight back.
  const late = pending;
  pending = undefined;
  await Promise.all([late?.then((m) => m?.nak()), ...inFlight]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
