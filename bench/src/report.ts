import type { BenchResult, Figure } from "./result.js";

export interface RunInfo {
  date: string;
  commit: string;
  /** Uncommitted changes in the tree when the run started (several engineers edit it). */
  dirty: boolean;
  quick: boolean;
  mode: "full" | "quick" | "tiny";
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform: string };
  load: { start: number[]; end: number[] };
  durationS: number;
}

export interface RunFile {
  info: RunInfo;
  results: BenchResult[];
  failures: { name: string; error: string }[];
}

const num = (x: number | undefined): string =>
  x === undefined || Number.isNaN(x) ? "–" : Math.abs(x) >= 100 ? x.toFixed(0) : String(Math.round(x * 100) / 100);

function row(f: Figure): string {
  const met = f.met === undefined ? "" : f.met ? "met" : "**missed**";
  return `| ${f.name} | ${num(f.value)} ${f.unit} | ${f.baselineName ? `${num(f.baseline)} (${f.baselineName})` : ""} | ${f.ratio === undefined ? "" : `${num(f.ratio)}x`} | ${f.target ?? ""} | ${met} |`;
}

/** BENCHMARKS.md for one run; `chartDir` is relative to the repository root. */
export function renderMarkdown(run: RunFile, chartDir: string, jsonPath: string): string {
  const i = run.info;
  const out: string[] = [];
  out.push("# Benchmarks", "");
  out.push(
    "Written by `npm run bench` (bench/src/main.ts) from one run; do not edit by hand. `npm run bench -- --quick` keeps the run under three minutes with smaller counts, and says so below. Ratios compare figures of the same run on the same machine; absolute figures depend on the machine and on what else ran on it (see the load).",
    "",
  );
  out.push("| | |", "|---|---|");
  out.push(`| date | ${i.date} |`);
  out.push(`| commit | ${i.commit}${i.dirty ? " (with uncommitted changes in the tree)" : ""} |`);
  out.push(
    `| mode | ${i.mode === "full" ? "full" : i.mode === "quick" ? "quick (--quick: smaller counts, named in each section)" : "tiny (--tiny: a smoke test of the harness, figures meaningless)"} |`,
  );
  out.push(
    `| machine | ${i.machine.cpu}, ${i.machine.cores} cores, ${i.machine.memoryGiB} GiB, ${i.machine.platform}, Node ${i.machine.node} |`,
  );
  out.push(`| load average (1/5/15 min) | start ${i.load.start.join(" / ")}, end ${i.load.end.join(" / ")} |`);
  out.push(`| run time | ${Math.round(i.durationS)} s |`);
  out.push(`| raw results | [${jsonPath}](${jsonPath}) |`, "");

  const targets = run.results.flatMap((r) => r.figures.filter((f) => f.target).map((f) => ({ r, f })));
  if (targets.length > 0) {
    out.push(
      "## Targets",
      "",
      "| benchmark | figure | value | ratio | target | | measured reason |",
      "|---|---|---|---|---|---|---|",
    );
    for (const { r, f } of targets)
      out.push(
        `| ${r.name} | ${f.name} | ${num(f.value)} ${f.unit} | ${f.ratio === undefined ? "" : `${num(f.ratio)}x`} | ${f.target} | ${f.met ? "met" : "**missed**"} | ${f.met ? "" : (f.reason ?? "")} |`,
      );
    out.push("");
  }
  if (run.failures.length > 0) {
    out.push("## Benchmarks that did not finish", "");
    for (const f of run.failures) out.push(`- **${f.name}**: ${f.error.split("\n")[0]}`);
    out.push("");
  }
  for (const r of run.results) {
    out.push(
      `## ${r.title}`,
      "",
      r.method,
      "",
      `Load average (1 min): ${r.load.start} at the start, ${r.load.end} at the end.`,
      "",
    );
    out.push("| figure | value | baseline | ratio | target | |", "|---|---|---|---|---|---|");
    for (const f of r.figures) out.push(row(f));
    out.push("");
    if (r.distributions && Object.keys(r.distributions).length > 0) {
      out.push(
        "<details><summary>distributions (ms)</summary>",
        "",
        "| series | n | p50 | p90 | p99 | mean | max |",
        "|---|---|---|---|---|---|---|",
      );
      for (const [k, s] of Object.entries(r.distributions))
        out.push(`| ${k} | ${s.n} | ${num(s.p50)} | ${num(s.p90)} | ${num(s.p99)} | ${num(s.mean)} | ${num(s.max)} |`);
      out.push("", "</details>", "");
    }
    for (const n of r.notes) out.push(`> ${n}`, "");
    for (const c of r.charts) out.push(`![${c.caption}](${chartDir}/${c.file})`, "");
  }
  return `${out.join("\n")}\n`;
}
