import type { EstimateWatch, TaskSize } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";

/** One registration part, checked by its channel (bounded, its gateway id a subject token). */
export type WatchPart = Pick<EstimateWatch, "gatewayId" | "generation" | "part" | "parts" | "taskIds" | "sizes">;

/** The queued tasks one gateway's streams watch, as its latest complete registration said. */
export interface WatchedSet {
  readonly generation: bigint;
  readonly taskIds: ReadonlySet<string>;
  /** Tasks whose accelerator seconds the gateway asked for too. */
  readonly sizes: ReadonlyMap<string, TaskSize>;
}

interface Gateway {
  set: WatchedSet | undefined;
  /** The parts of the newest generation heard, until they are all in. */
  pending: { generation: bigint; parts: number; got: Map<number, WatchPart> } | undefined;
  heardAt: number;
}

/**
 * Every gateway's watched set, assembled from registration parts: a
 * generation replaces the set once all its parts arrived and only if it is
 * newer than the one held; parts of an older generation, or of one
 * overtaken before it was complete, are dropped. A gateway not heard from
 * for `maxAgeMs` is forgotten (`expire`). No I/O.
 */
export class WatchSets {
  private readonly gateways = new Map<string, Gateway>();

  /** Takes one part; when it completes a newer generation, the set is replaced and the ids new to it are returned. */
  receive(part: WatchPart, now: number): string[] | undefined {
    const g = this.gateways.get(part.gatewayId) ?? { set: undefined, pending: undefined, heardAt: now };
    this.gateways.set(part.gatewayId, g);
    if (g.set && part.generation <= g.set.generation) return undefined;
    if (g.pending && part.generation < g.pending.generation) return undefined;
    if (!g.pending || part.generation > g.pending.generation)
      g.pending = { generation: part.generation, parts: part.parts, got: new Map() };
    if (part.parts !== g.pending.parts) return undefined;
    g.heardAt = now;
    g.pending.got.set(part.part, part);
    if (g.pending.got.size < g.pending.parts) return undefined;
    const parts = [...g.pending.got.values()];
    const set: WatchedSet = {
      generation: g.pending.generation,
      taskIds: new Set(parts.flatMap((p) => p.taskIds)),
      sizes: new Map(parts.flatMap((p) => p.sizes.map((s) => [s.taskId, s] as const))),
    };
    const before = g.set?.taskIds;
    g.set = set;
    g.pending = undefined;
    return [...set.taskIds].filter((id) => !before?.has(id));
  }

  /** Forgets the gateways not heard from for `maxAgeMs`; returns them. */
  expire(now: number, maxAgeMs: number): string[] {
    const gone = [...this.gateways].filter(([, g]) => now - g.heardAt > maxAgeMs).map(([id]) => id);
    for (const id of gone) this.gateways.delete(id);
    return gone;
  }

  /** The gateways with a complete set. */
  gatewayIds(): string[] {
    return [...this.gateways].filter(([, g]) => g.set !== undefined).map(([id]) => id);
  }

  get(gatewayId: string): WatchedSet | undefined {
    return this.gateways.get(gatewayId)?.set;
  }
}
