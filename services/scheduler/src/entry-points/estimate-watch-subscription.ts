import { type EstimatePushes, type Unsubscribe, WATCH_EXPIRY_MS } from "@t2v/common/channels";
import { WatchSets } from "../domain/watch-sets.js";

/** The gateways' watched sets as this replica heard them, leading or not. */
export interface HeldWatches extends Unsubscribe {
  readonly sets: WatchSets;
  /** `listener` hears a gateway whose new set has tasks its last one had not; returns its removal. */
  onAdded(listener: (gatewayId: string, taskIds: readonly string[]) => void): () => void;
  /** Forgets gateways silent for WATCH_EXPIRY_MS (three heartbeats). */
  expire(): void;
}

/**
 * Every replica listens to the gateways' registrations from its start, so a
 * standby that comes to lead pushes at once, without waiting for the next
 * heartbeats.
 */
export function holdEstimateWatches(pushes: Pick<EstimatePushes, "onRegistration">, now: () => number): HeldWatches {
  const sets = new WatchSets();
  const listeners = new Set<(gatewayId: string, taskIds: readonly string[]) => void>();
  const expire = (): void => {
    sets.expire(now(), WATCH_EXPIRY_MS);
  };
  const sub = pushes.onRegistration((part) => {
    expire();
    const added = sets.receive(part, now());
    if (added && added.length > 0) for (const l of listeners) l(part.gatewayId, added);
  });
  return {
    sets,
    onAdded(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    expire,
    unsubscribe: () => sub.unsubscribe(),
  };
}
