/**
 * Small hand-drawn SVG charts for BENCHMARKS.md (no charting dependency):
 * cumulative distributions, grouped bars, stacked bars and lines.
 */
const W = 640;
const H = 300;
const M = { l: 60, r: 150, t: 30, b: 40 };
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const color = (i: number): string => COLORS[i % COLORS.length] ?? "#000";
const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(2));

function frame(title: string, xLabel: string, yLabel: string, body: string, legend: readonly string[]): string {
  const items = legend
    .map(
      (name, i) =>
        `<rect x="${W - M.r + 10}" y="${M.t + i * 18}" width="12" height="12" fill="${color(i)}"/>` +
        `<text x="${W - M.r + 26}" y="${M.t + i * 18 + 10}" font-size="11">${esc(name)}</text>`,
    )
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">` +
    `<title>${esc(title)}</title>` +
    `<rect width="${W}" height="${H}" fill="#fff"/>` +
    `<text x="${W / 2}" y="18" font-size="14" text-anchor="middle">${esc(title)}</text>` +
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${esc(xLabel)}</text>` +
    `<text x="14" y="${(M.t + H - M.b) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 14 ${(M.t + H - M.b) / 2})">${esc(yLabel)}</text>` +
    `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#000"/>` +
    `<line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#000"/>` +
    body +
    items +
    "</svg>\n"
  );
}

function yTicks(max: number, y: (v: number) => number): string {
  return [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const v = max * f;
      return `<text x="${M.l - 4}" y="${y(v) + 4}" font-size="10" text-anchor="end">${fmt(v)}</text><line x1="${M.l}" x2="${W - M.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`;
    })
    .join("");
}

function xTicks(max: number, x: (v: number) => number): string {
  return [0, 0.25, 0.5, 0.75, 1]
    .map(
      (f) => `<text x="${x(max * f)}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${fmt(max * f)}</text>`,
    )
    .join("");
}

export interface Series {
  name: string;
  values: readonly number[];
}

/** Cumulative distribution of each series, x clipped at the largest p99 so the tails do not flatten the body. */
export function cdfChart(title: string, xLabel: string, series: readonly Series[]): string {
  const p99 = (v: readonly number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length * 0.99)] ?? 0;
  const maxX = Math.max(1e-9, ...series.map((s) => p99(s.values))) * 1.05;
  const x = (v: number): number => M.l + (Math.min(v, maxX) / maxX) * (W - M.l - M.r);
  const y = (f: number): number => H - M.b - f * (H - M.t - M.b);
  const lines = series
    .map((s, i) => {
      const sorted = [...s.values].sort((a, b) => a - b);
      const step = Math.max(1, Math.floor(sorted.length / 200));
      const pts: string[] = [];
      for (let k = 0; k < sorted.length; k += step)
        pts.push(`${x(sorted[k] ?? 0).toFixed(1)},${y((k + 1) / sorted.length).toFixed(1)}`);
      pts.push(`${x(sorted.at(-1) ?? 0).toFixed(1)},${y(1).toFixed(1)}`);
      return `<polyline fill="none" stroke="${color(i)}" stroke-width="2" points="${pts.join(" ")}"/>`;
    })
    .join("");
  const yt = [0, 0.5, 0.9, 0.99]
    .map(
      (f) =>
        `<text x="${M.l - 4}" y="${y(f) + 4}" font-size="10" text-anchor="end">${f}</text><line x1="${M.l}" x2="${W - M.r}" y1="${y(f)}" y2="${y(f)}" stroke="#eee"/>`,
    )
    .join("");
  return frame(
    title,
    xLabel,
    "fraction of calls",
    yt + xTicks(maxX, x) + lines,
    series.map((s) => s.name),
  );
}

export interface Group {
  label: string;
  values: readonly number[];
}

/** One cluster of bars per group, one bar per series name; `log` for values decades apart. */
export function barChart(
  title: string,
  yLabel: string,
  names: readonly string[],
  groups: readonly Group[],
  log = false,
): string {
  const vals = groups.flatMap((g) => g.values).filter((v) => Number.isFinite(v) && v > 0);
  const max = Math.max(1e-9, ...vals) * 1.1;
  const lo = log ? 10 ** Math.floor(Math.log10(Math.min(...vals, max))) : 0;
  const frac = (v: number): number =>
    log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(max) - Math.log10(lo)) : v / max;
  const y = (v: number): number => H - M.b - frac(v) * (H - M.t - M.b);
  const gw = (W - M.l - M.r) / Math.max(1, groups.length);
  const bw = (gw * 0.8) / Math.max(1, names.length);
  const bars = groups
    .map((g, gi) => {
      const x0 = M.l + gi * gw + gw * 0.1;
      const rects = g.values
        .map(
          (v, i) =>
            `<rect x="${x0 + i * bw}" y="${y(v)}" width="${bw - 2}" height="${H - M.b - y(v)}" fill="${color(i)}"><title>${fmt(v)}</title></rect><text x="${x0 + i * bw + bw / 2}" y="${y(v) - 3}" font-size="9" text-anchor="middle">${fmt(v)}</text>`,
        )
        .join("");
      return `${rects}<text x="${x0 + gw * 0.4}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${esc(g.label)}</text>`;
    })
    .join("");
  const ticks = log
    ? Array.from({ length: Math.ceil(Math.log10(max / lo)) + 1 }, (_, i) => lo * 10 ** i)
        .filter((v) => v <= max)
        .map(
          (v) =>
            `<text x="${M.l - 4}" y="${y(v) + 4}" font-size="10" text-anchor="end">${fmt(v)}</text><line x1="${M.l}" x2="${W - M.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
        )
        .join("")
    : yTicks(max, y);
  return frame(title, "", log ? `${yLabel} (log scale)` : yLabel, ticks + bars, names);
}

/** One horizontal stacked bar per row, parts in the order of `names`. */
export function stackedBars(title: string, xLabel: string, names: readonly string[], rows: readonly Group[]): string {
  const max = Math.max(1e-9, ...rows.map((r) => r.values.reduce((a, b) => a + b, 0))) * 1.05;
  const x = (v: number): number => (v / max) * (W - M.l - M.r);
  const rh = (H - M.t - M.b) / Math.max(1, rows.length);
  const body = rows
    .map((r, ri) => {
      let at = M.l;
      const top = M.t + ri * rh + rh * 0.15;
      const parts = r.values
        .map((v, i) => {
          const rect = `<rect x="${at}" y="${top}" width="${x(v)}" height="${rh * 0.7}" fill="${color(i)}"><title>${esc(names[i] ?? "")}: ${fmt(v)}</title></rect>`;
          at += x(v);
          return rect;
        })
        .join("");
      return `${parts}<text x="${M.l - 4}" y="${top + rh * 0.4}" font-size="10" text-anchor="end">${esc(r.label)}</text>`;
    })
    .join("");
  return frame(title, xLabel, "", xTicks(max, (v) => M.l + x(v)) + body, names);
}

export interface LineSeries {
  name: string;
  points: readonly [number, number][];
}

export function lineChart(title: string, xLabel: string, yLabel: string, series: readonly LineSeries[]): string {
  const maxX = Math.max(1e-9, ...series.flatMap((s) => s.points.map((p) => p[0])));
  const maxY = Math.max(1e-9, ...series.flatMap((s) => s.points.map((p) => p[1]))) * 1.1;
  const x = (v: number): number => M.l + (v / maxX) * (W - M.l - M.r);
  const y = (v: number): number => H - M.b - (v / maxY) * (H - M.t - M.b);
  const lines = series
    .map((s, i) => {
      const pts = s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(" ");
      const dots = s.points.map(([a, b]) => `<circle cx="${x(a)}" cy="${y(b)}" r="3" fill="${color(i)}"/>`).join("");
      return `<polyline fill="none" stroke="${color(i)}" stroke-width="2" points="${pts}"/>${dots}`;
    })
    .join("");
  return frame(
    title,
    xLabel,
    yLabel,
    yTicks(maxY, y) + xTicks(maxX, x) + lines,
    series.map((s) => s.name),
  );
}
