import type { Snapshot } from "./latest-snapshot.js";

export interface FanOutSubscriber<T> {
  offer(s: Snapshot<T>): void;
}

export interface FanOut<T> {
  /** Adds a subscriber to a topic; it is offered the topic's latest snapshot at once, if there is one. `first`: the topic was new. */
  join(topic: string, sub: FanOutSubscriber<T>): { first: boolean };
  /** `last`: the topic has no subscriber left and is forgotten. */
  leave(topic: string, sub: FanOutSubscriber<T>): { last: boolean };
  /** Numbers the value and offers it to every subscriber of the topic; false when nobody subscribes. */
  publish(topic: string, value: T, terminal: boolean): boolean;
  latest(topic: string): Snapshot<T> | undefined;
  subscribers(topic: string): number;
  topics(): IterableIterator<string>;
}

interface Topic<T> {
  latest: Snapshot<T> | undefined;
  seq: number;
  subs: Set<FanOutSubscriber<T>>;
}

/**
 * In-process fan-out of one source per topic to many subscribers: one
 * latest snapshot kept per topic (never a history), so memory grows with
 * topics and subscribers, not with events.
 */
export function createFanOut<T>(): FanOut<T> {
  const topics = new Map<string, Topic<T>>();
  return {
    join(topic, sub) {
      let t = topics.get(topic);
      const first = t === undefined;
      if (!t) {
        t = { latest: undefined, seq: 0, subs: new Set() };
        topics.set(topic, t);
      }
      t.subs.add(sub);
      if (t.latest) sub.offer(t.latest);
      return { first };
    },
    leave(topic, sub) {
      const t = topics.get(topic);
      if (!t) return { last: false };
      t.subs.delete(sub);
      if (t.subs.size > 0) return { last: false };
      topics.delete(topic);
      return { last: true };
    },
    publish(topic, value, terminal) {
      const t = topics.get(topic);
      if (!t) return false;
      const s: Snapshot<T> = { value, seq: ++t.seq, terminal };
      t.latest = s;
      for (const sub of t.subs) sub.offer(s);
      return true;
    },
    latest: (topic) => topics.get(topic)?.latest,
    subscribers: (topic) => topics.get(topic)?.subs.size ?? 0,
    topics: () => topics.keys(),
  };
}
