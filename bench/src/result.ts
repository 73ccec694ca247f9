import type { Load, Summary } from "./stats.js";

/** One measured figure with what it is compared against within the same run. */
export interface Figure {
  name: string;
  unit: string;
  value: number;
  baselineName?: string;
  baseline?: number;
  /** value / baseline. */
  ratio?: number;
  /** As filed in issue #13, e.g. "ratio <= 2". */
  target?: string;
  met?: boolean;
  /** Why a target is missed: what the run measured, and the code it points at. */
  reason?: string;
}

export interface Chart {
  file: string;
  caption: string;
  svg: string;
}

export interface BenchResult {
  name: string;
  title: string;
  /** What was measured, how, and with which counts. */
  method: string;
  load: Load;
  figures: Figure[];
  distributions?: Record<string, Summary>;
  notes: string[];
  charts: Chart[];
}

export function figure(f: Figure): Figure {
  const ratio =
    f.baseline !== undefined && f.baseline !== 0 ? Math.round((f.value / f.baseline) * 100) / 100 : undefined;
  return ratio === undefined ? f : { ...f, ratio };
}

/** A figure checked against `limit` (on the ratio when there is a baseline, else on the value). */
export function targeted(f: Figure, cmp: "<=" | ">=", limit: number, reason: string): Figure {
  const g = figure(f);
  const x = g.ratio ?? g.value;
  const met = cmp === "<=" ? x <= limit : x >= limit;
  const what = g.ratio !== undefined ? "ratio" : g.unit;
  return { ...g, target: `${what} ${cmp} ${limit}`, met, ...(met ? {} : { reason }) };
}

/** A figure with a baseline beside it, checked against an absolute limit on its value. */
export function absolute(f: Figure, cmp: "<=" | ">=", limit: number, reason: string): Figure {
  const g = figure(f);
  const met = cmp === "<=" ? g.value <= limit : g.value >= limit;
  return {
    ...g,
    target: `${g.unit === "%" ? "" : `${g.unit} `}${cmp} ${limit}${g.unit === "%" ? " %" : ""}`.trim(),
    met,
    ...(met ? {} : { reason }),
  };
}
