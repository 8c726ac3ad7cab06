// conntrack entries as `conntrack -L/-G/-D` print them and as /proc/net/nf_conntrack holds them
// (which adds "ipv4 2" in front and zone=), tolerant of fields it does not know; and `conntrack -S`.

export interface Tuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** any other key=value of the tuple (type=, code=, id= for icmp) */
  extra: Record<string, string>;
}

export interface ConntrackEntry {
  /** the line as read */
  line: string;
  l3?: string;
  /** tcp, udp, icmp, or "unknown" (VRRP has no helper) */
  l4: string;
  proto: number;
  /** seconds left */
  timeout?: number;
  /** TCP state (ESTABLISHED...) when present */
  state?: string;
  original: Tuple;
  reply?: Tuple;
  /** [UNREPLIED], [ASSURED], [OFFLOAD]... */
  flags: string[];
  /** mark=, zone=, use=, secctx=... */
  fields: Record<string, string>;
}

const TUPLE_KEYS = new Set(['src', 'dst', 'sport', 'dport', 'type', 'code', 'id']);

/** One conntrack line; undefined when it is not one (the stderr summary, blank lines, noise). */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length < 4) return undefined;
  let i = 0;
  let l3: string | undefined;
  if (/^ipv[46]$/.test(words[0]!) && /^\d+$/.test(words[1] ?? '')) {
    l3 = words[0];
    i = 2;
  }
  const l4 = words[i];
  const proto = Number(words[i + 1]);
  if (!l4 || !/^[a-z0-9-]+$/i.test(l4) || !Number.isInteger(proto)) return undefined;
  i += 2;
  const entry: ConntrackEntry = { line: line.trimEnd(), l4, proto, original: { src: '', dst: '', extra: {} }, flags: [], fields: {} };
  if (l3) entry.l3 = l3;
  if (/^\d+$/.test(words[i] ?? '')) entry.timeout = Number(words[i++]);
  if (/^[A-Z_]+$/.test(words[i] ?? '')) entry.state = words[i++];
  let tuple: Tuple | undefined;
  let tuples = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w.startsWith('[') && w.endsWith(']')) {
      entry.flags.push(w.slice(1, -1));
      continue;
    }
    const eq = w.indexOf('=');
    if (eq <= 0) continue;
    const k = w.slice(0, eq);
    const v = w.slice(eq + 1);
    if (k === 'src') {
      // each "src=" opens a tuple: the first is the original direction, the second the reply
      tuples++;
      tuple = { src: v, dst: '', extra: {} };
      if (tuples === 1) entry.original = tuple;
      else if (tuples === 2) entry.reply = tuple;
      continue;
    }
    if (tuple && tuples <= 2 && TUPLE_KEYS.has(k)) {
      if (k === 'dst') tuple.dst = v;
      else if (k === 'sport' || k === 'dport') tuple[k] = Number(v);
      else tuple.extra[k] = v;
      continue;
    }
    entry.fields[k] = v;
  }
  if (!entry.original.src || !entry.original.dst) return undefined;
  return entry;
}

export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const e = parseConntrackLine(line);
    if (e) out.push(e);
  }
  return out;
}

/** The advert's source or destination is rewritten: the reply tuple does not mirror the original. */
export function isNated(e: ConntrackEntry): boolean {
  if (!e.reply) return false;
  return e.reply.dst !== e.original.src || e.reply.src !== e.original.dst;
}

/** `conntrack -S`: per-CPU counters, summed. */
export function parseConntrackStats(text: string): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const line of text.split('\n')) {
    for (const m of line.matchAll(/([a-z_]+)=(\d+)/g)) {
      if (m[1] === 'cpu') continue;
      sum[m[1]!] = (sum[m[1]!] ?? 0) + Number(m[2]);
    }
  }
  return sum;
}

/** "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown." -> 1 */
export function conntrackSummaryCount(stderr: string): number | undefined {
  const m = /(\d+) flow entries have been/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}
