import type {
  Checkpoint,
  CheckpointPolicy,
  DecodeTarget,
  EngineMemory,
  GenerateResult,
  GenerationSpec,
  ModelInfo,
  Preview,
  PromptPair,
  StepReport,
} from "../api-types.js";
import type { ModelManifest } from "../manifest.js";

// Typed messages between the main thread (engine-client) and engine-worker. Large arrays travel
// as transferred ArrayBuffers, never copied.

export type EngineRole = "generator" | "decoder";

export interface WorkerInit {
  role: EngineRole;
  modelDir: string;
  executionProviders: string[];
  intraOpThreads: number;
}

export type ErrorKind =
  | "ModelPackageError"
  | "ModelInputError"
  | "GenerationCancelledError"
  | "CheckpointMismatchError"
  | "Error";

/** The sampler options of a generate call that cross to the worker (callbacks stay on the main side). */
export interface WorkerRun {
  resumeFrom?: Checkpoint;
  checkpointEvery?: CheckpointPolicy;
  previewEvery?: number;
  /** The preempt signal had fired before the call was sent: yield at the first boundary (a later yield message could lose the race with it). */
  preempted?: boolean;
}

export interface SerializedError {
  kind: ErrorKind;
  message: string;
}

export type MainToWorker =
  | { type: "generate"; id: number; spec: GenerationSpec; run: WorkerRun }
  | { type: "cancel"; id: number }
  /** Preempt: stop at the next step boundary and answer with a yielded result. */
  | { type: "yield"; id: number }
  /** Served at once (between two steps of a running generate), not queued behind it. */
  | { type: "prepare"; id: number; next: PromptPair | GenerationSpec }
  | { type: "memory"; id: number }
  | { type: "decode"; id: number; dims: number[]; data: ArrayBuffer; target: DecodeTarget }
  /** Sent after onFrames settled; stop = the consumer failed, so the worker ends that decode. */
  | { type: "frames-ack"; id: number; stop: boolean };

export type WorkerToMain =
  | { type: "ready"; info: ModelInfo; manifest: ModelManifest }
  | { type: "init-error"; error: SerializedError }
  | { type: "step"; id: number; report: StepReport }
  | { type: "checkpoint"; id: number; checkpoint: Checkpoint }
  | { type: "preview"; id: number; preview: Preview }
  | { type: "generated"; id: number; result: GenerateResult }
  | { type: "frames"; id: number; data: ArrayBuffer; frameCount: number }
  | { type: "done"; id: number }
  | { type: "memory"; id: number; usage: EngineMemory }
  | { type: "error"; id: number; error: SerializedError };
