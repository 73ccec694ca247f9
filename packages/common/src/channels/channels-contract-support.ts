import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type Context,
  type ContextManager,
  context,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { type TaskRecord, TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";
import { TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import type { Bus } from "./bus/bus.js";

/** A bus for one test, and how to let it go. */
export interface TestBus {
  bus: Bus;
  close(): Promise<void>;
}

/** A context manager over AsyncLocalStorage, so `context.with` reaches the publisher (no SDK in these tests). */
class LocalContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

/** W3C propagation and a working active context, as the services get from the SDK. */
export function installTracePropagation(): void {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new LocalContextManager());
}

export const SAMPLE_SPAN: SpanContext = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
};

export const sampleContext = (): Context => trace.setSpanContext(ROOT_CONTEXT, SAMPLE_SPAN);

export const traceIdOf = (ctx: Context): string | undefined => trace.getSpanContext(ctx)?.traceId;

export function record(
  taskId: string,
  o: { tenantId?: string; status?: TaskStatus; attempt?: number; finishMs?: number } = {},
): TaskRecord {
  return create(TaskRecordSchema, {
    tenantId: o.tenantId ?? "acme",
    pool: "standard",
    task: {
      taskId,
      status: o.status ?? TaskStatus.QUEUED,
      attempt: o.attempt ?? 1,
      ...(o.finishMs !== undefined ? { finishTime: timestampFromMs(o.finishMs) } : {}),
    },
  });
}

/** Waits until `check` holds, for broadcasts that arrive asynchronously. */
export async function eventually(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await delay(20);
  }
}

export async function collect<T>(it: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  if (n === 0) return out;
  for await (const x of it) {
    out.push(x);
    if (out.length >= n) break;
  }
  return out;
}

export function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}
