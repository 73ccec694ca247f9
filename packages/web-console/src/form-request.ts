import type { CreateTaskInput, FieldViolation } from "@t2v/client/browser";

const UINT32_MAX = 4_294_967_295;

/**
 * The CreateTask request the form describes. The server checks every rule;
 * the only thing checked here is what the wire cannot carry (a seed that is
 * not a uint32), which the server could never see to answer.
 */
export function formRequest(form: HTMLFormElement): { request: CreateTaskInput; problems: FieldViolation[] } {
  const data = new FormData(form);
  const text = (name: string): string => {
    const v = data.get(name);
    return typeof v === "string" ? v : "";
  };
  const request: CreateTaskInput = {
    prompt: text("prompt"),
    negativePrompt: text("negative_prompt"),
    resolution: text("resolution"),
    style: text("style"),
  };
  const problems: FieldViolation[] = [];
  const duration = text("duration").trim();
  if (duration !== "") request.duration = Number(duration);
  const seed = text("seed").trim();
  if (seed !== "") {
    const n = Number(seed);
    if (Number.isInteger(n) && n >= 0 && n <= UINT32_MAX) request.seed = n;
    else problems.push({ field: "seed", description: "must be a whole number from 0" });
  }
  return { request, problems };
}
