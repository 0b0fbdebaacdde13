// Which IP addresses a server-side fetch (file import from a URL) may reach. Pure: no DNS,
// no sockets. Embedded IPv4 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) is
// judged as the IPv4 address it reaches, so an IPv6 spelling cannot smuggle 127.0.0.1 past.
import { isIPv4, isIPv6 } from "node:net";

export type AddressKind =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "metadata"
  | "cgnat"
  | "unspecified"
  | "multicast"
  | "reserved";

/** Why each kind is refused, in words for an error message. */
export const KIND_WORDS: Record<Exclude<AddressKind, "public">, string> = {
  loopback: "a loopback address",
  private: "a private-network address",
  "link-local": "a link-local address",
  metadata: "a cloud metadata address",
  cgnat: "a carrier-grade NAT (shared) address",
  unspecified: "an unspecified address",
  multicast: "a multicast or broadcast address",
  reserved: "a reserved or documentation address",
};

type V4Range = [base: number, bits: number, kind: AddressKind];

const v4 = (s: string): number => s.split(".").reduce((n, o) => n * 256 + Number(o), 0);

// Most specific first: 169.254.169.254 is named before the link-local block that holds it.
const V4_RANGES: V4Range[] = [
  [v4("169.254.169.254"), 32, "metadata"],
  [v4("169.254.170.2"), 32, "metadata"], // ECS task metadata
  [v4("100.100.100.200"), 32, "metadata"], // Alibaba Cloud
  [v4("0.0.0.0"), 8, "unspecified"],
  [v4("10.0.0.0"), 8, "private"],
  [v4("100.64.0.0"), 10, "cgnat"],
  [v4("127.0.0.0"), 8, "loopback"],
  [v4("169.254.0.0"), 16, "link-local"],
  [v4("172.16.0.0"), 12, "private"],
  [v4("192.0.0.0"), 24, "reserved"],
  [v4("192.0.2.0"), 24, "reserved"],
  [v4("192.88.99.0"), 24, "reserved"],
  [v4("192.168.0.0"), 16, "private"],
  [v4("198.18.0.0"), 15, "reserved"],
  [v4("198.51.100.0"), 24, "reserved"],
  [v4("203.0.113.0"), 24, "reserved"],
  [v4("224.0.0.0"), 4, "multicast"],
  [v4("240.0.0.0"), 4, "reserved"], // includes 255.255.255.255
];

function classifyV4(n: number): AddressKind {
  for (const [base, bits, kind] of V4_RANGES) {
    const size = 2 ** (32 - bits);
    if (n >= base && n < base + size) return kind;
  }
  return "public";
}

/** 8 groups of 16 bits; undefined when not an IPv6 literal. */
function v6Groups(address: string): number[] | undefined {
  let s = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!isIPv6(s)) return undefined;
  // A dotted IPv4 tail becomes two groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail) {
    const n = v4(tail[1]);
    s = s.slice(0, -tail[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, rest] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const r = rest ? rest.split(":") : [];
  const zeros = rest === undefined ? [] : new Array(8 - h.length - r.length).fill("0");
  return [...h, ...zeros, ...r].map((g) => parseInt(g, 16));
}

function classifyV6(g: number[]): AddressKind {
  const embedded = (hi: number, lo: number) => classifyV4(hi * 65536 + lo);
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return "unspecified";
  if (zeroUpTo(7) && g[7] === 1) return "loopback";
  if (zeroUpTo(5) && g[5] === 0xffff) return embedded(g[6], g[7]); // ::ffff:a.b.c.d
  if (zeroUpTo(6)) return embedded(g[6], g[7]); // deprecated IPv4-compatible ::a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embedded(g[6], g[7]); // NAT64
  if (g[0] === 0x2002) return embedded(g[1], g[2]); // 6to4
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return "metadata"; // AWS IMDS over IPv6
  if ((g[0] & 0xfe00) === 0xfc00) return "private"; // fc00::/7 unique local
  if ((g[0] & 0xffc0) === 0xfe80) return "link-local"; // fe80::/10
  if ((g[0] & 0xffc0) === 0xfec0) return "private"; // fec0::/10 site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return "multicast";
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "reserved"; // documentation
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return "reserved"; // discard 100::/64
  return "public";
}

/** The kind of an IPv4 or IPv6 literal (brackets and zone ids allowed); undefined when it is not one. */
export function classifyAddress(address: string): AddressKind | undefined {
  if (isIPv4(address)) return classifyV4(v4(address));
  const g = v6Groups(address);
  return g && classifyV6(g);
}
