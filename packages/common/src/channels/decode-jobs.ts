import { toBinary } from "@bufbuild/protobuf";
import { type DecodeJob, DecodeJobSchema } from "../gen/t2v/internal/v1/jobs_pb.js";
import type { Bus, ConsumerSpec, StreamSpec } from "./bus/bus.js";
import { type Inbox, typedInbox } from "./delivery.js";
import { DAY_MS, DUPLICATE_WINDOW_MS } from "./durations.js";

/** Latents ready for VAE decoding and H.264, inference -> encoder. */
export const DECODE_STREAM: StreamSpec = {
  name: "T2V_DECODE",
  subjects: ["t2v.job.decode"],
  retention: "workqueue",
  maxAgeMs: 7 * DAY_MS,
  duplicateWindowMs: DUPLICATE_WINDOW_MS,
};

export const DECODE_CONSUMER: ConsumerSpec = {
  stream: DECODE_STREAM,
  durable: "encoder",
  filter: "t2v.job.decode",
  ackWaitMs: 60_000,
  maxDeliver: 5,
};

export interface DecodeJobs {
  /** Idempotent per task attempt. */
  publish(job: DecodeJob): Promise<void>;
  inbox(): Promise<Inbox<DecodeJob>>;
}

export function decodeJobs(bus: Bus): DecodeJobs {
  return {
    publish: (job) =>
      bus.publish(DECODE_STREAM, "t2v.job.decode", toBinary(DecodeJobSchema, job), {
        msgId: `decode:${job.taskId}:${job.attempt}`,
        taskId: job.taskId,
      }),
    inbox: async () => typedInbox(await bus.inbox(DECODE_CONSUMER), DECODE_CONSUMER, DecodeJobSchema),
  };
}
