// The rule model the evaluator walks, shared by the iptables-save and nft parsers: a rule is a
// list of conditions (each evaluates to true / false / unknown for a packet) and one action.
import ipaddr from 'ipaddr.js';

/** Where a table came from: iptables with the nf_tables or legacy backend, or a native nft table. */
export type Backend = 'nf_tables' | 'legacy' | 'nft';

export type Cond =
  | { kind: 'addr'; dir: 'src' | 'dst'; cidrs: string[]; neg: boolean }
  | { kind: 'range'; dir: 'src' | 'dst'; from: string; to: string; neg: boolean }
  | { kind: 'proto'; proto: number; name: string; neg: boolean }
  | { kind: 'iface'; dir: 'in' | 'out'; name: string; neg: boolean }
  | { kind: 'state'; states: string[]; neg: boolean }
  | { kind: 'addrtype'; dir: 'src' | 'dst'; types: string[]; neg: boolean }
  /** the packet's address family (nft `ip ...` / `ip6 ...` matches, `meta nfproto`) */
  | { kind: 'family'; family: 'ip' | 'ip6'; neg: boolean }
  /** matches every packet (comments, counters) */
  | { kind: 'true' }
  /** a match the evaluator does not model: its result is unknown */
  | { kind: 'unknown'; text: string };

export type Action =
  | { kind: 'accept' | 'drop' | 'reject' | 'return' | 'masquerade' | 'notrack' }
  | { kind: 'jump' | 'goto'; chain: string }
  | { kind: 'snat'; toSource?: string }
  | { kind: 'dnat'; toDestination?: string }
  /** a target that ends the chain but the evaluator does not model (NFQUEUE, REDIRECT...) */
  | { kind: 'terminal'; name: string }
  /** LOG, MARK, counters: the packet goes on to the next rule */
  | { kind: 'continue'; name: string };

export interface Rule {
  /** the chain the rule is in */
  chain: string;
  /** 1-based position in its chain (what `iptables -R/-I CHAIN N` takes) */
  position: number;
  /** the rule as the tool prints it, without counters (what evidence quotes) */
  text: string;
  conds: Cond[];
  action: Action;
  counters?: { packets: number; bytes: number };
  /** nft rule handle */
  handle?: number;
}

export interface Chain {
  name: string;
  /** built-in chain policy (ACCEPT/DROP); null for user chains */
  policy: string | null;
  /** nft base chains: hook, type and priority */
  hook?: string;
  type?: string;
  priority?: number;
  rules: Rule[];
}

export interface Table {
  /** nat, filter, raw, mangle, or the nft table name */
  name: string;
  /** ip, ip6, inet... (iptables tables are ip) */
  family: string;
  backend: Backend;
  /** the probe the table was read from */
  probe: string;
  chains: Record<string, Chain>;
}

export const PROTOCOLS: Record<string, number> = {
  all: 0,
  ip: 0,
  icmp: 1,
  igmp: 2,
  ipencap: 4,
  ipip: 4,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  'ipv6-icmp': 58,
  ospf: 89,
  pim: 103,
  vrrp: 112,
  carp: 112,
  sctp: 132,
  udplite: 136,
};

/** Protocol number from a name or number; undefined when unknown. */
export function protocolNumber(p: string | number): number | undefined {
  if (typeof p === 'number') return p;
  const lower = p.toLowerCase();
  if (/^\d+$/.test(lower)) return Number(lower);
  return PROTOCOLS[lower];
}

/** "10.0.0.0/8", "10.0.0.1", "10.0.0.0/255.0.0.0" -> [address, prefix]; undefined when not IPv4/6. */
export function parseCidr(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    const slash = text.indexOf('/');
    if (slash < 0) {
      const a = ipaddr.parse(text);
      return [a, a.kind() === 'ipv4' ? 32 : 128];
    }
    const addr = ipaddr.parse(text.slice(0, slash));
    const mask = text.slice(slash + 1);
    if (/^\d+$/.test(mask)) return [addr, Number(mask)];
    const prefix = ipaddr.IPv4.parse(mask).prefixLengthFromSubnetMask();
    return prefix === null ? undefined : [addr, prefix];
  } catch {
    return undefined;
  }
}

const cidrCache = new Map<string, { v4: boolean; base: number; mask: number } | null>();

/** An IPv4 CIDR as numbers (cached: the evaluator asks the same CIDRs for every packet). */
function v4Range(cidr: string): { v4: boolean; base: number; mask: number } | null {
  let r = cidrCache.get(cidr);
  if (r !== undefined) return r;
  const parsed = parseCidr(cidr);
  if (!parsed) r = null;
  else if (parsed[0].kind() !== 'ipv4') r = { v4: false, base: 0, mask: 0 };
  else {
    const mask = parsed[1] === 0 ? 0 : (~0 << (32 - parsed[1])) >>> 0;
    r = { v4: true, base: (ipv4ToNumber(parsed[0].toString())! & mask) >>> 0, mask };
  }
  if (cidrCache.size > 100_000) cidrCache.clear();
  cidrCache.set(cidr, r);
  return r;
}

/** Whether address lies in cidr; undefined when either cannot be read or the families differ. */
export function inCidr(address: string, cidr: string): boolean | undefined {
  const range = v4Range(cidr);
  if (!range) return undefined;
  const n = ipv4ToNumber(address);
  if (n !== undefined) return range.v4 ? (n & range.mask) >>> 0 === range.base : false;
  const parsed = parseCidr(cidr);
  if (!parsed || !ipaddr.isValid(address)) return undefined;
  const a = ipaddr.parse(address);
  if (a.kind() !== parsed[0].kind()) return false;
  return (a as ipaddr.IPv6).match(parsed as [ipaddr.IPv6, number]);
}

/** Whether every address of inner lies in outer (both CIDRs). */
export function cidrWithin(inner: string, outer: string): boolean {
  const i = parseCidr(inner);
  const o = parseCidr(outer);
  if (!i || !o || i[0].kind() !== o[0].kind()) return false;
  return i[1] >= o[1] && (i[0] as ipaddr.IPv4).match(o as [ipaddr.IPv4, number]);
}

/** Whether two CIDRs share any address. */
export function cidrOverlaps(a: string, b: string): boolean {
  return cidrWithin(a, b) || cidrWithin(b, a);
}

/** The first usable host of a CIDR (the network address itself for /31 and /32). */
export function firstHost(cidr: string): string | undefined {
  const r = parseCidr(cidr);
  if (!r || r[0].kind() !== 'ipv4') return undefined;
  const bytes = (r[0] as ipaddr.IPv4).toByteArray();
  let n = ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
  const prefix = r[1];
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  n = (n & mask) >>> 0;
  if (prefix < 31) n += 1;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function ipv4ToNumber(address: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m) return undefined;
  const b = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (b.some((x) => x > 255)) return undefined;
  return ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
}

/** Every chain of every table reachable from a base chain (for "is there a rule anywhere" questions). */
export function allRules(table: Table): Rule[] {
  return Object.values(table.chains).flatMap((c) => c.rules);
}

export function isSnatAction(a: Action): boolean {
  return a.kind === 'snat' || a.kind === 'masquerade';
}
