import type { Logger } from "pino";

export interface EngineSupervisorOptions<E> {
  initial: E;
  /** Starts a fresh engine; releasing the dead one is the caller's business (main.ts closes it). */
  restart(): Promise<E>;
  log: Logger;
  /** The engine could not be brought back: report not live, hand work back, exit non-zero. */
  onFatal(err: unknown): void;
  /** A loss this soon after a restart is fatal without another try: the engine dies in a loop. */
  minUptimeMs?: number;
  now?: () => number;
}

export interface EngineSupervisor<E> {
  /** The engine to give work to. */
  current(): E;
  /** Resolves true when the engine can take work (at once, or once a restart is done), false once it is lost for good. */
  ready(): Promise<boolean>;
  /**
   * `engine` died (its thread crashed or exited): no more work goes to it, one fresh engine is
   * started, and when that fails `onFatal` is called. A report about an engine already replaced
   * is ignored.
   */
  lost(engine: E, err: unknown): void;
}

/** Ten minutes: at real scale a model load takes minutes, so a faster loop is a broken node or package. */
const MIN_UPTIME_MS = 10 * 60_000;

/**
 * Keeps a worker's model engine (onnxruntime in a worker thread) serving:
 * restarts it once when its thread dies, and gives up (the process exits and
 * its supervisor restarts it on a fresh start) when the restart fails or the
 * engine dies again within `minUptimeMs`.
 */
export function createEngineSupervisor<E>(opts: EngineSupervisorOptions<E>): EngineSupervisor<E> {
  const now = opts.now ?? Date.now;
  const minUptime = opts.minUptimeMs ?? MIN_UPTIME_MS;
  let engine = opts.initial;
  let restartedAt: number | undefined;
  let restarting: Promise<boolean> | undefined;
  let fatal = false;

  const giveUp = (err: unknown): boolean => {
    fatal = true;
    opts.log.fatal({ err }, "engine lost for good: not live, exiting");
    opts.onFatal(err);
    return false;
  };

  return {
    current: () => engine,
    ready: () => (fatal ? Promise.resolve(false) : (restarting ?? Promise.resolve(true))),
    lost(dead, err) {
      if (fatal || restarting || dead !== engine) return;
      if (restartedAt !== undefined && now() - restartedAt < minUptime) {
        giveUp(err);
        return;
      }
      opts.log.error({ err }, "engine lost: handing work back and restarting it");
      restarting = opts.restart().then(
        (fresh) => {
          engine = fresh;
          restartedAt = now();
          restarting = undefined;
          opts.log.info("engine restarted; taking work again");
          return true;
        },
        (restartErr: unknown) => {
          restarting = undefined;
          return giveUp(restartErr);
        },
      );
    },
  };
}

/**
 * Whether `err` says the engine itself is gone rather than one call failing:
 * @t2v/model's engine client rejects every call with "engine worker crashed: …"
 * or "engine worker exited (code N)" once its thread died ("engine closed"
 * after close). An `EngineLostError` by name is taken too, should the model
 * package type it.
 */
export function isEngineLost(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === "EngineLostError" || /^engine (worker crashed|worker exited|closed)\b/.test(err.message);
}
