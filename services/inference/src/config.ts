import { bool, type ConfigOf, commonFields, int, list, str } from "@t2v/common/config";
import { TIERS } from "@t2v/common/task";

export const inferenceConfig = {
  ...commonFields,
  modelDir: str("MODEL_DIR", "model package folder (manifest.json + ONNX components)"),
  executionProviders: list(
    "EXECUTION_PROVIDERS",
    "onnxruntime providers to try, in order",
    ["cuda", "cpu"],
    ["cuda", "cpu"],
  ),
  pools: list("POOLS", "GPU pools this worker serves, highest priority first", ["standard"], TIERS),
  intraOpThreads: int("INTRA_OP_THREADS", "onnxruntime threads (0 = one per core)", 0, 0, 256),
  pipelineNextTask: bool(
    "PIPELINE_NEXT_TASK",
    "1: hold and prepare the next job while one denoises; 0: pull only after a job is done",
    true,
  ),
  workerId: str("WORKER_ID", "name in task records and logs (default: host name and pid)", ""),
  videoTtlHours: int("VIDEO_TTL_HOURS", "how long finished videos are kept", 168, 1, 24 * 365),
  checkpointEverySteps: int(
    "CHECKPOINT_EVERY_STEPS",
    "write a denoising checkpoint after every this many steps (0: not by steps); a retry resumes from the newest",
    0,
    0,
    10_000,
  ),
  checkpointEverySeconds: int(
    "CHECKPOINT_EVERY_SECONDS",
    "write a denoising checkpoint after the step that ends this many seconds of denoising after the last one (0: not by time)",
    30,
    0,
    86_400,
  ),
};

export type InferenceConfig = ConfigOf<typeof inferenceConfig>;
