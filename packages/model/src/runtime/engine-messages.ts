import type { DecodeTarget, EngineMemory, GenerationSpec, ModelInfo, PromptPair, StepReport } from "../api-types.js";
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

export type ErrorKind = "ModelPackageError" | "ModelInputError" | "GenerationCancelledError" | "Error";

export interface SerializedError {
  kind: ErrorKind;
  message: string;
}

export type MainToWorker =
  | { type: "generate"; id: number; spec: GenerationSpec }
  | { type: "cancel"; id: number }
  /** Served at once (between two steps of a running generate), not queued behind it. */
  | { type: "prepare"; id: number; texts: PromptPair }
  | { type: "memory"; id: number }
  | { type: "decode"; id: number; dims: number[]; data: ArrayBuffer; target: DecodeTarget }
  /** Sent after onFrames settled; stop = the consumer failed, so the worker ends that decode. */
  | { type: "frames-ack"; id: number; stop: boolean };

export type WorkerToMain =
  | { type: "ready"; info: ModelInfo; manifest: ModelManifest }
  | { type: "init-error"; error: SerializedError }
  | { type: "step"; id: number; report: StepReport }
  | { type: "latents"; id: number; dims: number[]; data: ArrayBuffer }
  | { type: "frames"; id: number; data: ArrayBuffer; frameCount: number }
  | { type: "done"; id: number }
  | { type: "memory"; id: number; usage: EngineMemory }
  | { type: "error"; id: number; error: SerializedError };
