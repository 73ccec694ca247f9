import { toBinary } from "@bufbuild/protobuf";
import { type GenerateJob, GenerateJobSchema } from "../gen/t2v/internal/v1/jobs_pb.js";
import type { Bus, ConsumerSpec, StreamSpec } from "./bus/bus.js";
import { type Inbox, typedInbox } from "./delivery.js";
import { DAY_MS, DUPLICATE_WINDOW_MS } from "./durations.js";

/** Denoising work, scheduler -> the inference workers of one group, on t2v.job.generate.<group>. */
export const GENERATE_STREAM: StreamSpec = {
  name: "T2V_GENERATE",
  subjects: ["t2v.job.generate.>"],
  retention: "workqueue",
  maxAgeMs: 7 * DAY_MS,
  duplicateWindowMs: DUPLICATE_WINDOW_MS,
};

/** Workers serving the same pools form a group and share one consumer. */
export function generateConsumer(group: string): ConsumerSpec {
  return {
    stream: GENERATE_STREAM,
    durable: `inference-${group}`,
    filter: `t2v.job.generate.${group}`,
    ackWaitMs: 60_000,
    maxDeliver: 5,
  };
}

export interface GenerateJobs {
  /** Idempotent per task attempt: a re-publish (reconciler, new leader) inside the duplicate window is dropped. */
  publish(job: GenerateJob, group: string): Promise<void>;
  inbox(group: string): Promise<Inbox<GenerateJob>>;
  /** Jobs waiting for or held by the group's workers; null when the group has no consumer yet. */
  backlog(group: string): Promise<number | null>;
}

export function generateJobs(bus: Bus): GenerateJobs {
  return {
    publish: (job, group) =>
      bus.publish(GENERATE_STREAM, `t2v.job.generate.${group}`, toBinary(GenerateJobSchema, job), {
        msgId: `generate:${job.taskId}:${job.attempt}`,
        taskId: job.taskId,
      }),
    inbox: async (group) => {
      const spec = generateConsumer(group);
      return typedInbox(await bus.inbox(spec), spec, GenerateJobSchema);
    },
    backlog: (group) => bus.backlog(generateConsumer(group)),
  };
}
