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
};

export type InferenceConfig = ConfigOf<typeof inferenceConfig>;
