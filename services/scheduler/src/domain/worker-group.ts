/**
 * Live workers serving the same pools (highest priority first), counted from
 * fresh heartbeats. The worker registry channel reads groups in this shape;
 * the domain keeps its own declaration because it may not import channels.
 */
export interface WorkerGroup {
  group: string;
  pools: string[];
  workers: number;
}
