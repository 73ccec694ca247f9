import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type EstimatePush,
  EstimatePushSchema,
  type EstimateWatch,
  EstimateWatchSchema,
  type QueueEstimate,
  type TaskSize,
} from "../gen/t2v/internal/v1/scheduler_queries_pb.js";
import type { Bus, Unsubscribe } from "./bus/bus.js";

/**
 * Queue estimates pushed to the gateways, core NATS both ways, never stored.
 * Each gateway registers the queued tasks its streams watch on one subject
 * every scheduler replica listens to (so a standby holds the sets when it
 * comes to lead); the leader pushes what changed to that gateway's own
 * subject. A lost message is made good by the next heartbeat or push.
 */
export const ESTIMATE_WATCH_SUBJECT = "t2v.scheduler.estimate-watch";

/** Pushes to one gateway go to `<prefix>.<gatewayId>`. */
export const ESTIMATE_PUSH_SUBJECT_PREFIX = "t2v.gateway.estimates";

/** Ids per registration part: with their sizes about 100 KB, well under NATS's 1 MB payload. */
export const MAX_WATCH_IDS_PER_PART = 1_000;
/** Parts per registration: at most 100,000 watched tasks per gateway; a set past it is cut. */
export const MAX_WATCH_PARTS = 100;
/** Estimates per push message (about 80 bytes each). */
export const MAX_PUSH_ESTIMATES = 1_000;
/** How often a gateway registers its set again though it did not change; a restarted scheduler hears it then. */
export const WATCH_HEARTBEAT_MS = 10_000;
/** A gateway not heard from for three heartbeats is gone: its set is dropped. */
export const WATCH_EXPIRY_MS = 3 * WATCH_HEARTBEAT_MS;
/** How often, by default, the leader pushes the estimates that changed. */
export const ESTIMATE_PUSH_INTERVAL_MS = 2_000;

const GATEWAY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TASK_ID_LENGTH = 128;

/** Whether `id` may name a gateway: one subject token, bounded. */
export function isGatewayId(id: string): boolean {
  return GATEWAY_ID.test(id);
}

export function estimatePushSubject(gatewayId: string): string {
  return `${ESTIMATE_PUSH_SUBJECT_PREFIX}.${gatewayId}`;
}

/** One registration part as it was checked: bounded, ids non-empty, sizes only for ids of the part. */
export type WatchPart = Pick<EstimateWatch, "gatewayId" | "generation" | "part" | "parts" | "taskIds" | "sizes">;

export interface EstimatePushes {
  /** Sends a gateway's whole watched set as generation `generation`, in parts; the number of messages sent. */
  register(gatewayId: string, generation: bigint, taskIds: readonly string[], sizes: readonly TaskSize[]): number;
  /** Every registration part any gateway sends; malformed or out-of-bounds ones are dropped. */
  onRegistration(onPart: (part: WatchPart) => void): Unsubscribe;
  /** Sends estimates to one gateway, in messages of at most MAX_PUSH_ESTIMATES; the number of messages sent. */
  push(gatewayId: string, estimates: readonly QueueEstimate[]): number;
  /** The pushes addressed to this gateway; malformed ones are dropped. */
  onPush(gatewayId: string, onEstimates: (estimates: QueueEstimate[]) => void): Unsubscribe;
}

/** The checked part, or undefined when it is garbage. */
export function checkWatchPart(w: EstimateWatch): WatchPart | undefined {
  if (!isGatewayId(w.gatewayId)) return undefined;
  if (w.parts < 1 || w.parts > MAX_WATCH_PARTS || w.part >= w.parts) return undefined;
  if (w.taskIds.length > MAX_WATCH_IDS_PER_PART || w.sizes.length > w.taskIds.length) return undefined;
  if (w.taskIds.some((id) => id.length === 0 || id.length > MAX_TASK_ID_LENGTH)) return undefined;
  const ids = new Set(w.taskIds);
  if (w.sizes.some((s) => !ids.has(s.taskId))) return undefined;
  return w;
}

export function estimatePushes(bus: Bus): EstimatePushes {
  return {
    register(gatewayId, generation, taskIds, sizes) {
      if (!isGatewayId(gatewayId)) throw new Error(`not a gateway id: ${gatewayId}`);
      const ids = taskIds.slice(0, MAX_WATCH_IDS_PER_PART * MAX_WATCH_PARTS);
      const parts = Math.max(1, Math.ceil(ids.length / MAX_WATCH_IDS_PER_PART));
      const sizeOf = new Map(sizes.map((s) => [s.taskId, s]));
      for (let part = 0; part < parts; part++) {
        const partIds = ids.slice(part * MAX_WATCH_IDS_PER_PART, (part + 1) * MAX_WATCH_IDS_PER_PART);
        const msg = create(EstimateWatchSchema, {
          gatewayId,
          generation,
          part,
          parts,
          taskIds: partIds,
          sizes: partIds.flatMap((id) => sizeOf.get(id) ?? []),
        });
        bus.broadcast(ESTIMATE_WATCH_SUBJECT, toBinary(EstimateWatchSchema, msg));
      }
      return parts;
    },
    onRegistration: (onPart) =>
      bus.subscribe(ESTIMATE_WATCH_SUBJECT, (data) => {
        let w: EstimateWatch;
        try {
          w = fromBinary(EstimateWatchSchema, data);
        } catch {
          return;
        }
        const part = checkWatchPart(w);
        if (part) onPart(part);
      }),
    push(gatewayId, estimates) {
      let sent = 0;
      for (let i = 0; i < estimates.length; i += MAX_PUSH_ESTIMATES) {
        const msg = create(EstimatePushSchema, { gatewayId, estimates: estimates.slice(i, i + MAX_PUSH_ESTIMATES) });
        bus.broadcast(estimatePushSubject(gatewayId), toBinary(EstimatePushSchema, msg));
        sent++;
      }
      return sent;
    },
    onPush(gatewayId, onEstimates) {
      if (!isGatewayId(gatewayId)) throw new Error(`not a gateway id: ${gatewayId}`);
      return bus.subscribe(estimatePushSubject(gatewayId), (data) => {
        let msg: EstimatePush;
        try {
          msg = fromBinary(EstimatePushSchema, data);
        } catch {
          return;
        }
        if (msg.gatewayId !== gatewayId || msg.estimates.length > MAX_PUSH_ESTIMATES) return;
        onEstimates(msg.estimates.filter((e) => e.taskId.length > 0 && e.taskId.length <= MAX_TASK_ID_LENGTH));
      });
    },
  };
}
