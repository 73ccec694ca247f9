/**
 * Service timings for meshes whose tests kill processes or NATS nodes: failures
 * are noticed and retried within seconds rather than minutes, while a stall
 * still takes long enough (20 s) that a 2-core machine's slow step is not one.
 * One thread per model and encoder, so several workers share the cores evenly.
 */
export const FAULT_TIMINGS: Readonly<Record<string, string>> = {
  STALL_TIMEOUT_MS: "20000",
  RECONCILE_INTERVAL_MS: "300",
  SWEEP_INTERVAL_MS: "2000",
  LEADER_LEASE_MS: "6000",
  RETRY_BASE_DELAY_MS: "200",
  RETRY_MAX_DELAY_MS: "1000",
  WORKER_FRESH_MS: "4000",
  INTRA_OP_THREADS: "1",
  X264_THREADS: "1",
};
