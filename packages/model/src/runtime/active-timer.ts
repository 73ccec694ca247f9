/**
 * Wall time spent working, with pauses left out: the engine pauses it while it waits at a step
 * boundary, where the worker may serve another task's `prepare`, so a task is billed only for
 * its own work.
 */
export class ActiveTimer {
  private total = 0;
  private since: number | undefined = performance.now();

  pause(): void {
    if (this.since === undefined) return;
    this.total += performance.now() - this.since;
    this.since = undefined;
  }

  resume(): void {
    this.since ??= performance.now();
  }

  seconds(): number {
    return (this.total + (this.since !== undefined ? performance.now() - this.since : 0)) / 1000;
  }
}
