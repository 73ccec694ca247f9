/** Counts and durations of one run; `--quick` keeps the whole run under three minutes. */
export interface Sizes {
  mode: "full" | "quick" | "tiny";
  quick: boolean;
  submitClients: number[];
  submitMs: number;
  dispatchProbes: number;
  queued: number;
  backlogQueued: number;
  streams: number[];
  streamEventIntervalMs: number;
  fanoutMs: number;
  gapTasks: number;
  peerJobs: number;
  stageDurations: number[];
  stageResolutions: string[];
}

/** `--tiny`: a smoke test of the harness itself (seconds, meaningless figures). */
export function tinySizes(): Sizes {
  return {
    ...sizesFor(true),
    mode: "tiny",
    submitClients: [1, 8],
    submitMs: 1_000,
    dispatchProbes: 2,
    queued: 200,
    backlogQueued: 200,
    streams: [20, 50],
    fanoutMs: 3_000,
    streamEventIntervalMs: 1_000,
    gapTasks: 3,
    peerJobs: 200,
    stageDurations: [3],
    stageResolutions: ["480p"],
  };
}

export function sizesFor(quick: boolean): Sizes {
  return quick
    ? {
        mode: "quick",
        quick,
        submitClients: [1, 64, 256],
        submitMs: 2_000,
        dispatchProbes: 3,
        queued: 10_000,
        backlogQueued: 10_000,
        streams: [100, 1_000],
        streamEventIntervalMs: 5_000,
        fanoutMs: 4_000,
        gapTasks: 5,
        peerJobs: 2_000,
        stageDurations: [3],
        stageResolutions: ["480p", "720p"],
      }
    : {
        mode: "full",
        quick,
        submitClients: [1, 64, 256],
        submitMs: 10_000,
        dispatchProbes: 20,
        queued: 10_000,
        backlogQueued: 100_000,
        streams: [1_000, 5_000, 10_000],
        streamEventIntervalMs: 5_000,
        fanoutMs: 30_000,
        gapTasks: 12,
        peerJobs: 10_000,
        stageDurations: [3, 5, 10],
        stageResolutions: ["480p", "720p"],
      };
}

/** `--streams=1000,10000`: the fan-out's stream counts instead of the mode's (a bad list stops the run). */
export function withStreams(sizes: Sizes, arg: string | undefined): Sizes {
  if (arg === undefined) return sizes;
  const streams = arg.split(",").map(Number);
  if (streams.some((n) => !Number.isInteger(n) || n < 1 || n > 50_000))
    throw new Error(`--streams=${arg}: want a comma-separated list of stream counts, 1 to 50000`);
  return { ...sizes, streams };
}
