import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import {
  type BlobStore,
  CHECKPOINTS_STORE,
  type Channels,
  channels,
  createMemoryBus,
  type MemoryBus,
} from "@t2v/common/channels";
import { readConfig } from "@t2v/common/config";
import { createLogger } from "@t2v/common/logger";
import { buildReferenceModel, type Generator, startGenerator } from "@t2v/model";
import { type InferenceApp, start } from "../app.js";
import { inferenceConfig } from "../config.js";

export interface ReferenceModel {
  readonly modelDir: string;
  readonly generator: Generator;
}

/**
 * One reference model and one generator for a test file (starting the engine
 * is the slow part), built in `before` and closed in `after`. The returned
 * function gives them inside tests.
 */
export function useReferenceModel(): () => ReferenceModel {
  let model: ReferenceModel | undefined;
  let modelDir: string | undefined;
  before(async () => {
    modelDir = await mkdtemp(join(tmpdir(), "inference-model-"));
    await buildReferenceModel(modelDir);
    model = { modelDir, generator: await startGenerator({ modelDir, executionProviders: ["cpu"] }) };
  });
  after(async () => {
    await model?.generator.close();
    if (modelDir) await rm(modelDir, { recursive: true, force: true });
  });
  return () => model ?? assertStarted();
}

function assertStarted(): never {
  throw new Error("the reference model is used before its `before` hook ran");
}

export interface TestWorker {
  readonly bus: MemoryBus;
  readonly ch: Channels;
  readonly app: InferenceApp;
  /** The worker's checkpoint store (the memory bus hands every opener the same one). */
  readonly checkpoints: BlobStore;
}

const log = createLogger("inference-test", "silent");

/** The inference app as worker "w1" on the CPU with the file's generator, on a memory bus (a new one unless given). */
export async function startTestWorker(
  model: ReferenceModel,
  env: Record<string, string> = {},
  bus: MemoryBus = createMemoryBus(),
): Promise<TestWorker> {
  const config = readConfig(inferenceConfig, {
    MODEL_DIR: model.modelDir,
    EXECUTION_PROVIDERS: "cpu",
    WORKER_ID: "w1",
    ...env,
  });
  const checkpoints = await bus.blobs(CHECKPOINTS_STORE);
  const app = await start(config, { bus, log, generator: model.generator });
  return { bus, ch: channels(bus), app, checkpoints };
}
