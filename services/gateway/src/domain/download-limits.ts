export interface DownloadLimitSettings {
  /** Downloads open at once in this gateway, all tenants together: what bounds its read-ahead memory. */
  readonly perGateway: number;
  /** Downloads one tenant's videos may have open at once (signed links and API-key reads together). */
  readonly perTenant: number;
  /** Downloads of one file (every signed link of one video or poster) open at once. */
  readonly perLink: number;
  /** Bytes per second all of one tenant's downloads share. */
  readonly tenantBytesPerSecond: number;
  /** Bytes per second all downloads of one file share. */
  readonly linkBytesPerSecond: number;
}

export type DownloadVerdict = "ok" | "gateway" | "tenant" | "link";

/** Open downloads and their byte budgets per tenant and per file; pure (the caller passes the time). */
export interface DownloadLimits {
  /** Counts a download in when every cap allows it; otherwise says which cap is full and counts nothing. */
  tryStart(tenantId: string, link: string): DownloadVerdict;
  finish(tenantId: string, link: string): void;
  /**
   * Takes `bytes` from the tenant's and the file's budgets and answers how many milliseconds to wait before
   * sending them (0: at once). Each budget refills at its rate up to one second's worth and may go into
   * debt, so downloads sharing it get its rate between them, whatever their chunk sizes.
   */
  pace(tenantId: string, link: string, bytes: number, now: number): number;
  openForTenant(tenantId: string): number;
  openForLink(link: string): number;
  open(): number;
}

interface Budget {
  bytes: number;
  at: number;
}

/** Budgets kept at most (the oldest are forgotten first: a forgotten one starts full, at worst one second's worth). */
const MAX_BUDGETS = 100_000;

export function createDownloadLimits(settings: DownloadLimitSettings): DownloadLimits {
  const tenants = new Map<string, number>();
  const links = new Map<string, number>();
  let open = 0;
  const budgets = new Map<string, Budget>();
  const inc = (m: Map<string, number>, k: string): void => {
    m.set(k, (m.get(k) ?? 0) + 1);
  };
  const dec = (m: Map<string, number>, k: string): void => {
    const n = (m.get(k) ?? 0) - 1;
    if (n > 0) m.set(k, n);
    else m.delete(k);
  };
  /** Milliseconds until the budget is out of debt after taking `bytes`. */
  const take = (key: string, perSecond: number, bytes: number, now: number): number => {
    const prev = budgets.get(key) ?? { bytes: perSecond, at: now };
    const refilled = Math.min(perSecond, prev.bytes + (Math.max(0, now - prev.at) * perSecond) / 1000);
    const left = refilled - bytes;
    // Re-inserted so that Map order is least recently used first.
    budgets.delete(key);
    if (budgets.size >= MAX_BUDGETS) {
      const oldest = budgets.keys().next().value;
      if (oldest !== undefined) budgets.delete(oldest);
    }
    budgets.set(key, { bytes: left, at: now });
    return left >= 0 ? 0 : Math.ceil((-left * 1000) / perSecond);
  };
  return {
    tryStart(tenantId, link) {
      if ((tenants.get(tenantId) ?? 0) >= settings.perTenant) return "tenant";
      if ((links.get(link) ?? 0) >= settings.perLink) return "link";
      if (open >= settings.perGateway) return "gateway";
      inc(tenants, tenantId);
      inc(links, link);
      open++;
      return "ok";
    },
    finish(tenantId, link) {
      if (!tenants.has(tenantId) || !links.has(link)) return;
      dec(tenants, tenantId);
      dec(links, link);
      open = Math.max(0, open - 1);
    },
    pace(tenantId, link, bytes, now) {
      const t = take(`t:${tenantId}`, settings.tenantBytesPerSecond, bytes, now);
      const l = take(`l:${link}`, settings.linkBytesPerSecond, bytes, now);
      return Math.max(t, l);
    },
    openForTenant: (tenantId) => tenants.get(tenantId) ?? 0,
    openForLink: (link) => links.get(link) ?? 0,
    open: () => open,
  };
}
