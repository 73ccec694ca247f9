import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import type { JetStreamClient, PubAck } from "@nats-io/jetstream";

/**
 * Publishes a Protobuf message to JetStream and waits for the stream's ack.
 * `msgId` makes retries of the same publish idempotent within the stream's
 * duplicate window.
 */
export function publishProto<D extends DescMessage>(
  js: JetStreamClient,
  subject: string,
  schema: D,
  message: MessageShape<D>,
  msgId?: string,
): Promise<PubAck> {
  return js.publish(subject, toBinary(schema, message), msgId ? { msgID: msgId } : undefined);
}
