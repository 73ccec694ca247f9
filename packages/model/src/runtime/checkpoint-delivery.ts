import type { Checkpoint } from "../api-types.js";

/**
 * Hands checkpoints to the caller's store without ever holding up denoising: at most one call
 * in flight, and a checkpoint that arrives meanwhile replaces the one waiting (only the newest
 * state is worth storing). `settle` waits for the call in flight, so `generate` never resolves
 * while an older checkpoint could still land after the result.
 */
export class CheckpointDelivery {
  private waiting: Checkpoint | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly store: ((c: Checkpoint) => Promise<void> | void) | undefined) {}

  offer(c: Checkpoint): void {
    if (this.store === undefined) return;
    this.waiting = c;
    if (this.inFlight === undefined) this.pump();
  }

  /** Waits for the call in flight; `flush` also delivers the one waiting (on failure, the newest state is the retry's). */
  async settle(flush: boolean): Promise<void> {
    if (!flush) this.waiting = undefined;
    while (this.inFlight !== undefined) await this.inFlight;
  }

  private pump(): void {
    const next = this.waiting;
    const store = this.store;
    if (next === undefined || store === undefined) {
      this.inFlight = undefined;
      return;
    }
    this.waiting = undefined;
    this.inFlight = (async () => {
      try {
        await store(next);
      } catch {
        // The next checkpoint supersedes a failed store; the caller's callback logs its own errors.
      }
    })().then(() => this.pump());
  }
}
