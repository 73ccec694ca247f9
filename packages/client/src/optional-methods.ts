import { create, type DescMethod, type DescMethodUnary, isMessage } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { type Task, TaskSchema, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";

/** Methods later versions of the API add; a client built against an older contract simply lacks them. */
export type OptionalMethodName = "pauseTask" | "resumeTask";

/** The unary method `name(task_id) -> Task` when this build's generated VideoService has it. */
function taskMethod(name: OptionalMethodName): DescMethodUnary | undefined {
  const m = VideoService.methods.find((x) => x.localName === name);
  if (!m || !isUnary(m) || m.output.typeName !== TaskSchema.typeName) return undefined;
  return m.input.fields.some((f) => f.name === "task_id") ? m : undefined;
}

function isUnary(m: DescMethod): m is DescMethodUnary {
  return m.methodKind === "unary";
}

/** Feature detection from the generated descriptor, so UIs show pause/resume only where the API has them. */
export function supportsMethod(name: OptionalMethodName): boolean {
  return taskMethod(name) !== undefined;
}

/** Calls an optional `XxxTask(task_id)` method through the transport (its interceptors, so its key, apply). */
export async function callTaskMethod(
  transport: Transport,
  name: OptionalMethodName,
  taskId: string,
  signal?: AbortSignal,
): Promise<Task> {
  const method = taskMethod(name);
  const field = method?.input.fields.find((f) => f.name === "task_id");
  if (!method || !field) throw new ConnectError(`${name} is not part of this API version`, Code.Unimplemented);
  const input = create(method.input);
  reflect(method.input, input).set(field, taskId);
  const res = await transport.unary(method, signal, undefined, undefined, input);
  if (!isMessage(res.message, TaskSchema)) throw new ConnectError(`${name} did not answer a Task`, Code.Internal);
  return res.message;
}
