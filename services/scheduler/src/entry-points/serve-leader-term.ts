import type { Channels } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import type { LeaderTerm } from "../use-cases/run-leader-term.js";
import { subscribeCancellations } from "./cancel-subscription.js";
import { pushEstimates } from "./estimate-pusher.js";
import type { HeldWatches } from "./estimate-watch-subscription.js";
import { answerEstimates } from "./estimates-responder.js";
import { consumeSubmissions } from "./submission-consumer.js";
import { subscribeTaskControls } from "./task-control-subscription.js";
import { consumeWorkerEvents } from "./worker-event-consumer.js";

export interface ServeDeps {
  channels: Pick<
    Channels,
    "submissions" | "workerEvents" | "cancellations" | "taskControls" | "queueEstimates" | "estimatePushes"
  >;
  /** The gateways' watched sets, held by every replica (the leader pushes their estimates). */
  watches: HeldWatches;
  /** How often the estimates that moved are pushed. */
  estimateIntervalMs: number;
  log: Logger;
  defaultRunSeconds: number;
  now: () => number;
}

/**
 * Everything a leader term listens to: the cancel and task-control broadcasts, estimate
 * requests (and the timers that push the gateways their watched tasks' estimates), and the submission and worker-event consumers. Resolves once
 * `signal` aborts and both consumers have handed back their last message.
 */
export async function serveLeaderTerm(deps: ServeDeps, term: LeaderTerm, signal: AbortSignal): Promise<void> {
  const { channels: ch, log } = deps;
  const subscriptions = [
    subscribeCancellations(ch.cancellations, term.state),
    subscribeTaskControls(ch.taskControls, term.refile, log),
    answerEstimates(ch.queueEstimates, {
      fence: term.fence,
      state: term.state,
      groups: term.groups,
      defaultRunSeconds: deps.defaultRunSeconds,
      now: deps.now,
    }),
    pushEstimates(ch.estimatePushes, deps.watches, {
      fence: term.fence,
      state: term.state,
      groups: term.groups,
      defaultRunSeconds: deps.defaultRunSeconds,
      now: deps.now,
      intervalMs: deps.estimateIntervalMs,
      log,
    }),
  ];
  try {
    await Promise.all([
      consumeSubmissions(ch.submissions, term.handleSubmission, { signal, log }),
      consumeWorkerEvents(ch.workerEvents, term.applyEvent, { signal, log }),
    ]);
  } finally {
    for (const s of subscriptions) s.unsubscribe();
  }
}
