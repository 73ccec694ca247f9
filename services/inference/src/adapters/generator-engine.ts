import { type Generator, startGenerator } from "@t2v/model";

/** What the worker needs of the model runtime (onnxruntime in a worker thread). */
export type GeneratorEngine = Pick<Generator, "info" | "generate" | "prepare">;

export interface EngineSettings {
  modelDir: string;
  executionProviders: string[];
  /** 0: one thread per core. */
  intraOpThreads: number;
}

/** Loads and warms the model once: it is never reloaded per task. */
export function loadGenerator(s: EngineSettings): Promise<Generator> {
  return startGenerator({
    modelDir: s.modelDir,
    executionProviders: s.executionProviders,
    ...(s.intraOpThreads > 0 ? { intraOpThreads: s.intraOpThreads } : {}),
  });
}
