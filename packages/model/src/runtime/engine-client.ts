import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { EngineOptions, ModelInfo } from "../api-types.js";
import type { ModelManifest } from "../manifest.js";
import type { EngineRole, MainToWorker, WorkerInit, WorkerToMain } from "./engine-messages.js";
import { deserializeError } from "./error-transport.js";

export interface CallHandlers {
  /** Gets every message for this call id; returns true when the call is finished. */
  onMessage: (msg: WorkerToMain) => boolean;
  onFailure: (err: Error) => void;
}

/** Main-thread side of one engine worker: startup, request ids, routing replies, shutdown. */
export class EngineClient {
  private readonly calls = new Map<number, CallHandlers>();
  private nextId = 1;
  private dead: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly info: ModelInfo,
    readonly manifest: ModelManifest,
  ) {
    worker.on("message", (msg: WorkerToMain) => {
      if (!("id" in msg)) return;
      const call = this.calls.get(msg.id);
      if (call?.onMessage(msg)) this.calls.delete(msg.id);
    });
    worker.on("error", (err) => this.failAll(new Error(`engine worker crashed: ${err.message}`)));
    worker.on("exit", (code) => this.failAll(new Error(`engine worker exited (code ${code})`)));
  }

  static start(role: EngineRole, opts: EngineOptions): Promise<EngineClient> {
    const init: WorkerInit = {
      role,
      modelDir: opts.modelDir,
      executionProviders: opts.executionProviders.length > 0 ? opts.executionProviders : ["cpu"],
      intraOpThreads: opts.intraOpThreads ?? availableParallelism(),
    };
    const worker = new Worker(new URL("./engine-worker.js", import.meta.url), { workerData: init });
    return new Promise((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`engine worker exited during startup (code ${code})`));
      const onError = (err: Error): void => reject(err);
      worker.once("exit", onExit);
      worker.once("error", onError);
      worker.once("message", (msg: WorkerToMain) => {
        worker.off("exit", onExit);
        worker.off("error", onError);
        if (msg.type === "ready") {
          resolve(new EngineClient(worker, msg.info, msg.manifest));
        } else {
          const err =
            msg.type === "init-error" ? deserializeError(msg.error) : new Error(`unexpected first message ${msg.type}`);
          void worker.terminate();
          reject(err);
        }
      });
    });
  }

  /** Registers handlers under a fresh id and sends the message built for it. */
  call(build: (id: number) => { msg: MainToWorker; transfer?: ArrayBuffer[] }, handlers: CallHandlers): number {
    if (this.dead !== undefined) {
      handlers.onFailure(this.dead);
      return -1;
    }
    const id = this.nextId++;
    this.calls.set(id, handlers);
    const { msg, transfer } = build(id);
    this.worker.postMessage(msg, transfer ?? []);
    return id;
  }

  send(msg: MainToWorker): void {
    if (this.dead === undefined) this.worker.postMessage(msg);
  }

  /** Ends a call early on the main side (its later messages are ignored). */
  forget(id: number): void {
    this.calls.delete(id);
  }

  get closedError(): Error | undefined {
    return this.dead;
  }

  async close(): Promise<void> {
    if (this.dead !== undefined) return;
    this.failAll(new Error("engine closed"));
    await this.worker.terminate();
  }

  private failAll(err: Error): void {
    this.dead ??= err;
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const c of calls) c.onFailure(err);
  }
}
