import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { liveJsMb, type MemorySample, rssGrowth } from "./memory-soak.js";

const run = promisify(execFile);

// A child process, because live-memory samples need --expose-gc (both threads collect before
// each sample); without it the numbers mostly measure when V8 last ran a collection.
test("memory stays flat over 100 consecutive generations", async () => {
  const cli = fileURLToPath(new URL("./memory-soak-cli.js", import.meta.url));
  // 4 steps instead of 10: per-task allocations are the same, the run is 2.5x shorter.
  const { stdout } = await run(process.execPath, ["--expose-gc", cli, "100", "4", "--json"], {
    timeout: 120_000,
  });
  const { samples } = JSON.parse(stdout) as { samples: MemorySample[] };
  assert.equal(samples.length, 10);
  const first = samples[0] as MemorySample;
  const last = samples.at(-1) as MemorySample;
  // Samples start after 10 tasks, so arenas and caches have reached their working size.
  assert.ok(rssGrowth(samples) < 0.15, `process RSS grew ${(rssGrowth(samples) * 100).toFixed(1)} %`);
  assert.ok(
    liveJsMb(last) - liveJsMb(first) < 4,
    `live JS memory ${liveJsMb(first).toFixed(1)} -> ${liveJsMb(last).toFixed(1)} MB`,
  );
});
