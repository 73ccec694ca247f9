import { setTimeout as delay } from "node:timers/promises";
import type { Delivery, Inbox } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";

export interface RunHooks {
  /** The model is free for the next job: this one's denoise ended (or never started). */
  onModelFree: () => void;
}

export type JobHandler<T> = (d: Delivery<T>, hooks: RunHooks) => Promise<void>;

export interface WorkLoopOptions<T> {
  signal: AbortSignal;
  log: Logger;
  /**
   * Hold the next job while one denoises, prepare it, and start it the moment the model is free
   * (while the previous job still uploads its latents). Off: pull only after a job is fully
   * handled, as a plain pull loop does.
   */
  pipeline: boolean;
  /** Work done ahead for a held job (text encoding, initial noise); a failure only costs that head start. */
  prepare: (d: Delivery<T>) => Promise<void>;
  /**
   * Awaited before each pull and before a job starts: resolves true when the engine can take work
   * (at once, or after it was restarted), false when it is lost for good (the loop then stops).
   * A job held meanwhile stays held, kept alive.
   */
  ready?: () => Promise<boolean>;
  pullExpiresMs?: number;
}

interface HeldJob<T> {
  d: Delivery<T>;
  /** Stops its keep-alive and hands the delivery over (to run it, or to nak it). */
  release(): Delivery<T>;
}

const FREE: unique symbol = Symbol("model free");
const STOP: unique symbol = Symbol("stop");

/**
 * One job denoising at a time per worker, pulled one message at a time from the group's
 * inbox. With `pipeline`, a second message is pulled while the first runs and kept alive
 * (`keepAlive`, derived from the consumer's ack wait), so the hand-off to the next task costs no
 * fetch round trip and no text encoding. On abort a held job is naked at once; running ones
 * finish or hand themselves back (the handler watches the same signal), and the returned
 * promise waits for them.
 */
export async function workLoop<T>(inbox: Inbox<T>, handle: JobHandler<T>, opts: WorkLoopOptions<T>): Promise<void> {
  const { signal, log } = opts;
  const inFlight = new Set<Promise<void>>();
  let pending: Promise<Delivery<T> | null> | undefined;
  let held: HeldJob<T> | undefined;

  const startPull = (): Promise<Delivery<T> | null> => {
    pending ??= inbox.next(opts.pullExpiresMs ?? 2_000).catch(async (err: unknown) => {
      log.warn({ err }, "pull failed; retrying");
      await delay(500);
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

  const hold = (d: Delivery<T>): HeldJob<T> => {
    const stopKeepAlive = d.keepAlive();
    opts.prepare(d).catch((err: unknown) => log.warn({ err }, "preparing the next job failed"));
    return {
      d,
      release() {
        stopKeepAlive();
        return d;
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

  const run = (d: Delivery<T>): { free: Promise<void> } => {
    let onModelFree = (): void => undefined;
    const free = new Promise<void>((resolve) => {
      onModelFree = resolve;
    });
    const done = handle(d, { onModelFree })
      .catch((err: unknown) => {
        log.error({ err, subject: d.subject, task_id: d.taskId }, "message handler failed; redelivering");
        d.nak(1_000);
      })
      .finally(() => {
        onModelFree();
        inFlight.delete(done);
      });
    inFlight.add(done);
    // Without pipelining the next pull waits for the whole job, upload and ack included.
    return { free: opts.pipeline ? free : done };
  };

  const engineReady = async (): Promise<boolean> => {
    if (!opts.ready) return true;
    const ok = await Promise.race([opts.ready(), stopped]);
    return ok === true;
  };

  while (!signal.aborted) {
    if (!(await engineReady())) break;
    let d: Delivery<T> | null;
    if (held !== undefined) {
      d = held.release();
      held = undefined;
    } else {
      const pull = startPull();
      const got = await Promise.race([pull, stopped]);
      if (got === STOP) break;
      pending = undefined;
      d = got;
    }
    if (d === null) continue;
    if (signal.aborted) {
      d.nak();
      break;
    }
    const { free } = run(d);
    if (opts.pipeline) await holdNext(free);
    await Promise.race([free, stopped]);
  }

  nakHeld();
  // A pull still out may yet deliver a message: hand it straight back.
  const late = pending;
  pending = undefined;
  await Promise.all([late?.then((m) => m?.nak()), ...inFlight]);
}
