import { create, type DescFile, type DescMessage, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ServerReflection as ReflectionV1,
  type ServerReflectionRequest as RequestV1,
  ServerReflectionResponseSchema as ResponseV1Schema,
} from "@t2v/common/gen/grpc/reflection/v1/reflection_pb";
import {
  ServerReflection as ReflectionV1alpha,
  type ServerReflectionRequest as RequestV1alpha,
  ServerReflectionResponseSchema as ResponseV1alphaSchema,
} from "@t2v/common/gen/grpc/reflection/v1alpha/reflection_pb";

type Request = RequestV1 | RequestV1alpha;

/** What a reflection request asks for, answered the same in v1 and v1alpha. */
type Answer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;

/** Indexes the files of the served services (and their imports) by name and by symbol. */
function index(services: DescService[]) {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const addFile = (f: DescFile): void => {
    if (files.has(f.proto.name)) return;
    files.set(f.proto.name, f);
    for (const d of f.dependencies) addFile(d);
    const addMessage = (m: DescMessage): void => {
      symbols.set(m.typeName, f);
      for (const n of m.nestedMessages) addMessage(n);
      for (const e of m.nestedEnums) symbols.set(e.typeName, f);
    };
    for (const m of f.messages) addMessage(m);
    for (const e of f.enums) symbols.set(e.typeName, f);
    for (const s of f.services) {
      symbols.set(s.typeName, f);
      for (const m of s.methods) symbols.set(`${s.typeName}.${m.name}`, f);
    }
  };
  for (const s of services) addFile(s.file);
  return { files, symbols };
}

/** The file and everything it imports, serialised; clients need the whole closure. */
function closure(file: DescFile): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  const walk = (f: DescFile): void => {
    if (seen.has(f.proto.name)) return;
    seen.add(f.proto.name);
    out.push(toBinary(FileDescriptorProtoSchema, f.proto));
    for (const d of f.dependencies) walk(d);
  };
  walk(file);
  return out;
}

function answer(req: Request, services: DescService[], idx: ReturnType<typeof index>): Answer {
  const m = req.messageRequest;
  const missing = (what: string): Answer => ({
    case: "errorResponse",
    value: { errorCode: NOT_FOUND, errorMessage: `${what} not found` },
  });
  switch (m.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: services.map((s) => ({ name: s.typeName })) } };
    case "fileByFilename": {
      const f = idx.files.get(m.value);
      return f ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: closure(f) } } : missing(m.value);
    }
    case "fileContainingSymbol": {
      const f = idx.symbols.get(m.value.replace(/^\./, ""));
      return f ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: closure(f) } } : missing(m.value);
    }
    case "allExtensionNumbersOfType":
      return { case: "allExtensionNumbersResponse", value: { baseTypeName: m.value, extensionNumber: [] } };
    case "fileContainingExtension":
      return missing("extension");
    default:
      return { case: "errorResponse", value: { errorCode: UNIMPLEMENTED, errorMessage: "unsupported request" } };
  }
}

/** gRPC server reflection, v1 and v1alpha, so `buf curl` and grpcurl work without the .proto files. */
export function createReflectionServices(services: DescService[]) {
  const all = [...services, ReflectionV1, ReflectionV1alpha];
  const idx = index(all);
  // v1 and v1alpha differ only in their package name: one answer for both.
  const respond = <R extends Request>(req: R) => ({
    validHost: req.host,
    originalRequest: req,
    messageResponse: answer(req, all, idx),
  });
  const v1: ServiceImpl<typeof ReflectionV1> = {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield create(ResponseV1Schema, respond(req));
    },
  };
  const v1alpha: ServiceImpl<typeof ReflectionV1alpha> = {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield create(ResponseV1alphaSchema, respond(req));
    },
  };
  return { v1, v1alpha, v1Desc: ReflectionV1, v1alphaDesc: ReflectionV1alpha, services: all };
}
