/** Opens a resource on first use and shares it; a failed open is tried again next time. */
export function lazy<T>(open: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    if (!p) {
      p = open();
      p.catch(() => {
        p = undefined;
      });
    }
    return p;
  };
}
