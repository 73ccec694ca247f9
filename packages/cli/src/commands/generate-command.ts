import { parseArgs } from "node:util";
import { API_OPTIONS, API_OPTIONS_HELP, apiKeyOf, numberOption, protocolOf, serverOf } from "../cli/api-options.js";
import type { Command } from "../cli/command.js";
import { ExitCode, UsageError } from "../cli/exit-codes.js";
import { taskJson } from "../cli/task-output.js";
import { generate } from "./generate.js";

export const generateCommand: Command = {
  name: "generate",
  summary: "create a video, show its progress with an ETA, download the MP4",
  help: `usage: t2v generate "<prompt>" [options]

Submits a task, follows it over WatchTask (reconnecting if the stream drops)
with a progress bar and ETA on stderr, and writes the MP4.

  --duration S          seconds, 3 to 10 (default 5)
  --resolution R        480p or 720p (default 720p)
  --frame-rate N        16, 24 or 30 (default 24)
  --seed N              0 to 2147483647 (default random; reported)
  --style NAME          cinematic, anime, watercolor, ...
  --negative-prompt T   what to avoid
  --idempotency-key K   makes a retried submission return the first task
  --timeout S           stop waiting after S seconds (exit 6; the task goes on)
  -o, --out FILE        where to write the MP4 (default <task id>.mp4)
${API_OPTIONS_HELP}

--json prints {"task": <Task>, "file": "..."} on stdout when done.`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...API_OPTIONS,
        duration: { type: "string" },
        resolution: { type: "string" },
        seed: { type: "string" },
        "frame-rate": { type: "string" },
        "negative-prompt": { type: "string" },
        style: { type: "string" },
        "idempotency-key": { type: "string" },
        timeout: { type: "string" },
        out: { type: "string", short: "o" },
      },
    });
    const prompt = positionals.join(" ");
    if (prompt.trim() === "") throw new UsageError("a prompt is required");
    const timeout = numberOption("timeout", values.timeout);
    const duration = numberOption("duration", values.duration);
    const seed = numberOption("seed", values.seed);
    const frameRate = numberOption("frame-rate", values["frame-rate"]);
    const { task, file } = await generate(
      {
        server: serverOf(values),
        protocol: protocolOf(values),
        apiKey: apiKeyOf(values),
        prompt,
        ...(values.resolution !== undefined ? { resolution: values.resolution } : {}),
        ...(values["negative-prompt"] !== undefined ? { negativePrompt: values["negative-prompt"] } : {}),
        ...(values.style !== undefined ? { style: values.style } : {}),
        ...(values["idempotency-key"] !== undefined ? { idempotencyKey: values["idempotency-key"] } : {}),
        ...(values.out !== undefined ? { out: values.out } : {}),
        ...(duration !== undefined ? { duration } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(frameRate !== undefined ? { frameRate } : {}),
        ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
      },
      { isTTY: io.stderrIsTTY, write: io.stderr },
    );
    if (values.json) io.stdout(`${JSON.stringify({ task: taskJson(task), file })}\n`);
    return ExitCode.ok;
  },
};
