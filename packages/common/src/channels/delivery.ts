import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import type { Context } from "@opentelemetry/api";
import type { ConsumerSpec, RawDelivery, RawInbox } from "./bus/bus.js";

/** One delivery of a typed message from a durable consumer. */
export interface Delivery<T> {
  readonly message: T;
  readonly subject: string;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  readonly taskId: string | undefined;
  /** The trace context the message was published in. */
  readonly traceContext: Context;
  ack(): void;
  nak(delayMs?: number): void;
  term(reason?: string): void;
  /** Restarts the ack wait once. */
  working(): void;
  /**
   * Keeps the message while long work runs: in-progress acks at a third of
   * the consumer's ack wait, until the returned function is called.
   */
  keepAlive(): () => void;
}

export interface Inbox<T> {
  /** The next message, or null when none came in time. A message that cannot be decoded is dropped (term). */
  next(expiresMs?: number): Promise<Delivery<T> | null>;
}

/** How often a delivery being worked on says so: well inside its ack wait. */
export function keepAliveEveryMs(spec: ConsumerSpec): number {
  return Math.floor(spec.ackWaitMs / 3);
}

const DEFAULT_EXPIRES_MS = 2_000;

/** A typed inbox over a raw one, decoding each message with `schema`. */
export function typedInbox<D extends DescMessage>(
  raw: RawInbox,
  spec: ConsumerSpec,
  schema: D,
): Inbox<MessageShape<D>> {
  return {
    async next(expiresMs = DEFAULT_EXPIRES_MS) {
      const d = await raw.next(expiresMs);
      if (!d) return null;
      let message: MessageShape<D>;
      try {
        message = fromBinary(schema, d.data);
      } catch {
        d.term(`not a ${schema.typeName}`);
        return null;
      }
      return typedDelivery(d, spec, message);
    },
  };
}

function typedDelivery<T>(d: RawDelivery, spec: ConsumerSpec, message: T): Delivery<T> {
  return {
    message,
    subject: d.subject,
    deliveryCount: d.deliveryCount,
    taskId: d.taskId,
    traceContext: d.traceContext,
    ack: () => d.ack(),
    nak: (delayMs) => d.nak(delayMs),
    term: (reason) => d.term(reason),
    working: () => d.working(),
    keepAlive() {
      const timer = setInterval(() => d.working(), keepAliveEveryMs(spec));
      return () => clearInterval(timer);
    },
  };
}
