// VRRP adverts as `tcpdump -nn -l -v [-e] -i IF|any 'ip proto 112'` prints them (tcpdump 4.9x).
// The packet socket sees adverts before netfilter, so what is here reached (or left) the host.
//
//   02:40:43.509200 IP (tos 0xc0, ttl 255, id 1, ..., proto VRRP (112), length 44)
//       10.9.0.1 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 150, authtype simple, intvl 1s, length 24, addrs(2): 10.9.0.254,10.9.0.253 auth "secret1"
//   02:42:22.576986 eth0  Out IP (tos ...)                       (-i any: interface and direction)
//       10.9.0.2 > 10.9.0.1: VRRPv3, Advertisement, vrid 52, prio 100, intvl 100cs, length 12, addrs: 10.9.0.250

export interface VrrpAdvert {
  /** "HH:MM:SS.ffffff" as tcpdump printed it */
  time: string;
  /** seconds since midnight, for rates */
  seconds: number;
  /** interface, with -i any */
  iface?: string;
  /** with -i any: Out = sent by this host, In/M/B = received */
  direction?: 'in' | 'out';
  /** source MAC, with -e */
  srcMac?: string;
  ttl?: number;
  src: string;
  dst: string;
  multicast: boolean;
  version: 2 | 3;
  type: string;
  vrid: number;
  priority: number;
  /** seconds (v3 prints centiseconds: converted) */
  advertInt: number;
  /** v2 only: none, simple, ah, or the number tcpdump printed */
  authType?: string;
  /** v2 simple auth: the password as sent (tcpdump prints it) */
  authPass?: string;
  vips: string[];
  /** the lines it came from */
  raw: string;
}

export interface CaptureStats {
  captured?: number;
  receivedByFilter?: number;
  droppedByKernel?: number;
}

export interface AdvertCapture {
  adverts: VrrpAdvert[];
  stats: CaptureStats;
  /** the interface tcpdump listened on ("any", "eth0") */
  listening?: string;
  /** lines that looked like VRRP but could not be read */
  unparsed: string[];
}

// header: time, optional "-i any" fields, optional "-e" link fields, then "IP (" or "(tos" (with -e)
const HEADER_RE =
  /^(\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)\s+(?:(\S+)\s+(In|Out|M|B|P)\s+)?(?:ifindex \d+\s+)?(?:([0-9a-f]{2}(?::[0-9a-f]{2}){5})(?:\s+>\s+[0-9a-f:]{17})?,?\s+ethertype IPv4 \(0x0800\), length \d+:\s+|IP\s+)\(([^)]*)/i;
// body: "SRC > DST: VRRPvN, Advertisement, vrid N, prio N, ..."
const BODY_RE = /^\s*([0-9a-fA-F.:]+) > ([0-9a-fA-F.:]+): VRRPv([23]), ([A-Za-z]+)(?:, (.*))?$/;

export function parseAdverts(text: string): AdvertCapture {
  const out: AdvertCapture = { adverts: [], stats: {}, unparsed: [] };
  const lines = text.split('\n');
  let header: { line: string; m: RegExpExecArray } | undefined;
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    const listen = /^tcpdump: listening on ([^\s,]+)/.exec(line);
    if (listen) out.listening = listen[1]!;
    const stat = /^(\d+) packets? (captured|received by filter|dropped by kernel)/.exec(line);
    if (stat) {
      const n = Number(stat[1]);
      if (stat[2] === 'captured') out.stats.captured = n;
      else if (stat[2] === 'received by filter') out.stats.receivedByFilter = n;
      else out.stats.droppedByKernel = n;
      continue;
    }
    const h = HEADER_RE.exec(line);
    if (h) {
      header = { line, m: h };
      // -v without a line break (some builds print the body on the same line after "length N) ")
      const rest = line.slice(line.indexOf(')', h.index + h[0].length) + 1);
      if (BODY_RE.test(rest)) {
        const adv = advertFrom(header, rest);
        if (adv) out.adverts.push(adv);
        else out.unparsed.push(line);
        header = undefined;
      }
      continue;
    }
    if (header && BODY_RE.test(line)) {
      const adv = advertFrom(header, line);
      if (adv) out.adverts.push(adv);
      else out.unparsed.push(line);
      header = undefined;
      continue;
    }
    if (/VRRP/.test(line) && !/^tcpdump:/.test(line)) out.unparsed.push(line);
  }
  return out;
}

function advertFrom(header: { line: string; m: RegExpExecArray }, body: string): VrrpAdvert | undefined {
  const b = BODY_RE.exec(body);
  if (!b) return undefined;
  const [, hh, mm, ss, iface, dir, mac, ipFields] = header.m;
  const fields = parseFields(b[5] ?? '');
  const vrid = num(fields.get('vrid'));
  const prio = num(fields.get('prio'));
  if (vrid === undefined || prio === undefined) return undefined;
  const version = Number(b[3]) as 2 | 3;
  const intvl = fields.get('intvl') ?? '';
  // v2: "1s"; v3: centiseconds "100cs"
  const advertInt = /cs$/.test(intvl) ? Number(intvl.slice(0, -2)) / 100 : Number(intvl.replace(/s$/, ''));
  const ttl = /ttl (\d+)/.exec(ipFields ?? '')?.[1];
  const dst = b[2]!;
  return {
    time: `${hh}:${mm}:${ss}`,
    seconds: Number(hh) * 3600 + Number(mm) * 60 + Number(ss),
    ...(iface ? { iface } : {}),
    ...(dir ? { direction: dir === 'Out' ? ('out' as const) : ('in' as const) } : {}),
    ...(mac ? { srcMac: mac.toLowerCase() } : {}),
    ...(ttl ? { ttl: Number(ttl) } : {}),
    src: b[1]!,
    dst,
    multicast: isMulticast(dst),
    version,
    type: b[4]!,
    vrid,
    priority: prio,
    advertInt: Number.isFinite(advertInt) ? advertInt : 0,
    ...(fields.has('authtype') ? { authType: fields.get('authtype')! } : {}),
    ...(fields.has('auth') ? { authPass: fields.get('auth')! } : {}),
    vips: fields.get('addrs')?.split(',').filter(Boolean) ?? [],
    raw: `${header.line}\n${body}`,
  };
}

/** "vrid 51, prio 150, authtype simple, intvl 1s, length 24, addrs(2): a,b auth "pw"" → map */
function parseFields(s: string): Map<string, string> {
  const m = new Map<string, string>();
  const auth = /\sauth "((?:[^"\\]|\\.)*)"\s*$/.exec(s);
  if (auth) {
    m.set('auth', auth[1]!);
    s = s.slice(0, auth.index);
  }
  const addrs = /addrs(?:\(\d+\))?: (\S+)/.exec(s);
  if (addrs) {
    m.set('addrs', addrs[1]!);
    s = s.slice(0, addrs.index);
  }
  for (const part of s.split(',')) {
    const kv = /^\s*(\S+) (\S+)\s*$/.exec(part);
    if (kv) m.set(kv[1]!, kv[2]!);
  }
  return m;
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  return Number(s);
}

export function isMulticast(address: string): boolean {
  const first = Number(address.split('.')[0]);
  if (address.includes(':')) return /^ff/i.test(address);
  return first >= 224 && first <= 239;
}

// ---------------------------------------------------------------- per-VRID summary

export interface AdvertSource {
  src: string;
  /** every advert seen from it was sent by this host (-i any "Out"), or its MAC is ours */
  local: boolean;
  count: number;
  priorities: number[];
  /** the last priority seen */
  priority: number;
  advertInts: number[];
  authTypes: string[];
  /** VIP lists seen, each sorted and joined with "," */
  vipLists: string[];
  destinations: string[];
  /** adverts per second over the capture (undefined with a single advert) */
  rate?: number;
  /** priority 0 seen: it was leaving MASTER */
  sentPriorityZero: boolean;
  first: VrrpAdvert;
}

export interface VridSummary {
  vrid: number;
  sources: AdvertSource[];
}

export interface SummariseOptions {
  /** MAC addresses of this host's interfaces (to recognise our own adverts without -i any) */
  localMacs?: readonly string[];
  /** addresses of this host */
  localAddresses?: readonly string[];
}

export function summariseAdverts(adverts: readonly VrrpAdvert[], opts: SummariseOptions = {}): VridSummary[] {
  const macs = new Set((opts.localMacs ?? []).map((m) => m.toLowerCase()));
  const addrs = new Set(opts.localAddresses ?? []);
  const byVrid = new Map<number, Map<string, VrrpAdvert[]>>();
  for (const a of adverts) {
    let srcs = byVrid.get(a.vrid);
    if (!srcs) byVrid.set(a.vrid, (srcs = new Map()));
    const list = srcs.get(a.src) ?? [];
    list.push(a);
    srcs.set(a.src, list);
  }
  const out: VridSummary[] = [];
  for (const [vrid, srcs] of [...byVrid].sort((x, y) => x[0] - y[0])) {
    const sources: AdvertSource[] = [];
    for (const [src, list] of srcs) {
      const first = list[0]!;
      const span = list.length > 1 ? list.at(-1)!.seconds - first.seconds : 0;
      const local = list.every(
        (a) =>
          a.direction === 'out' || (a.srcMac !== undefined && macs.has(a.srcMac)) || (a.direction === undefined && a.srcMac === undefined && addrs.has(a.src)),
      );
      sources.push({
        src,
        local,
        count: list.length,
        priorities: uniq(list.map((a) => a.priority)),
        priority: list.at(-1)!.priority,
        advertInts: uniq(list.map((a) => a.advertInt)),
        authTypes: uniq(list.map((a) => a.authType ?? (a.version === 3 ? 'none (v3)' : 'none'))),
        vipLists: uniq(list.map((a) => [...a.vips].sort().join(','))),
        destinations: uniq(list.map((a) => a.dst)),
        ...(span > 0 ? { rate: Math.round(((list.length - 1) / span) * 100) / 100 } : {}),
        sentPriorityZero: list.some((a) => a.priority === 0),
        first,
      });
    }
    out.push({ vrid, sources });
  }
  return out;
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** One line per VRID, for evidence and the wizard: "vrid 51: 10.9.0.1 prio 150 1/s multicast; 10.9.0.2 (this node) prio 100 ..." */
export function describeVrid(s: VridSummary): string {
  const parts = s.sources.map((src) => {
    const bits = [
      `${src.src}${src.local ? ' (this node)' : ''}`,
      `prio ${src.priorities.join('/')}`,
      src.rate !== undefined ? `${src.rate}/s` : `${src.count} advert${src.count === 1 ? '' : 's'}`,
      `int ${src.advertInts.join('/')}s`,
      src.destinations.every(isMulticast) ? 'multicast' : `unicast to ${src.destinations.join(',')}`,
      `auth ${src.authTypes.join('/')}`,
      `VIPs ${src.vipLists.map((l) => l || '-').join(' | ')}`,
    ];
    return bits.join(' ');
  });
  return `vrid ${s.vrid}: ${parts.join('; ')}`;
}
