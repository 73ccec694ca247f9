import { Queue, Worker } from "bullmq";
import { type BenchResult, type Figure, figure } from "./result.js";
import type { Sizes } from "./sizes.js";
import { closedLoop, round2, type Summary, summarize, withLoad } from "./stats.js";
import { barChart } from "./svg.js";

const REDIS = { host: process.env.BENCH_REDIS_HOST ?? "127.0.0.1", port: Number(process.env.BENCH_REDIS_PORT ?? 6379) };

export interface PeerFigures {
  addMs: number[];
  pickupMs: number[];
  completeMs: number[];
  jobsPerSecond: number;
}

/**
 * The same submit -> worker -> complete path on BullMQ over the local Redis,
 * no-op work: add latency (1 client, closed loop), add -> processor start and
 * add -> completed for sequential probes, and drain rate of a bulk-added backlog.
 */
export async function measureBullmq(
  sizes: Sizes,
): Promise<{ value: PeerFigures; load: { start: number; end: number } }> {
  return withLoad(async () => {
    const name = `t2v-bench-${process.pid}`;
    const queue = new Queue(name, { connection: REDIS });
    let onStart: ((t: number) => void) | undefined;
    const worker = new Worker(
      name,
      async () => {
        onStart?.(performance.now());
      },
      { connection: REDIS, concurrency: 1 },
    );
    let onDone: ((t: number) => void) | undefined;
    worker.on("completed", () => onDone?.(performance.now()));
    try {
      await worker.waitUntilReady();
      const pickupMs: number[] = [];
      const completeMs: number[] = [];
      for (let i = 0; i < 5 + sizes.dispatchProbes * 4; i++) {
        const started = new Promise<number>((r) => {
          onStart = r;
        });
        const done = new Promise<number>((r) => {
          onDone = r;
        });
        const t0 = performance.now();
        await queue.add("probe", { i });
        const acked = performance.now();
        const s = await started;
        const d = await done;
        if (i >= 5) {
          pickupMs.push(s - acked);
          completeMs.push(d - t0);
        }
      }
      onStart = undefined;
      onDone = undefined;
      await worker.pause();
      const add = await closedLoop(1, sizes.submitMs, () => queue.add("submit", { x: 1 }));
      // Drain: everything added so far plus a bulk backlog, one no-op worker.
      await queue.addBulk(Array.from({ length: sizes.peerJobs }, (_, i) => ({ name: "bulk", data: { i } })));
      const total = await queue.count();
      let completed = 0;
      const drained = new Promise<void>((r) => {
        onDone = () => {
          if (++completed >= total) r();
        };
      });
      const t = performance.now();
      worker.resume();
      await drained;
      const jobsPerSecond = round2(total / ((performance.now() - t) / 1000));
      return { addMs: add.latencies, pickupMs, completeMs, jobsPerSecond };
    } finally {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  });
}

/** Ours beside BullMQ: the figures of ours come from the submit, dispatch and stages benchmarks of this run. */
export function peerResult(
  peer: Awaited<ReturnType<typeof measureBullmq>>,
  ours: { createP50?: number; dispatchP50?: number; overheadMs?: number },
): BenchResult {
  const add = summarize(peer.value.addMs);
  const pick = summarize(peer.value.pickupMs);
  const done = summarize(peer.value.completeMs);
  const figures: Figure[] = [
    figure({
      name: "submit p50, 1 client: CreateTask (ours) / Queue.add (BullMQ)",
      unit: "ms",
      value: ours.createP50 ?? Number.NaN,
      baselineName: "BullMQ",
      baseline: add.p50,
    }),
    figure({
      name: "dispatch p50, idle: ack -> first step (ours) / ack -> processor start (BullMQ)",
      unit: "ms",
      value: ours.dispatchP50 ?? Number.NaN,
      baselineName: "BullMQ",
      baseline: pick.p50,
    }),
    figure({
      name: "path overhead: end to end - model - ffmpeg (ours, 480p 3 s) / add -> completed, no-op (BullMQ)",
      unit: "ms",
      value: ours.overheadMs ?? Number.NaN,
      baselineName: "BullMQ",
      baseline: done.p50,
    }),
    { name: "BullMQ drain rate, 1 worker, no-op", unit: "jobs/s", value: peer.value.jobsPerSecond },
  ];
  const dist: Record<string, Summary> = { bullmqAdd: add, bullmqPickup: pick, bullmqComplete: done };
  return {
    name: "peer",
    title: "Peer: BullMQ on the local Redis, no-op work, beside ours",
    method:
      "BullMQ queue and one worker (concurrency 1) in the bench process on Redis 127.0.0.1:6379; Queue.add closed loop from 1 client; sequential probes for add -> processor start and add -> completed. Ours: figures of this run's submit (CreateTask p50, 1 client), dispatch (idle p50) and stages (overhead of the 480p 3 s task) benchmarks. Ours has separate processes and a real model step; BullMQ's path has neither, so this bounds what the queueing costs, not a like-for-like product.",
    load: peer.load,
    figures,
    distributions: dist,
    notes: [],
    charts: [
      {
        file: "peer.svg",
        caption: "Ours against BullMQ (p50, ms, log scale)",
        svg: barChart(
          "Ours against BullMQ (p50)",
          "ms",
          ["ours", "BullMQ"],
          [
            { label: "submit", values: [ours.createP50 ?? 0, add.p50] },
            { label: "dispatch", values: [ours.dispatchP50 ?? 0, pick.p50] },
            { label: "path overhead", values: [ours.overheadMs ?? 0, done.p50] },
          ],
          true,
        ),
      },
    ],
  };
}
