import type { BucketSpec, Bus } from "./bus/bus.js";
import { casCells } from "./cas-cell.js";
import { HOUR_MS, SECOND_MS } from "./durations.js";
import { lazy } from "./lazy.js";
import { checkTenantToken } from "./task-lists.js";

/**
 * "<tenant>" -> the places each gateway replica holds in the tenant's queue
 * for submits the scheduler has not counted yet (JSON, replica id -> [places,
 * written at ms]), written with compare-and-swap: admission counts every
 * replica's, so N replicas cannot admit N times the queue limit in a burst.
 * An entry is only ever a few seconds of submits; idle tenants' entries go
 * with the bucket's TTL.
 */
export const ADMISSION_PLACES_BUCKET: BucketSpec = { name: "t2v_admission_places", ttlMs: HOUR_MS, history: 1 };

/**
 * A replica's entry older than this is not counted (and is dropped at the
 * next write): a gateway gives every place back within 10 s of its submit
 * (services/gateway/src/adapters/admission.ts PENDING_MAX_MS), so an entry
 * left this long is a replica that stopped.
 */
export const PLACES_STALE_MS = 15 * SECOND_MS;

export interface PlacesWrite {
  /** Places the other replicas hold (fresh entries only), as `decide` saw them last. */
  readonly others: number;
  /** Whether this replica's count was written (false: `decide` said null). */
  readonly written: boolean;
}

export interface AdmissionPlaces {
  /**
   * Sets this replica's count of places for the tenant to what `decide`
   * returns, given the places the other replicas hold; null writes nothing.
   * Compare-and-swap: when another replica wrote in between, `decide` is
   * asked again with the new figure, so it must be a pure function of it.
   */
  set(
    tenantId: string,
    replicaId: string,
    nowMs: number,
    decide: (others: number) => number | null,
  ): Promise<PlacesWrite>;
  /** Places the other replicas hold for the tenant. */
  others(tenantId: string, replicaId: string, nowMs: number): Promise<number>;
}

/** Only other replicas contend: the gateway runs one write per tenant at a time. */
const MAX_CAS_TRIES = 50;
const text = new TextEncoder();
const untext = new TextDecoder();

type Entries = Record<string, [number, number]>;

function decode(value: Uint8Array | undefined): Entries {
  if (!value || value.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(untext.decode(value));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    const out: Entries = {};
    for (const [id, v] of Object.entries(parsed)) {
      if (Array.isArray(v) && Number.isSafeInteger(v[0]) && Number.isFinite(v[1])) out[id] = [v[0], v[1]];
    }
    return out;
  } catch {
    return {};
  }
}

function othersOf(entries: Entries, replicaId: string, nowMs: number): number {
  let n = 0;
  for (const [id, [places, at]] of Object.entries(entries))
    if (id !== replicaId && nowMs - at < PLACES_STALE_MS && places > 0) n += places;
  return n;
}

export function admissionPlaces(bus: Bus): AdmissionPlaces {
  const kv = lazy(() => bus.kv(ADMISSION_PLACES_BUCKET));
  const cells = lazy(async () => casCells(await kv(), "admission places", MAX_CAS_TRIES));
  return {
    async set(tenantId, replicaId, nowMs, decide) {
      checkTenantToken(tenantId);
      return (await cells()).change<PlacesWrite>(tenantId, (current) => {
        const entries = decode(current ?? undefined);
        const others = othersOf(entries, replicaId, nowMs);
        const mine = decide(others);
        if (mine === null) return { next: null, result: { others, written: false } };
        // Stale and empty entries go with every write, so the value stays a few replicas long.
        const next: Entries = {};
        for (const [id, [places, at]] of Object.entries(entries))
          if (id !== replicaId && places > 0 && nowMs - at < PLACES_STALE_MS) next[id] = [places, at];
        if (mine > 0) next[replicaId] = [mine, nowMs];
        return { next: text.encode(JSON.stringify(next)), result: { others, written: true } };
      });
    },
    async others(tenantId, replicaId, nowMs) {
      const e = await (await kv()).get(tenantId);
      return othersOf(decode(e?.value), replicaId, nowMs);
    },
  };
}
