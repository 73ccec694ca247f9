/** What a wrapper adds to a stream of messages; every hook is optional. */
export interface StreamHooks<T, U> {
  /** Runs each pull of the inner stream, e.g. inside a trace context. */
  around?: (pull: () => Promise<IteratorResult<T>>) => Promise<IteratorResult<T>>;
  /** Each message as the wrapper hands it on. */
  map?: (value: T) => U;
  /** The error the stream fails with instead of the inner one. */
  failed?: (err: unknown) => unknown;
  /** Called once, however the stream ends: done, failed (with the inner error) or closed early by its reader. */
  ended?: (err?: unknown) => void;
}

/**
 * `inner` with `hooks` around it, as a plain iterator object rather than an
 * async generator: a gateway holds one per wrapper per open stream, and a
 * suspended generator costs its frame, its queued request, the closures and
 * promise of its pending await, where this costs one small object. Closing
 * it early (`return`) closes `inner` too.
 */
export function wrapStream<T, U = T>(inner: AsyncIterable<T>, hooks: StreamHooks<T, U>): AsyncIterableIterator<U> {
  return new WrappedStream(inner, hooks);
}

class WrappedStream<T, U> implements AsyncIterableIterator<U> {
  private it: AsyncIterator<T> | undefined = undefined;
  private over = false;

  constructor(
    private readonly inner: AsyncIterable<T>,
    private readonly hooks: StreamHooks<T, U>,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<U> {
    return this;
  }

  next(): Promise<IteratorResult<U>> {
    if (this.over) return Promise.resolve({ done: true, value: undefined });
    const it = this.iterator();
    const { around } = this.hooks;
    let pulled: Promise<IteratorResult<T>>;
    try {
      pulled = around ? around(() => it.next()) : it.next();
    } catch (err) {
      pulled = Promise.reject(err);
    }
    return pulled.then(
      (r) => {
        if (r.done) {
          this.end();
          return { done: true, value: undefined };
        }
        const { map } = this.hooks;
        return { done: false, value: map ? map(r.value) : (r.value as unknown as U) };
      },
      (err: unknown) => {
        const failure = this.hooks.failed ? this.hooks.failed(err) : err;
        this.end(err);
        throw failure;
      },
    );
  }

  async return(): Promise<IteratorResult<U>> {
    const it = this.it;
    this.end();
    await it?.return?.();
    return { done: true, value: undefined };
  }

  private iterator(): AsyncIterator<T> {
    this.it ??= this.inner[Symbol.asyncIterator]();
    return this.it;
  }

  private end(err?: unknown): void {
    if (this.over) return;
    this.over = true;
    this.hooks.ended?.(err);
  }
}
