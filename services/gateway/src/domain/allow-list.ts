import { BlockList, isIP } from "node:net";

export interface AllowList {
  /** True when the URL host name was listed (then http and any address are allowed). */
  hasHost(hostname: string): boolean;
  /** True when the address falls in a listed address or CIDR. */
  hasAddress(ip: string): boolean;
}

/**
 * Parses WEBHOOK_ALLOW_HOSTS: comma-separated host names, addresses and CIDRs
 * that webhooks may reach even though they are private or plain http. For
 * local development and tests only.
 */
export function parseAllowList(spec: string): AllowList {
  const hosts = new Set<string>();
  const nets = new BlockList();
  for (const item of spec.split(",").map((s) => s.trim().toLowerCase())) {
    if (item === "") continue;
    const [addr = "", bits] = item.replace(/^\[|\]$/g, "").split("/");
    const family = isIP(addr);
    if (family === 0) {
      if (bits !== undefined) throw new Error(`"${item}" is not a CIDR`);
      hosts.add(item);
      continue;
    }
    const type = family === 4 ? "ipv4" : "ipv6";
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`"${item}" has a bad prefix length`);
    nets.addSubnet(addr, prefix, type);
    hosts.add(addr);
  }
  return {
    hasHost: (h) => hosts.has(h.replace(/^\[|\]$/g, "").toLowerCase()),
    hasAddress: (ip) => {
      const family = isIP(ip);
      return family !== 0 && nets.check(ip, family === 4 ? "ipv4" : "ipv6");
    },
  };
}
