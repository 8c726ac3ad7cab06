// `nft -j list ruleset` -> tables of the same rule model as iptables-save, so the evaluator walks
// nft-native tables (including keepalived's own `table ip keepalived` from vrrp_strict) too.
import type { Action, Chain, Cond, Rule, Table } from './rules.js';
import { protocolNumber } from './rules.js';

export interface NftRuleset {
  version?: string;
  tables: NftTable[];
  problems: string[];
}

export interface NftTable extends Table {
  handle?: number;
  /** named sets: name -> elements as written (addresses, prefixes, ranges) */
  sets: Record<string, string[]>;
}

type Json = unknown;
type Obj = Record<string, Json>;
const isObj = (x: Json): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

export function parseNftJson(text: string, probe = 'nft-ruleset'): NftRuleset {
  const out: NftRuleset = { tables: [], problems: [] };
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    out.problems.push(`not JSON: ${(err as Error).message}`);
    return out;
  }
  const items = isObj(doc) && Array.isArray(doc.nftables) ? doc.nftables : null;
  if (!items) {
    out.problems.push('no "nftables" array');
    return out;
  }
  const byKey = new Map<string, NftTable>();
  const key = (family: Json, name: Json) => `${String(family)} ${String(name)}`;
  const pendingRules: Obj[] = [];
  for (const item of items) {
    if (!isObj(item)) continue;
    if (isObj(item.metainfo) && typeof item.metainfo.version === 'string') out.version = item.metainfo.version;
    if (isObj(item.table)) {
      const t = item.table;
      const table: NftTable = { name: String(t.name), family: String(t.family), backend: 'nft', probe, chains: {}, sets: {} };
      if (typeof t.handle === 'number') table.handle = t.handle;
      byKey.set(key(t.family, t.name), table);
      out.tables.push(table);
    } else if (isObj(item.chain)) {
      const c = item.chain;
      const table = byKey.get(key(c.family, c.table));
      if (!table) {
        out.problems.push(`chain ${String(c.name)} of unknown table ${String(c.table)}`);
        continue;
      }
      const chain: Chain = { name: String(c.name), policy: typeof c.policy === 'string' ? c.policy.toUpperCase() : c.hook ? 'ACCEPT' : null, rules: [] };
      if (typeof c.hook === 'string') chain.hook = c.hook;
      if (typeof c.type === 'string') chain.type = c.type;
      if (typeof c.prio === 'number') chain.priority = c.prio;
      table.chains[chain.name] = chain;
    } else if (isObj(item.set) || isObj(item.map)) {
      const s = (item.set ?? item.map) as Obj;
      const table = byKey.get(key(s.family, s.table));
      if (table) table.sets[String(s.name)] = (Array.isArray(s.elem) ? s.elem : []).map(renderValue);
    } else if (isObj(item.rule)) {
      pendingRules.push(item.rule);
    }
  }
  // rules after their sets and chains, whatever order the document lists them in
  for (const r of pendingRules) {
    const table = byKey.get(key(r.family, r.table));
    const chain = table?.chains[String(r.chain)];
    if (!table || !chain) {
      out.problems.push(`rule in unknown chain ${String(r.table)}/${String(r.chain)}`);
      continue;
    }
    chain.rules.push(convertRule(r, table, chain.rules.length + 1));
  }
  return out;
}

function convertRule(r: Obj, table: NftTable, position: number): Rule {
  const conds: Cond[] = [];
  let action: Action = { kind: 'continue', name: 'none' };
  const words: string[] = [];
  let counters: Rule['counters'];
  const exprs = Array.isArray(r.expr) ? r.expr : [];
  for (const e of exprs) {
    if (!isObj(e)) continue;
    const [name, body] = Object.entries(e)[0] ?? ['', null];
    if (name === 'match' && isObj(body)) {
      words.push(renderMatch(body));
      conds.push(...matchConds(body, table));
      continue;
    }
    if (name === 'counter') {
      if (isObj(body)) counters = { packets: Number(body.packets ?? 0), bytes: Number(body.bytes ?? 0) };
      continue;
    }
    const verdict = verdictOf(name, body);
    if (verdict) {
      words.push(verdict.text);
      if (verdict.action) {
        // a statement after a terminal verdict is unreachable; keep the first
        if (action.kind === 'continue') action = verdict.action;
      }
      if (verdict.cond) conds.push(verdict.cond);
      continue;
    }
    words.push(`${name} ${JSON.stringify(body)}`);
    conds.push({ kind: 'unknown', text: `${name} ${JSON.stringify(body)}` });
  }
  const rule: Rule = {
    chain: String(r.chain),
    position,
    text: words.join(' '),
    conds,
    action,
  };
  if (typeof r.handle === 'number') rule.handle = r.handle;
  if (counters) rule.counters = counters;
  return rule;
}

function verdictOf(name: string, body: Json): { text: string; action?: Action; cond?: Cond } | undefined {
  switch (name) {
    case 'accept':
    case 'drop':
    case 'return':
      return { text: name, action: { kind: name } };
    case 'reject':
      return { text: 'reject', action: { kind: 'reject' } };
    case 'notrack':
      return { text: 'notrack', action: { kind: 'notrack' } };
    case 'masquerade':
      return { text: 'masquerade', action: { kind: 'masquerade' } };
    case 'jump':
    case 'goto': {
      const target = isObj(body) ? String(body.target) : '';
      return { text: `${name} ${target}`, action: { kind: name, chain: target } };
    }
    case 'snat':
    case 'dnat': {
      const addr = isObj(body) && body.addr !== undefined ? renderValue(body.addr) : undefined;
      const text = `${name} to ${addr ?? '?'}`;
      if (name === 'snat') return { text, action: addr ? { kind: 'snat', toSource: addr } : { kind: 'snat' } };
      return { text, action: addr ? { kind: 'dnat', toDestination: addr } : { kind: 'dnat' } };
    }
    case 'queue':
    case 'redirect':
    case 'tproxy':
    case 'synproxy':
      return { text: name, action: { kind: 'terminal', name } };
    case 'log':
    case 'mangle':
    case 'ct helper':
    case 'meta':
    case 'quota':
    case 'set':
    case 'xt':
      if (name === 'xt' && isObj(body) && body.type === 'match')
        return { text: `xt match ${String(body.name)}`, cond: { kind: 'unknown', text: `xt match ${String(body.name)}` } };
      if (name === 'xt' && isObj(body)) return { text: `xt target ${String(body.name)}`, action: { kind: 'terminal', name: String(body.name) } };
      return { text: name, action: { kind: 'continue', name } };
    case 'limit':
      return { text: 'limit', cond: { kind: 'unknown', text: `limit ${JSON.stringify(body)}` } };
    default:
      return undefined;
  }
}

function renderLeft(left: Json): string {
  if (isObj(left)) {
    if (isObj(left.payload)) return `${String(left.payload.protocol)} ${String(left.payload.field)}`;
    if (isObj(left.meta)) {
      const k = String(left.meta.key);
      return ['iifname', 'oifname', 'iif', 'oif'].includes(k) ? k : `meta ${k}`;
    }
    if (isObj(left.ct)) return `ct ${String(left.ct.key)}`;
  }
  return JSON.stringify(left);
}

export function renderValue(v: Json): string {
  if (typeof v === 'string') return v.startsWith('@') ? v : /[\s*]/.test(v) ? `"${v}"` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(renderValue).join(',');
  if (isObj(v)) {
    if (isObj(v.prefix)) return `${String(v.prefix.addr)}/${String(v.prefix.len)}`;
    if (Array.isArray(v.range)) return `${renderValue(v.range[0])}-${renderValue(v.range[1])}`;
    if (Array.isArray(v.set)) return `{ ${v.set.map(renderValue).join(', ')} }`;
    if (isObj(v.elem)) return renderValue(v.elem.val);
  }
  return JSON.stringify(v);
}

function renderMatch(m: Obj): string {
  const op = String(m.op ?? '==');
  return `${renderLeft(m.left)} ${op === '==' || op === 'in' ? '' : `${op} `}${renderValue(m.right)}`;
}

/** The plain values a right-hand side stands for (set members resolved); undefined when not plain. */
function values(right: Json, table: NftTable): string[] | undefined {
  if (typeof right === 'string') {
    if (right.startsWith('@')) return table.sets[right.slice(1)];
    return [right];
  }
  if (typeof right === 'number') return [String(right)];
  if (Array.isArray(right)) return right.map(renderValue);
  if (isObj(right)) {
    if (isObj(right.prefix)) return [renderValue(right)];
    if (Array.isArray(right.set)) return right.set.map(renderValue);
  }
  return undefined;
}

const L4 = new Set(['tcp', 'udp', 'sctp', 'udplite', 'icmp', 'dccp']);

function matchConds(m: Obj, table: NftTable): Cond[] {
  const op = String(m.op ?? '==');
  const neg = op === '!=';
  const text = renderMatch(m);
  const unknown: Cond = { kind: 'unknown', text };
  if (op !== '==' && op !== '!=' && op !== 'in') return [unknown];
  const vals = values(m.right, table);
  const left = m.left;
  if (!isObj(left)) return [unknown];
  if (isObj(left.payload)) {
    const proto = String(left.payload.protocol);
    const field = String(left.payload.field);
    // `ip ...` matches only IPv4 packets and `ip6 ...` only IPv6 ones (in inet tables both arrive)
    const fam: Cond[] = proto === 'ip' || proto === 'ip6' ? [{ kind: 'family', family: proto, neg: false }] : [];
    if ((proto === 'ip' || proto === 'ip6') && (field === 'saddr' || field === 'daddr')) {
      if (!vals || vals.some((v) => v.includes('-'))) return [...fam, unknown];
      return [...fam, { kind: 'addr', dir: field === 'saddr' ? 'src' : 'dst', cidrs: vals, neg }];
    }
    if ((proto === 'ip' && field === 'protocol') || (proto === 'ip6' && field === 'nexthdr')) return [...fam, ...protoConds(vals, neg, text)];
    // "tcp dport 22" carries an implicit "meta l4proto tcp"
    if (L4.has(proto)) return [{ kind: 'proto', proto: protocolNumber(proto) ?? -1, name: proto, neg: false }, unknown];
    return [unknown];
  }
  if (isObj(left.meta)) {
    const k = String(left.meta.key);
    if (k === 'l4proto' || k === 'protocol') return k === 'l4proto' ? protoConds(vals, neg, text) : [unknown];
    if ((k === 'iifname' || k === 'oifname') && vals?.length === 1) {
      return [{ kind: 'iface', dir: k === 'iifname' ? 'in' : 'out', name: vals[0]!.replace(/^"|"$/g, ''), neg }];
    }
    if (k === 'nfproto' && vals?.length === 1 && (vals[0] === 'ipv4' || vals[0] === 'ipv6'))
      return [{ kind: 'family', family: vals[0] === 'ipv4' ? 'ip' : 'ip6', neg }];
    return [unknown];
  }
  if (isObj(left.ct) && left.ct.key === 'state' && vals) {
    return [{ kind: 'state', states: vals.flatMap((v) => v.split(',')).map((s) => s.toUpperCase()), neg }];
  }
  return [unknown];
}

function protoConds(vals: string[] | undefined, neg: boolean, text: string): Cond[] {
  if (!vals || vals.length !== 1) return [{ kind: 'unknown', text }];
  const num = protocolNumber(vals[0]!);
  return num === undefined ? [{ kind: 'unknown', text }] : [{ kind: 'proto', proto: num, name: vals[0]!, neg }];
}
