export interface StreamCapLimits {
  /** Open streams one API key may hold. */
  perKey: number;
  /** Open streams all of a tenant's keys may hold together. */
  perTenant: number;
  /** Open streams of every tenant together: as many as this process's memory holds. */
  perGateway: number;
}

export type CapVerdict = "ok" | "key" | "tenant" | "gateway";

/** Counts open streams per API key and per tenant against their caps. */
export interface StreamCaps {
  /** Counts the stream in when both caps allow it; otherwise says which cap is full and counts nothing. */
  tryOpen(keyPrefix: string, tenantId: string): CapVerdict;
  close(keyPrefix: string, tenantId: string): void;
  openFor(keyPrefix: string): number;
  openForTenant(tenantId: string): number;
  open(): number;
}

export function createStreamCaps(limits: StreamCapLimits): StreamCaps {
  const byKey = new Map<string, number>();
  const byTenant = new Map<string, number>();
  let open = 0;
  const dec = (m: Map<string, number>, k: string): void => {
    const n = (m.get(k) ?? 0) - 1;
    if (n > 0) m.set(k, n);
    else m.delete(k);
  };
  return {
    tryOpen(keyPrefix, tenantId) {
      if ((byKey.get(keyPrefix) ?? 0) >= limits.perKey) return "key";
      if ((byTenant.get(tenantId) ?? 0) >= limits.perTenant) return "tenant";
      if (open >= limits.perGateway) return "gateway";
      open++;
      byKey.set(keyPrefix, (byKey.get(keyPrefix) ?? 0) + 1);
      byTenant.set(tenantId, (byTenant.get(tenantId) ?? 0) + 1);
      return "ok";
    },
    close(keyPrefix, tenantId) {
      open--;
      dec(byKey, keyPrefix);
      dec(byTenant, tenantId);
    },
    openFor: (keyPrefix) => byKey.get(keyPrefix) ?? 0,
    openForTenant: (tenantId) => byTenant.get(tenantId) ?? 0,
    open: () => open,
  };
}
