// Worker thread entry: onnxruntime's session.run blocks its thread, so all inference lives here
// and the main thread's event loop stays free. One call runs at a time; a failure rejects only
// that call and the worker keeps serving.
import { parentPort, workerData } from "node:worker_threads";
import type { GenerateResult, Latents } from "../api-types.js";
import { collectGarbage } from "./collect-garbage.js";
import { DecoderEngine } from "./decoder-engine.js";
import type { MainToWorker, WorkerInit, WorkerToMain } from "./engine-messages.js";
import { serializeError } from "./error-transport.js";
import { type BoundaryDecision, GeneratorEngine } from "./generator-engine.js";

const port = parentPort;
if (port === null) throw new Error("engine-worker must run as a worker thread");
const init = workerData as WorkerInit;

function post(msg: WorkerToMain, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(msg, transfer);
}

const cancelled = new Set<number>();
const yielding = new Set<number>();
const acks = new Map<number, (stop: boolean) => void>();
let queue: Promise<void> = Promise.resolve();

/** Serialises calls: sessions are not shared between concurrent runs. */
function enqueue(id: number, job: () => Promise<void>): void {
  queue = queue.then(job).catch((err: unknown) => post({ type: "error", id, error: serializeError(err) }));
}

/** Lets pending messages (cancel, yield, ack) be delivered, then reports what the caller asked for. Cancel wins. */
function atBoundary(id: number): Promise<BoundaryDecision> {
  return new Promise((resolve) =>
    setImmediate(() => resolve(cancelled.has(id) ? "cancel" : yielding.has(id) ? "yield" : "continue")),
  );
}

function transferOf(r: GenerateResult): ArrayBuffer[] {
  const data = r.kind === "done" ? r.latents.data : r.checkpoint.latents.data;
  return [data.buffer as ArrayBuffer];
}

async function main(): Promise<void> {
  let generator: GeneratorEngine | undefined;
  let decoder: DecoderEngine | undefined;
  try {
    if (init.role === "generator")
      generator = await GeneratorEngine.load(init.modelDir, init.executionProviders, init.intraOpThreads);
    else decoder = await DecoderEngine.load(init.modelDir, init.executionProviders, init.intraOpThreads);
  } catch (err) {
    post({ type: "init-error", error: serializeError(err) });
    return;
  }
  const engine = generator ?? decoder;
  if (engine === undefined) return;

  port?.on("message", (msg: MainToWorker) => {
    switch (msg.type) {
      case "cancel":
        cancelled.add(msg.id);
        break;
      case "yield":
        yielding.add(msg.id);
        break;
      case "frames-ack":
        acks.get(msg.id)?.(msg.stop);
        acks.delete(msg.id);
        break;
      case "prepare":
        // Not enqueued: the running generate yields between steps, so this encodes in that gap.
        if (generator === undefined)
          post({ type: "error", id: msg.id, error: serializeError(new Error("this engine is a decoder")) });
        else
          generator.prepare(msg.next).then(
            () => post({ type: "done", id: msg.id }),
            (err: unknown) => post({ type: "error", id: msg.id, error: serializeError(err) }),
          );
        break;
      case "memory": {
        collectGarbage();
        const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
        post({ type: "memory", id: msg.id, usage: { rss, heapUsed, external, arrayBuffers } });
        break;
      }
      case "generate":
        if (msg.run.preempted === true) yielding.add(msg.id);
        enqueue(msg.id, async () => {
          if (generator === undefined) throw new Error("this engine is a decoder");
          try {
            const result = await generator.generate(msg.spec, msg.run, {
              onStep: (report) => post({ type: "step", id: msg.id, report }),
              boundary: () => atBoundary(msg.id),
              onCheckpoint: (checkpoint) =>
                post({ type: "checkpoint", id: msg.id, checkpoint }, [checkpoint.latents.data.buffer as ArrayBuffer]),
              onPreview: (preview) =>
                post({ type: "preview", id: msg.id, preview }, [preview.rgb.buffer as ArrayBuffer]),
            });
            post({ type: "generated", id: msg.id, result }, transferOf(result));
          } finally {
            cancelled.delete(msg.id);
            yielding.delete(msg.id);
          }
        });
        break;
      case "decode":
        enqueue(msg.id, async () => {
          if (decoder === undefined) throw new Error("this engine is a generator");
          const latents: Latents = { dims: msg.dims, data: new Float32Array(msg.data) };
          await decoder.decode(latents, msg.target, async (rgb, frameCount) => {
            const ack = new Promise<boolean>((resolve) => acks.set(msg.id, resolve));
            const data = rgb.buffer as ArrayBuffer;
            post({ type: "frames", id: msg.id, data, frameCount }, [data]);
            return !(await ack);
          });
          post({ type: "done", id: msg.id });
        });
        break;
    }
  });
  post({ type: "ready", info: engine.info, manifest: engine.manifest });
}

void main();
