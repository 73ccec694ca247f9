import assert from "node:assert/strict";
import { test } from "node:test";
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { observeEach } from "./observe-each.js";

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

async function points(reader: TestReader): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, number> = {};
  for (const sm of resourceMetrics.scopeMetrics)
    for (const m of sm.metrics) for (const p of m.dataPoints) out[String(p.attributes.group)] = p.value as number;
  return out;
}

test("a gauge series no longer observed reads 0, where the SDK alone keeps its last value", async () => {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter("test");
  let groups: [string, number][] = [
    ["a", 2],
    ["b", 1],
  ];
  const observe = observeEach("group");
  meter.createObservableGauge("filled").addCallback((o) => observe(o, groups));
  // The same gauge observed plainly, for the SDK's own behaviour beside it.
  const plainReader = new TestReader();
  const plainProvider = new MeterProvider({ readers: [plainReader] });
  plainProvider
    .getMeter("test")
    .createObservableGauge("plain")
    .addCallback((o) => {
      for (const [g, n] of groups) o.observe(n, { group: g });
    });

  assert.deepEqual(await points(reader), { a: 2, b: 1 });
  assert.deepEqual(await points(plainReader), { a: 2, b: 1 });
  groups = [["a", 3]];
  assert.deepEqual(await points(reader), { a: 3, b: 0 }, "the vanished group reads 0");
  assert.deepEqual(await points(plainReader), { a: 3, b: 1 }, "without it, the SDK keeps b's last value");
  groups = [
    ["a", 3],
    ["b", 4],
  ];
  assert.deepEqual(await points(reader), { a: 3, b: 4 }, "and a group that comes back reads its value");
  await provider.shutdown();
  await plainProvider.shutdown();
});
