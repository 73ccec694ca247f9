import { BlockList, isIP } from "node:net";

export type AddressClass =
  | "public"
  | "private"
  | "loopback"
  | "link-local"
  | "cgnat"
  | "multicast"
  | "unspecified"
  | "reserved"
  | "invalid";

// Ranges a server-side request must never reach (OWASP SSRF): RFC 6890 special
// purpose blocks. Cloud metadata endpoints sit inside them (169.254.169.254 in
// link-local, 100.100.100.200 in CGNAT, fd00:ec2::254 in ULA).
const V4: [string, number, AddressClass][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "cgnat"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "reserved"],
  ["192.88.99.0", 24, "reserved"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "reserved"],
  ["198.51.100.0", 24, "reserved"],
  ["203.0.113.0", 24, "reserved"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];
const V6: [string, number, AddressClass][] = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  // IPv4-compatible (deprecated) and IPv4-mapped forms are unwrapped before this
  // table; whatever is left of those blocks is refused outright.
  ["::", 96, "reserved"],
  ["::ffff:0:0", 96, "reserved"],
  ["64:ff9b::", 96, "reserved"],
  ["64:ff9b:1::", 48, "reserved"],
  ["100::", 64, "reserved"],
  ["2001::", 23, "reserved"],
  ["2001:db8::", 32, "reserved"],
  ["2002::", 16, "reserved"],
  ["fc00::", 7, "private"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "private"],
  ["ff00::", 8, "multicast"],
];

// One list per family and class: a BlockList matches IPv4 addresses against
// IPv6 rules such as ::/96 too, which would make every IPv4 address reserved.
const lists4 = build(V4, "ipv4");
const lists6 = build(V6, "ipv6");
function build(table: [string, number, AddressClass][], type: "ipv4" | "ipv6"): Map<AddressClass, BlockList> {
  const out = new Map<AddressClass, BlockList>();
  for (const [net, bits, cls] of table) {
    let b = out.get(cls);
    if (!b) {
      b = new BlockList();
      out.set(cls, b);
    }
    b.addSubnet(net, bits, type);
  }
  return out;
}

/** An IPv4 address hidden in an IPv6 one (::ffff:a.b.c.d or ::a.b.c.d), else the input. */
export function unwrapMappedIpv4(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const bytes = ipv6Bytes(ip);
  if (!bytes) return ip;
  const head = bytes.subarray(0, 10).every((b) => b === 0);
  const ffff = bytes[10] === 0xff && bytes[11] === 0xff;
  const zero = bytes[10] === 0 && bytes[11] === 0;
  const tailNonTrivial =
    bytes.subarray(12).some((b) => b !== 0) && !(bytes[12] === 0 && bytes[13] === 0 && bytes[14] === 0);
  if (head && (ffff || (zero && tailNonTrivial))) return Array.from(bytes.subarray(12)).join(".");
  return ip;
}

/** What kind of address this is, for IPv4 and IPv6 text forms alike. */
export function classifyAddress(raw: string): AddressClass {
  const ip = unwrapMappedIpv4(raw.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
  const family = isIP(ip);
  if (family === 0) return "invalid";
  const type = family === 4 ? "ipv4" : "ipv6";
  for (const [cls, list] of family === 4 ? lists4 : lists6) if (list.check(ip, type)) return cls;
  return "public";
}

function ipv6Bytes(ip: string): Uint8Array | null {
  let s = ip;
  const out = new Uint8Array(16);
  // A trailing dotted quad becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1]) {
    const p = v4[1].split(".").map(Number);
    s = `${s.slice(0, -v4[1].length)}${(((p[0] ?? 0) << 8) | (p[1] ?? 0)).toString(16)}:${(((p[2] ?? 0) << 8) | (p[3] ?? 0)).toString(16)}`;
  }
  const [left = "", right] = s.split("::");
  const l = left === "" ? [] : left.split(":");
  const r = right === undefined || right === "" ? [] : right.split(":");
  const groups = right === undefined ? l : [...l, ...Array(8 - l.length - r.length).fill("0"), ...r];
  if (groups.length !== 8) return null;
  groups.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}
