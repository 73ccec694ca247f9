/**
 * npm run bench [-- --quick] [-- --only=submit,dispatch,worker,fanout,peer] [-- --streams=10000]
 * Runs each benchmark against real processes on this machine and writes
 * bench/results/<date>-<commit>[-quick].json, its charts and BENCHMARKS.md.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, platform, totalmem } from "node:os";
import { join } from "node:path";
import { benchDispatch } from "./dispatch.js";
import { benchFanout } from "./fanout.js";
import { REPO_ROOT } from "./mesh.js";
import { measureBullmq, peerResult } from "./peer.js";
import { type RunFile, renderMarkdown } from "./report.js";
import type { BenchResult } from "./result.js";
import { sizesFor, tinySizes, withStreams } from "./sizes.js";
import { round2 } from "./stats.js";
import { benchSubmit } from "./submit.js";
import { benchWorker } from "./worker.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");
const tiny = args.includes("--tiny");
const streamsArg = args.find((a) => a.startsWith("--streams="))?.slice(10);
const sizes = withStreams(tiny ? tinySizes() : sizesFor(quick), streamsArg);
const git = (...a: string[]): string => execFileSync("git", a, { cwd: REPO_ROOT, encoding: "utf8" }).trim();

const started = Date.now();
const loadStart = loadavg().map(round2);
const results: BenchResult[] = [];
const failures: RunFile["failures"] = [];
const wanted = (name: string): boolean => !only || only.includes(name);

async function step(name: string, fn: () => Promise<BenchResult | BenchResult[]>): Promise<void> {
  if (!wanted(name)) return;
  const t = Date.now();
  console.error(`bench: ${name} ...`);
  try {
    const r = await fn();
    results.push(...(Array.isArray(r) ? r : [r]));
    console.error(`bench: ${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  } catch (err) {
    console.error(`bench: ${name} failed:`, err);
    failures.push({ name, error: err instanceof Error ? err.message : String(err) });
  }
}

const figureOf = (bench: string, name: string): number | undefined =>
  results.find((r) => r.name === bench)?.figures.find((f) => f.name.startsWith(name))?.value;

await step("submit", () => benchSubmit(sizes));
await step("dispatch", () => benchDispatch(sizes));
await step("worker", () => benchWorker(sizes));
await step("fanout", () => benchFanout(sizes));
await step("peer", async () => {
  const peer = await measureBullmq(sizes);
  const result = peerResult(peer, {
    createP50: figureOf("submit", "CreateTask p50, 1 clients"),
    dispatchP50: figureOf("dispatch", "dispatch p50, idle"),
    overheadMs: figureOf("stages", `${sizes.stageResolutions[0]} ${sizes.stageDurations[0]} s: orchestration overhead`),
  });
  return result;
});

const commit = git("rev-parse", "--short", "HEAD");
const day = new Date(started).toISOString().slice(0, 10);
const base = `${day}-${commit}${sizes.mode === "full" ? "" : `-${sizes.mode}`}`;
const run: RunFile = {
  info: {
    date: new Date(started).toISOString(),
    commit,
    dirty: git("status", "--porcelain", "--untracked-files=no") !== "",
    quick,
    mode: sizes.mode,
    machine: {
      cpu: cpus()[0]?.model ?? "?",
      cores: cpus().length,
      memoryGiB: round2(totalmem() / 2 ** 30),
      node: process.version,
      platform: platform(),
    },
    load: { start: loadStart, end: loadavg().map(round2) },
    durationS: (Date.now() - started) / 1000,
  },
  results: results.map((r) => ({ ...r, charts: r.charts.map((c) => ({ ...c, svg: "" })) })),
  failures,
};
const resultsDir = join(REPO_ROOT, "bench", "results");
const chartDir = join(resultsDir, base);
await mkdir(chartDir, { recursive: true });
for (const r of results) for (const c of r.charts) await writeFile(join(chartDir, c.file), c.svg);
const jsonPath = join(resultsDir, `${base}.json`);
await writeFile(jsonPath, `${JSON.stringify(run, null, 2)}\n`);
// The repository's formatter owns JSON layout (npm run check runs biome over bench/results too).
try {
  execFileSync(join(REPO_ROOT, "node_modules", ".bin", "biome"), ["format", "--write", jsonPath], { stdio: "ignore" });
} catch {
  console.error("bench: could not format the results with biome");
}
await writeFile(
  join(REPO_ROOT, "BENCHMARKS.md"),
  renderMarkdown(run, `bench/results/${base}`, `bench/results/${base}.json`),
);
console.error(`bench: wrote ${jsonPath} and BENCHMARKS.md in ${run.info.durationS.toFixed(0)} s`);
process.exit(failures.length > 0 ? 1 : 0);
