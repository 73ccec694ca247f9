/** A signal that aborts when any of its sources does, until `dispose` detaches it from them. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes its listeners from the sources: call it when the work it guards is over. */
  dispose(): void;
}

/**
 * What `AbortSignal.any` does, without its leak: on Node 20 (and later, for
 * composites with listeners, until nodejs/node#64481) every composite made
 * from a long-lived source, such as a process's shutdown signal, stays in
 * that source's dependants for ever (about 1.2 KB each, measured on 20.20
 * over 1,000,000 composites), so one per request or stream is a leak. Here
 * the source holds only a listener, and `dispose` takes it away.
 */
export function linkSignals(sources: readonly AbortSignal[]): LinkedSignal {
  const ctl = new AbortController();
  const already = sources.find((s) => s.aborted);
  if (already) {
    ctl.abort(already.reason);
    return { signal: ctl.signal, dispose: () => undefined };
  }
  const onAbort = (ev: Event): void => {
    dispose();
    ctl.abort((ev.target as AbortSignal).reason);
  };
  const dispose = (): void => {
    for (const s of sources) s.removeEventListener("abort", onAbort);
  };
  for (const s of sources) s.addEventListener("abort", onAbort, { once: true });
  return { signal: ctl.signal, dispose };
}
