import type { EstimatePushes, Unsubscribe } from "@t2v/common/channels";
import type { QueueEstimate } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import type { Logger } from "@t2v/common/logger";
import { estimateChanges, watchedEstimates } from "../domain/estimate-changes.js";
import type { SchedulerState } from "../domain/state.js";
import type { WorkerGroup } from "../domain/worker-group.js";
import { NotLeaderError, type TermFence } from "../use-cases/leadership.js";
import type { HeldWatches } from "./estimate-watch-subscription.js";

/** Tasks newly registered are pushed this soon after (a burst of registrations shares one push). */
export const NEW_WATCH_DEBOUNCE_MS = 5;

export interface PusherDeps {
  /** Whether this replica still leads: a replica that does not pushes nothing. */
  fence: Pick<TermFence, "check">;
  state: SchedulerState;
  groups: () => readonly WorkerGroup[];
  defaultRunSeconds: number;
  now: () => number;
  /** How often what moved is pushed. */
  intervalMs: number;
  log: Logger;
}

/**
 * The leader's pushes for one term: each gateway gets its watched tasks'
 * estimates that it was never sent this term or that moved, every
 * `intervalMs`, and those it just registered within NEW_WATCH_DEBOUNCE_MS.
 * What was sent is this term's: the next leader starts from nothing and
 * sends every watched task's estimate once, at its start.
 */
export function pushEstimates(
  pushes: Pick<EstimatePushes, "push">,
  watches: HeldWatches,
  deps: PusherDeps,
): Unsubscribe {
  const pushed = new Map<string, Map<string, QueueEstimate>>();
  const due = new Set<string>();
  let debounce: NodeJS.Timeout | undefined;

  function pushTo(gatewayId: string): void {
    const set = watches.sets.get(gatewayId);
    if (!set) {
      pushed.delete(gatewayId);
      return;
    }
    deps.fence.check();
    const now = deps.now();
    const current = watchedEstimates(deps.state, deps.groups(), set, now, deps.defaultRunSeconds);
    const next = estimateChanges(pushed.get(gatewayId) ?? new Map(), current, now);
    pushed.set(gatewayId, next.pushed);
    if (next.changed.length === 0) return;
    pushes.push(gatewayId, next.changed);
  }

  function run(gatewayIds: Iterable<string>): void {
    for (const id of gatewayIds) {
      try {
        pushTo(id);
      } catch (err) {
        // Not leading any more (the term is ending): nothing more this round, nor for the next leader to undo.
        if (err instanceof NotLeaderError) {
          deps.log.debug({ err }, "estimate pushes skipped: not the leader");
          return;
        }
        // One gateway's failure leaves the others their pushes; the next round tries it again.
        deps.log.warn({ err, gateway_id: id }, "estimate push to a gateway failed");
      }
    }
  }

  function tick(): void {
    watches.expire();
    const live = new Set(watches.sets.gatewayIds());
    for (const id of pushed.keys()) if (!live.has(id)) pushed.delete(id);
    run(live);
  }

  const removeListener = watches.onAdded((gatewayId) => {
    due.add(gatewayId);
    debounce ??= setTimeout(() => {
      debounce = undefined;
      const ids = [...due];
      due.clear();
      run(ids);
    }, NEW_WATCH_DEBOUNCE_MS);
  });
  // A new leader pushes the sets it already holds at once.
  const first = setTimeout(tick, 0);
  const timer = setInterval(tick, deps.intervalMs);
  timer.unref();
  return {
    unsubscribe() {
      removeListener();
      clearTimeout(first);
      clearTimeout(debounce);
      clearInterval(timer);
    },
  };
}
