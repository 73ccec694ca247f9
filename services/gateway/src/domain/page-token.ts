/**
 * Page tokens are opaque to clients: base64url of the last task id of the
 * previous page. Ids sort by time, so the next page starts below it.
 */
export function encodePageToken(lastTaskId: string): string {
  return Buffer.from(`v1:${lastTaskId}`).toString("base64url");
}

/** Returns the id to continue below, or null when the token is not one of ours. */
export function decodePageToken(token: string): string | null {
  const s = Buffer.from(token, "base64url").toString("utf8");
  return s.startsWith("v1:") && s.length > 3 ? s.slice(3) : null;
}

export interface Page<T> {
  items: T[];
  next: string;
}

/** Newest first: ids descending, starting strictly below `after` when given. */
export function pageOfIds(ids: string[], pageSize: number, after: string | null): Page<string> {
  const sorted = [...ids].sort().reverse();
  const start = after === null ? 0 : sorted.findIndex((id) => id < after);
  if (start < 0) return { items: [], next: "" };
  const items = sorted.slice(start, start + pageSize);
  const last = items[items.length - 1];
  const more = start + pageSize < sorted.length;
  return { items, next: more && last !== undefined ? encodePageToken(last) : "" };
}

/**
 * Newest first, starting strictly below `after`, keeping only the items
 * `keep` accepts (the caller's tenant, a status), until `pageSize` are found.
 * The token points at the last item returned, so filtered-out ids are never
 * skipped or repeated.
 */
export async function filteredPage<T>(
  ids: string[],
  pageSize: number,
  after: string | null,
  load: (id: string) => Promise<T | null>,
  keep: (item: T) => boolean,
): Promise<Page<T>> {
  const sorted = [...ids].sort().reverse();
  const start = after === null ? 0 : sorted.findIndex((id) => id < after);
  if (start < 0) return { items: [], next: "" };
  const items: T[] = [];
  let lastId = "";
  let i = start;
  const BATCH = 32;
  while (i < sorted.length && items.length < pageSize) {
    const slice = sorted.slice(i, i + BATCH);
    const loaded = await Promise.all(slice.map(load));
    for (let j = 0; j < slice.length; j++) {
      i++;
      const item = loaded[j];
      if (item !== null && item !== undefined && keep(item)) {
        items.push(item);
        lastId = slice[j] ?? "";
        if (items.length === pageSize) break;
      }
    }
  }
  return { items, next: items.length === pageSize && i < sorted.length ? encodePageToken(lastId) : "" };
}
