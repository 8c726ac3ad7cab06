// ipvsadm output (-Ln, -Ln --stats, -Ln --rate, -Lnc, and the FNAT/dsnat build's -G local
// addresses) and /proc/net/ip_vs. The kernel's own table prints hex addresses and ports.
import ipaddr from 'ipaddr.js';

export interface IpvsCounters {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
  /** a value printed with a K/M/G/T suffix is a lower bound, not exact */
  approximate: boolean;
}

export interface IpvsRealServer {
  address: string;
  port: number;
  /** Masq (NAT), Route (DR), Tunnel, Local, FullNat, SNAT */
  forward?: string;
  weight?: number;
  activeConn?: number;
  inActConn?: number;
  stats?: IpvsCounters;
  raw: string;
}

export interface IpvsService {
  /** "TCP 203.0.113.10:443", "UDP [2001:db8::10]:53", "FWM 1", "FWM 1 IPv6" */
  key: string;
  protocol: string;
  family: 'inet' | 'inet6';
  address?: string;
  port?: number;
  fwmark?: number;
  scheduler?: string;
  /** persistence timeout, seconds */
  persistent?: number;
  netmask?: string;
  flags: string[];
  stats?: IpvsCounters;
  realServers: IpvsRealServer[];
  raw: string;
}

export interface IpvsTable {
  version?: string;
  size?: number;
  services: IpvsService[];
}

export class IpvsParseError extends Error {}

const SUFFIX: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** ipvsadm prints counters past 10^8 as "123K", "4567M"...: (value, approximate). */
export function parseLargeNumber(s: string): { value: number; approximate: boolean } {
  const m = /^(\d+)([KMGT]?)$/.exec(s.trim());
  if (!m) throw new IpvsParseError(`not a counter: ${JSON.stringify(s)}`);
  const unit = m[2] ? SUFFIX[m[2]]! : 1;
  return { value: Number(m[1]) * unit, approximate: m[2] !== '' };
}

function counters(words: string[]): IpvsCounters {
  if (words.length < 5) throw new IpvsParseError(`expected 5 counters, got ${words.length}`);
  const [c, ip, op, ib, ob] = words.slice(0, 5).map(parseLargeNumber) as [
    ReturnType<typeof parseLargeNumber>,
    ReturnType<typeof parseLargeNumber>,
    ReturnType<typeof parseLargeNumber>,
    ReturnType<typeof parseLargeNumber>,
    ReturnType<typeof parseLargeNumber>,
  ];
  return {
    conns: c.value,
    inPkts: ip.value,
    outPkts: op.value,
    inBytes: ib.value,
    outBytes: ob.value,
    approximate: [c, ip, op, ib, ob].some((x) => x.approximate),
  };
}

/** "10.0.0.11:443" or "[2001:db8::11]:443" -> address (canonical) and port */
export function splitAddrPort(s: string): { address: string; port: number; family: 'inet' | 'inet6' } {
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(s);
  if (v6) return { address: ipaddr.parse(v6[1]!).toString(), port: Number(v6[2]), family: 'inet6' };
  const v4 = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(s);
  if (v4) return { address: v4[1]!, port: Number(v4[2]), family: 'inet' };
  throw new IpvsParseError(`not ADDRESS:PORT: ${JSON.stringify(s)}`);
}

export function serviceKey(s: Pick<IpvsService, 'protocol' | 'family' | 'address' | 'port' | 'fwmark'>): string {
  if (s.fwmark !== undefined) return `FWM ${s.fwmark}${s.family === 'inet6' ? ' IPv6' : ''}`;
  const host = s.family === 'inet6' ? `[${s.address}]` : s.address;
  return `${s.protocol} ${host}:${s.port}`;
}

/** A service head line: "TCP  203.0.113.10:443 wlc persistent 300", "FWM  1 IPv6 rr". Returns the
 *  service and the words after the address (scheduler and flags, or counters). */
function serviceHead(line: string): { svc: IpvsService; rest: string[] } | undefined {
  const words = line.trim().split(/\s+/);
  const proto = words[0];
  if (!proto || !/^(TCP|UDP|SCTP|FWM|ICMP|IP)$/.test(proto)) return undefined;
  if (proto === 'FWM') {
    const mark = Number(words[1]);
    if (!Number.isInteger(mark)) throw new IpvsParseError(`bad firewall mark in ${JSON.stringify(line)}`);
    const v6 = words[2] === 'IPv6';
    const svc: IpvsService = { key: '', protocol: 'FWM', family: v6 ? 'inet6' : 'inet', fwmark: mark, flags: [], realServers: [], raw: line };
    svc.key = serviceKey(svc);
    return { svc, rest: words.slice(v6 ? 3 : 2) };
  }
  const ap = splitAddrPort(words[1] ?? '');
  const svc: IpvsService = { key: '', protocol: proto, family: ap.family, address: ap.address, port: ap.port, flags: [], realServers: [], raw: line };
  svc.key = serviceKey(svc);
  return { svc, rest: words.slice(2) };
}

function schedulerAndFlags(svc: IpvsService, rest: string[]): void {
  svc.scheduler = rest[0];
  for (let i = 1; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === 'persistent') svc.persistent = Number(rest[++i]);
    else if (w === 'mask') svc.netmask = rest[++i];
    else svc.flags.push(w);
  }
}

type Mode = 'list' | 'stats' | 'rate';

function parseListing(text: string, mode: Mode): IpvsTable {
  const table: IpvsTable = { services: [] };
  let current: IpvsService | undefined;
  let sawHeader = false;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    const ver = /^IP Virtual Server version (\S+) \(size=(\d+)\)/.exec(line);
    if (ver) {
      table.version = ver[1];
      table.size = Number(ver[2]);
      continue;
    }
    if (/^Prot LocalAddress:Port/.test(line) || /^\s+-> RemoteAddress:Port/.test(line)) {
      sawHeader = true;
      continue;
    }
    const dest = /^\s+->\s+(\S+)\s*(.*)$/.exec(line);
    if (dest) {
      if (!current) throw new IpvsParseError(`real server before any service: ${JSON.stringify(line)}`);
      const ap = splitAddrPort(dest[1]!);
      const cols = dest[2]!.trim().split(/\s+/).filter(Boolean);
      const rs: IpvsRealServer = { address: ap.address, port: ap.port, raw: line };
      if (mode === 'list') {
        if (cols.length < 4) throw new IpvsParseError(`short real-server line: ${JSON.stringify(line)}`);
        rs.forward = cols[0];
        rs.weight = Number(cols[1]);
        rs.activeConn = Number(cols[2]);
        rs.inActConn = Number(cols[3]);
        if ([rs.weight, rs.activeConn, rs.inActConn].some((n) => !Number.isFinite(n))) throw new IpvsParseError(`bad numbers: ${JSON.stringify(line)}`);
      } else {
        rs.stats = counters(cols);
      }
      current.realServers.push(rs);
      continue;
    }
    const head = serviceHead(line);
    if (!head) throw new IpvsParseError(`unrecognised line: ${JSON.stringify(line)}`);
    current = head.svc;
    if (mode === 'list') schedulerAndFlags(current, head.rest);
    else {
      // --rate may print "bps NM" after the name on some builds; counters are the last five words
      current.stats = counters(head.rest.slice(-5));
    }
    table.services.push(current);
  }
  if (!sawHeader && table.version === undefined) throw new IpvsParseError('no ipvsadm header');
  return table;
}

/** `ipvsadm -Ln` */
export const parseIpvsList = (text: string) => parseListing(text, 'list');
/** `ipvsadm -Ln --stats`: counters are Conns InPkts OutPkts InBytes OutBytes */
export const parseIpvsStats = (text: string) => parseListing(text, 'stats');
/** `ipvsadm -Ln --rate`: the same five columns hold CPS InPPS OutPPS InBPS OutBPS */
export const parseIpvsRate = (text: string) => parseListing(text, 'rate');

/** Stats merged into the -Ln listing by service key and real server. */
export function mergeStats(list: IpvsTable, stats: IpvsTable | undefined): IpvsTable {
  if (!stats) return list;
  const byKey = new Map(stats.services.map((s) => [s.key, s]));
  return {
    ...list,
    services: list.services.map((s) => {
      const st = byKey.get(s.key);
      if (!st) return s;
      const rsStats = new Map(st.realServers.map((r) => [`${r.address}:${r.port}`, r.stats]));
      return { ...s, stats: st.stats, realServers: s.realServers.map((r) => ({ ...r, stats: rsStats.get(`${r.address}:${r.port}`) ?? r.stats })) };
    }),
  };
}

// ------------------------------------------------------------------ /proc/net/ip_vs

function hexAddrPort(s: string): { address: string; port: number; family: 'inet' | 'inet6' } {
  const v6 = /^\[([0-9a-fA-F:]+)\]:([0-9A-Fa-f]{4})$/.exec(s);
  if (v6) return { address: ipaddr.parse(v6[1]!).toString(), port: parseInt(v6[2]!, 16), family: 'inet6' };
  const v4 = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/.exec(s);
  if (!v4) throw new IpvsParseError(`not HEXADDR:HEXPORT: ${JSON.stringify(s)}`);
  const n = parseInt(v4[1]!, 16);
  return { address: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), port: parseInt(v4[2]!, 16), family: 'inet' };
}

/** /proc/net/ip_vs: the same table as -Ln, addresses in hex, persistence as "persistent T MASK". */
export function parseProcIpVs(text: string): IpvsTable {
  const table: IpvsTable = { services: [] };
  let current: IpvsService | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.trim() === '' || /^Prot |^\s+-> RemoteAddress/.test(line)) continue;
    const ver = /^IP Virtual Server version (\S+) \(size=(\d+)\)/.exec(line);
    if (ver) {
      table.version = ver[1];
      table.size = Number(ver[2]);
      continue;
    }
    const words = line.trim().split(/\s+/);
    if (words[0] === '->') {
      if (!current) throw new IpvsParseError(`real server before any service: ${JSON.stringify(line)}`);
      const ap = hexAddrPort(words[1] ?? '');
      current.realServers.push({
        address: ap.address,
        port: ap.port,
        forward: words[2],
        weight: Number(words[3]),
        activeConn: Number(words[4]),
        inActConn: Number(words[5]),
        raw: line,
      });
      continue;
    }
    let svc: IpvsService;
    let rest: string[];
    if (words[0] === 'FWM') {
      svc = { key: '', protocol: 'FWM', family: 'inet', fwmark: parseInt(words[1] ?? '', 16), flags: [], realServers: [], raw: line };
      if (!Number.isInteger(svc.fwmark)) throw new IpvsParseError(`bad firewall mark: ${JSON.stringify(line)}`);
      rest = words.slice(2);
    } else if (words[0] && /^(TCP|UDP|SCTP)$/.test(words[0])) {
      const ap = hexAddrPort(words[1] ?? '');
      svc = { key: '', protocol: words[0], family: ap.family, address: ap.address, port: ap.port, flags: [], realServers: [], raw: line };
      rest = words.slice(2);
    } else throw new IpvsParseError(`unrecognised line: ${JSON.stringify(line)}`);
    svc.scheduler = rest[0];
    for (let i = 1; i < rest.length; i++) {
      if (rest[i] === 'persistent') {
        svc.persistent = Number(rest[++i]);
        const mask = rest[i + 1];
        if (mask && /^[0-9A-Fa-f]{8}$/.test(mask)) {
          i++;
          const n = parseInt(mask, 16);
          svc.netmask = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
        }
      } else svc.flags.push(rest[i]!);
    }
    svc.key = serviceKey(svc);
    current = svc;
    table.services.push(svc);
  }
  if (table.version === undefined) throw new IpvsParseError('no "IP Virtual Server version" header');
  return table;
}

// ------------------------------------------------------------------ -Lnc

export interface IpvsConnection {
  protocol: string;
  /** seconds left */
  expire: number;
  state: string;
  client: string;
  clientPort: number;
  virtual: string;
  virtualPort: number;
  destination: string;
  destinationPort: number;
  /** a persistence template (state NONE, client port 0): pins the client to the destination */
  template: boolean;
}

/** `ipvsadm -Lnc`: "TCP 14:59  ESTABLISHED 198.51.100.7:52344 203.0.113.10:443 10.0.0.11:443". */
export function parseIpvsConnections(text: string): IpvsConnection[] {
  const out: IpvsConnection[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || /^IPVS connection entries/.test(line) || /^pro\s+expire/.test(line)) continue;
    const w = line.split(/\s+/);
    if (w.length < 6) throw new IpvsParseError(`short connection line: ${JSON.stringify(raw)}`);
    const [proto, expire, state, c, v, d] = w as [string, string, string, string, string, string];
    const em = /^(\d+):(\d{2})$/.exec(expire);
    if (!em) throw new IpvsParseError(`bad expire ${JSON.stringify(expire)}`);
    const cc = splitAddrPort(c);
    const vv = splitAddrPort(v);
    const dd = splitAddrPort(d);
    out.push({
      protocol: proto,
      expire: Number(em[1]) * 60 + Number(em[2]),
      state,
      client: cc.address,
      clientPort: cc.port,
      virtual: vv.address,
      virtualPort: vv.port,
      destination: dd.address,
      destinationPort: dd.port,
      template: state === 'NONE' && cc.port === 0,
    });
  }
  return out;
}

// ------------------------------------------------------------------ -G (FNAT / dsnat local addresses)

export interface LocalAddressPool {
  /** "0.0.0.0:0", "203.0.113.10:80" */
  service: string;
  total: number;
  addresses: Array<{ address: string; conflicts: number; conns: number }>;
}

/** The FNAT/dsnat ipvsadm's `-G` (get-laddr): a service line with the pool size, then one line
 *  per local address in the SNAT_IP column. */
export function parseLocalAddresses(text: string): LocalAddressPool[] {
  const out: LocalAddressPool[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '' || /^VIP:VPORT\s+TOTAL/.test(raw.trim())) continue;
    const w = raw.trim().split(/\s+/);
    if (/^\S/.test(raw)) {
      if (w.length < 2 || !/^\d+$/.test(w[1]!)) throw new IpvsParseError(`bad service line: ${JSON.stringify(raw)}`);
      out.push({ service: w[0]!, total: Number(w[1]), addresses: [] });
      continue;
    }
    const cur = out.at(-1);
    if (!cur || w.length < 3 || !/^\d+\.\d+\.\d+\.\d+$/.test(w[0]!)) throw new IpvsParseError(`bad local address line: ${JSON.stringify(raw)}`);
    cur.addresses.push({ address: w[0]!, conflicts: Number(w[1]), conns: Number(w[2]) });
  }
  return out;
}
