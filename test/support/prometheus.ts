/** One sample of a Prometheus text exposition: its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of `metric` in a scrape of `metricsUrl` (a process's ops port). */
export async function scrapeSamples(metricsUrl: string, metric: string): Promise<Sample[]> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) if (k) labels[k] = v ?? "";
    samples.push({ labels, value: Number(m[3]) });
  }
  return samples;
}
