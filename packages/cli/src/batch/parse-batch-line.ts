import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type CreateTaskRequest, CreateTaskRequestSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";

export interface LineError {
  message: string;
  /** The request field the error concerns (snake_case), or null when it is about the whole line. */
  field: string | null;
}

export type ParsedLine = { kind: "request"; request: CreateTaskRequest } | { kind: "invalid"; error: LineError };

/**
 * One JSONL line as a CreateTaskRequest: the Protobuf JSON mapping, so both
 * `negative_prompt` and `negativePrompt` work and unknown keys are refused.
 * Only the shape is checked here; the server checks the rules.
 */
export function parseBatchLine(text: string): ParsedLine {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (err) {
    return { kind: "invalid", error: { message: `not JSON: ${(err as Error).message}`, field: null } };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", error: { message: "a line must be a JSON object of CreateTask fields", field: null } };
  }
  try {
    return { kind: "request", request: fromJson(CreateTaskRequestSchema, value) };
  } catch (err) {
    const message = (err as Error).message;
    // "cannot decode field t2v.v1.CreateTaskRequest.duration from JSON: ..." / '... key "foo" is unknown'
    const field = /CreateTaskRequest\.(\w+) from JSON/.exec(message)?.[1] ?? /key "([^"]+)"/.exec(message)?.[1] ?? null;
    return { kind: "invalid", error: { message, field } };
  }
}
