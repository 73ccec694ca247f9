import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import {
  type BlobStore,
  type Bus,
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
  /** The connection latents and checkpoints are written on; `bus` when not given. */
  bulkBus?: Bus,
): Promise<TestWorker> {
  const config = readConfig(inferenceConfig, {
    MODEL_DIR: model.modelDir,
    EXECUTION_PROVIDERS: "cpu",
    WORKER_ID: "w1",
    ...env,
  });
  const checkpoints = await bus.blobs(CHECKPOINTS_STORE);
  const app = await start(config, { bus, log, generator: model.generator, ...(bulkBus ? { bulkBus } : {}) });
  return { bus, ch: channels(bus), app, checkpoints };
}

/** `bus`, with the name of every blob written through it (`<store>/<object>`) noted in `puts`. */
export function noteBlobWrites<B extends Bus>(bus: B, puts: string[]): B {
  return new Proxy(bus, {
    get(target, prop) {
      if (prop === "blobs")
        return async (spec: Parameters<Bus["blobs"]>[0]): Promise<BlobStore> => {
          const store = await target.blobs(spec);
          return new Proxy(store, {
            get(s, p) {
              if (p === "put")
                return (name: string, data: Parameters<BlobStore["put"]>[1]) => {
                  puts.push(`${spec.name}/${name}`);
                  return s.put(name, data);
                };
              const v: unknown = Reflect.get(s, p);
              return typeof v === "function" ? v.bind(s) : v;
            },
          });
        };
      const v: unknown = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
