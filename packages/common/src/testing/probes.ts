import type { Telemetry } from "../telemetry/start-telemetry.js";

/** What a service last told its probes, for tests of when it goes unready or unlive. */
export interface RecordedProbes extends Pick<Telemetry, "setReady" | "setLive"> {
  readonly state: { ready: boolean; live: boolean };
}

export function recordedProbes(): RecordedProbes {
  const state = { ready: true, live: true };
  return {
    state,
    setReady(ready) {
      state.ready = ready;
    },
    setLive(live) {
      state.live = live;
    },
  };
}

/** Polls `ok` every 10 ms until it holds; throws naming `what` after `ms`. */
export async function pollUntil(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
  }
}
