import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatEta } from "@t2v/client/node";
import { type BatchResult, succeeded } from "../batch/batch-result.js";
import { runBatch } from "../batch/run-batch.js";
import { API_OPTIONS, API_OPTIONS_HELP, clientOf, numberOption } from "../cli/api-options.js";
import type { Command } from "../cli/command.js";
import { ExitCode, UsageError } from "../cli/exit-codes.js";
import { bar, progressPrinter } from "../cli/progress-bar.js";

const MAX_CONCURRENCY = 64;

export const batchCommand: Command = {
  name: "batch",
  summary: "generate one video per line of a JSONL file",
  help: `usage: t2v batch FILE.jsonl --out DIR [--concurrency N] [options]

Each line of FILE is one CreateTask request as JSON, e.g.
  {"prompt":"a red sneaker turning on a plinth","resolution":"480p","duration":4,"seed":7}
(negative_prompt, resolution, duration, frame_rate, style, seed, idempotency_key,
webhook_url, timeout; snake_case or camelCase). Every line is submitted with an
idempotency key derived from its number and text (unless it has its own), so
running the same file again after an interruption picks up the same tasks
instead of submitting them twice, and skips MP4s already in DIR.

Each finished MP4 is written to DIR/<line>-<task id>.mp4, and DIR/results.jsonl
gets one line per input line, in input order:
  {"line":3,"task_id":"...","status":"completed","file":"3-....mp4","error":null}
status is completed, failed, cancelled, invalid (the line or the server refused
it; error.field names the field), error (could not be submitted or followed)
or skipped (a blank line). A bad line does not stop the others.

  -o, --out DIR         where the MP4s and results.jsonl go (created if missing)
  -c, --concurrency N   tasks in flight at once, 1 to ${MAX_CONCURRENCY} (default 4)
${API_OPTIONS_HELP}

Exit 0 when every line completed, 5 when any did not.
--json prints {"total","completed","failed","results"} on stdout at the end.`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...API_OPTIONS, out: { type: "string", short: "o" }, concurrency: { type: "string", short: "c" } },
    });
    const [file, ...extra] = positionals;
    if (!file || extra.length > 0) throw new UsageError("exactly one FILE.jsonl is required");
    if (!values.out) throw new UsageError("--out DIR is required");
    const concurrency = numberOption("concurrency", values.concurrency) ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new UsageError(`--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`);
    }
    const text = await readFile(file, "utf8");
    const lines = text.split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    await mkdir(values.out, { recursive: true });

    const progress = progressPrinter({ isTTY: io.stderrIsTTY, write: io.stderr });
    const started = Date.now();
    let results: BatchResult[];
    try {
      results = await runBatch({
        client: clientOf(values),
        lines,
        outDir: values.out,
        concurrency,
        onProgress: (s) => {
          const elapsed = (Date.now() - started) / 1000;
          const eta = s.fraction > 0.02 && s.done < s.total ? formatEta((elapsed / s.fraction) * (1 - s.fraction)) : "";
          progress.show(
            `${bar(s.fraction)} ${s.done}/${s.total} done${s.failed ? `, ${s.failed} failed` : ""}${eta ? `  ETA ${eta}` : ""}`,
          );
        },
      });
    } finally {
      progress.done();
    }
    const resultsFile = join(values.out, "results.jsonl");
    // Written whole, then renamed: a reader never sees half a file.
    await writeFile(`${resultsFile}.part`, results.map((r) => `${JSON.stringify(r)}\n`).join(""));
    await rename(`${resultsFile}.part`, resultsFile);
    const completed = results.filter((r) => r.status === "completed").length;
    const failed = results.filter((r) => !succeeded(r)).length;
    if (values.json)
      io.stdout(`${JSON.stringify({ total: results.length, completed, failed, results: resultsFile })}\n`);
    else io.stderr(`${completed} of ${results.length} completed, ${failed} failed; see ${resultsFile}\n`);
    return failed === 0 ? ExitCode.ok : ExitCode.taskFailed;
  },
};
