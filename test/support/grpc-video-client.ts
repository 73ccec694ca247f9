import { type DescMessage, type DescMethod, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type CreateTaskRequest,
  type Task,
  type TaskEvent,
  VideoService,
} from "@t2v/common/gen/t2v/v1/video_service_pb";
import { defaultTestApiKey, grpcAuth } from "./auth.js";

/**
 * A plain @grpc/grpc-js client for VideoService (no Connect code involved),
 * with Protobuf (de)serialisation from the generated descriptors.
 */
export interface GrpcVideoClient {
  createTask(req: Partial<CreateTaskRequest>): Promise<Task>;
  getTask(taskId: string): Promise<Task>;
  cancelTask(taskId: string): Promise<Task>;
  watchTask(taskId: string): AsyncIterable<TaskEvent>;
  close(): void;
}

function def(m: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  const ser = (schema: DescMessage) => (v: unknown) => Buffer.from(toBinary(schema, v as MessageShape<typeof schema>));
  const de = (schema: DescMessage) => (b: Buffer) => fromBinary(schema, b);
  return {
    path: `/${VideoService.typeName}/${m.name}`,
    requestStream: false,
    responseStream: m.methodKind === "server_streaming",
    requestSerialize: ser(m.input),
    requestDeserialize: de(m.input),
    responseSerialize: ser(m.output),
    responseDeserialize: de(m.output),
  };
}

type GenericClient = Record<string, (...args: unknown[]) => unknown> & grpc.Client;

/** `apiKey` defaults to the key of the mesh started last ("" sends none). */
export function grpcVideoClient(address: string, apiKey: string = defaultTestApiKey()): GrpcVideoClient {
  const methods = Object.fromEntries(VideoService.methods.map((m) => [m.localName, def(m)]));
  const Ctor = grpc.makeGenericClientConstructor(methods, "VideoService");
  const c = new Ctor(address, grpc.credentials.createInsecure(), {
    interceptors: apiKey === "" ? [] : [grpcAuth(apiKey)],
  }) as unknown as GenericClient;
  const unary = <T>(name: string, req: object): Promise<T> =>
    new Promise((resolve, reject) => {
      c[name]?.call(c, req, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
    });
  const msg = (name: string, init: object) => {
    const m = VideoService.methods.find((x) => x.localName === name);
    if (!m) throw new Error(name);
    return { $typeName: m.input.typeName, ...init };
  };
  return {
    createTask: (req) =>
      unary("createTask", msg("createTask", { prompt: "", negativePrompt: "", resolution: "", style: "", ...req })),
    getTask: (taskId) => unary("getTask", msg("getTask", { taskId })),
    cancelTask: (taskId) => unary("cancelTask", msg("cancelTask", { taskId })),
    watchTask: (taskId) => c.watchTask?.call(c, msg("watchTask", { taskId })) as unknown as AsyncIterable<TaskEvent>,
    close: () => c.close(),
  };
}
