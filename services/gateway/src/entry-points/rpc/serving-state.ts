export interface ServingState {
  readonly serving: boolean;
  set(serving: boolean): void;
  /** Calls `listener` on every change; returns the unsubscribe function. */
  onChange(listener: (serving: boolean) => void): () => void;
}

/** Whether the gateway can do its job now (NATS connected, not shutting down). */
export function createServingState(initial: boolean): ServingState {
  let serving = initial;
  const listeners = new Set<(s: boolean) => void>();
  return {
    get serving() {
      return serving;
    },
    set(next) {
      if (next === serving) return;
      serving = next;
      for (const l of listeners) l(next);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
