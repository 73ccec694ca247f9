import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import type { Context } from "@opentelemetry/api";
import { traceHeaders } from "../telemetry/nats-propagation.js";

export interface PublishOptions {
  /** Makes retries of the same publish idempotent within the stream's duplicate window. */
  msgId?: string;
  /** Carried in a header so consumers can label spans and logs before decoding. */
  taskId?: string;
  /** Trace context to propagate; the active one by default. */
  ctx?: Context;
}

/**
 * Publishes a Protobuf message to JetStream with W3C trace context in its
 * headers, and waits for the stream's ack.
 */
export function publishProto<D extends DescMessage>(
  js: JetStreamClient,
  subject: string,
  schema: D,
  message: MessageShape<D>,
  opts: PublishOptions = {},
): Promise<PubAck> {
  return js.publish(subject, toBinary(schema, message), {
    headers: traceHeaders(opts.taskId, opts.ctx),
    ...(opts.msgId ? { msgID: opts.msgId } : {}),
  });
}
