import { toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { fieldViolations, statusName } from "@t2v/client/node";
import { ResultState, type Task, TaskSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";

/** A task as the Protobuf JSON mapping spells it (camelCase), for --json. */
export function taskJson(task: Task): unknown {
  return toJson(TaskSchema, task);
}

/** Why a finished task shows no link. */
const GONE: Partial<Record<ResultState, string>> = {
  [ResultState.EXPIRED]: "expired (past its retention)",
  [ResultState.DELETED]: "deleted",
};

/** The human view of `t2v get`, `t2v cancel` and `t2v delete`. */
export function describeTask(task: Task): string {
  const p = task.params;
  const rows: [string, string][] = [
    ["task", task.taskId],
    ["status", statusName(task.status)],
    ["progress", `${Math.floor(task.progress * 100)}%`],
    ["prompt", p?.prompt ?? ""],
    [
      "params",
      p ? `${p.resolution} ${p.duration}s ${p.frameRate}fps seed ${p.seed}${p.style ? ` ${p.style}` : ""}` : "",
    ],
    ["tier", task.tier],
    ["created", task.createTime ? timestampDate(task.createTime).toISOString() : ""],
    ["finished", task.finishTime ? timestampDate(task.finishTime).toISOString() : ""],
    ["result", task.resultUrl || (GONE[task.resultState] ?? "")],
    ["error", task.errorMessage],
  ];
  return `${rows
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `${k.padEnd(10)}${v}`)
    .join("\n")}\n`;
}

/** An error for stderr: JSON with the code and field violations under --json, else one readable line each. */
export function describeError(err: unknown, json: boolean): string {
  const e = err instanceof ConnectError ? err : undefined;
  const message = e ? e.rawMessage : err instanceof Error ? err.message : String(err);
  const violations = fieldViolations(err);
  if (json) {
    const code = e ? codeName(e) : "error";
    return `${JSON.stringify({ error: { code, message, ...(violations.length ? { field_violations: violations } : {}) } })}\n`;
  }
  const lines = [`t2v: ${message}`, ...violations.map((v) => `  ${v.field}: ${v.description}`)];
  return `${lines.join("\n")}\n`;
}

/** "invalid_argument", as the REST API spells codes. */
function codeName(e: ConnectError): string {
  return (Code[e.code] ?? "unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}
