/**
 * Collects garbage when the process runs with --expose-gc (soak diagnostics only); a no-op
 * otherwise. Twice, so buffers freed by the first collection's finalizers go too, and memory
 * samples show live memory rather than garbage V8 has not got round to.
 */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}
