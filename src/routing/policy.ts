// Policy-routing analysis: rules into empty tables, tables rt_tables does not name, and runtime
// rules/routes that nothing recreates at boot. Pure functions over parsed data.
import ipaddr from 'ipaddr.js';
import { BUILTIN_TABLES, type IpRoute, type IpRule } from './iproute.js';
import type { PersistedPolicy, PersistedRoute, PersistedRule } from './persist.js';
import type { RtTables, TableNames } from './rt-tables.js';

/** "all", "0.0.0.0/0", "default" -> "0.0.0.0/0"; "10.0.0.11" -> "10.0.0.11/32"; unparsable: as written. */
export function normalisePrefix(p: string | undefined): string {
  if (p === undefined || p === 'all' || p === 'default' || p === 'any') return '0.0.0.0/0';
  try {
    if (p.includes('/')) {
      const [addr, len] = ipaddr.parseCIDR(p);
      return `${addr.toString()}/${len}`;
    }
    const a = ipaddr.parse(p);
    return `${a.toString()}/${a.kind() === 'ipv4' ? 32 : 128}`;
  } catch {
    return p;
  }
}

const normaliseMark = (m: string | undefined) => (m === undefined ? undefined : /^(0x[0-9a-f]+|\d+)/i.test(m) ? String(Number(m.split('/')[0])) : m);

export const isBuiltinRule = (r: IpRule) => r.table !== undefined && BUILTIN_TABLES.has(r.table) && [0, 32766, 32767].includes(r.priority);

/** A rule that sends lookups into a table of its own (not local/main/default). */
export const isPolicyRule = (r: IpRule) => r.table !== undefined && !BUILTIN_TABLES.has(r.table);

export interface EmptyTableRule {
  rule: IpRule;
  tableId: number | undefined;
}

/** Rules whose table holds no IPv4 route: the lookup falls through, so the policy silently does nothing. */
export function rulesIntoEmptyTables(rules: IpRule[], routes: IpRoute[], names: TableNames): EmptyTableRule[] {
  const filled = new Set<number | string>();
  for (const r of routes) {
    if (r.family !== 'inet') continue;
    filled.add(names.resolve(r.table) ?? r.table);
  }
  return rules
    .filter(isPolicyRule)
    .map((rule) => ({ rule, tableId: names.resolve(rule.table!) }))
    .filter(({ rule, tableId }) => !filled.has(tableId ?? rule.table!));
}

export interface UnnamedTable {
  kind: 'number-without-name' | 'name-without-number';
  table: string;
  /** where it is used: a runtime rule, or a config file line */
  where: string;
  rule?: IpRule;
  file?: string;
  line?: number;
}

/** Runtime rules using a table number rt_tables does not name (ip prints the bare number), and
 *  configuration lines using a table name rt_tables does not define (they fail at boot). */
export function unnamedTables(rules: IpRule[], persisted: PersistedPolicy, names: TableNames, tables: RtTables): UnnamedTable[] {
  const out: UnnamedTable[] = [];
  const seen = new Set<string>();
  for (const rule of rules.filter(isPolicyRule)) {
    const t = rule.table!;
    if (/^\d+$/.test(t) && names.nameOf(Number(t)) === undefined && !seen.has(t)) {
      seen.add(t);
      out.push({ kind: 'number-without-name', table: t, where: `rule ${rule.priority}`, rule });
    }
  }
  for (const p of [...persisted.rules, ...persisted.routes]) {
    const t = p.table;
    if (t === undefined || /^(0x[0-9a-f]+|\d+)$/i.test(t) || names.idOf(t) !== undefined) continue;
    out.push({ kind: 'name-without-number', table: t, where: `${p.file}:${p.line}`, file: p.file, line: p.line });
  }
  for (const prob of tables.problems) {
    if (prob.why === 'a name with no number' || prob.why === 'a number with no name') {
      out.push({
        kind: prob.why === 'a name with no number' ? 'name-without-number' : 'number-without-name',
        table: prob.text.trim(),
        where: `${prob.file}:${prob.line}`,
        file: prob.file,
        line: prob.line,
      });
    }
  }
  return out;
}

function sameTable(a: string | undefined, b: string | undefined, names: TableNames): boolean {
  const ra = a === undefined ? 254 : (names.resolve(a) ?? a);
  const rb = b === undefined ? 254 : (names.resolve(b) ?? b);
  return ra === rb;
}

export function ruleMatches(rule: IpRule, p: PersistedRule, names: TableNames): boolean {
  return (
    sameTable(rule.table, p.table, names) &&
    normalisePrefix(rule.from) === normalisePrefix(p.from) &&
    normalisePrefix(rule.to) === normalisePrefix(p.to) &&
    (rule.iif ?? '') === (p.iif ?? '') &&
    normaliseMark(rule.fwmark) === normaliseMark(p.fwmark) &&
    (p.priority === undefined || p.priority === rule.priority)
  );
}

export function routeMatches(route: IpRoute, p: PersistedRoute, names: TableNames): boolean {
  return (
    sameTable(route.table, p.table, names) &&
    normalisePrefix(route.dst) === normalisePrefix(p.dst) &&
    (p.via === undefined || route.gateway === undefined || p.via === route.gateway)
  );
}

/** Routing daemons (and keepalived) re-create what they install: not the network config's job. */
const DAEMON_PROTOCOLS = new Set([
  'keepalived',
  '18',
  'bird',
  'zebra',
  'bgp',
  'ospf',
  'isis',
  'rip',
  'babel',
  'static-daemon',
  'dhcp',
  'ra',
  'redirect',
  'kernel',
]);

export interface NotPersistent {
  rules: IpRule[];
  routes: IpRoute[];
}

/** Runtime policy rules and policy-table routes that no configuration file recreates. */
export function notPersisted(rules: IpRule[], routes: IpRoute[], persisted: PersistedPolicy, names: TableNames): NotPersistent {
  return {
    rules: rules.filter((r) => isPolicyRule(r) && !persisted.rules.some((p) => ruleMatches(r, p, names))),
    routes: routes.filter(
      (r) =>
        r.family === 'inet' &&
        !BUILTIN_TABLES.has(r.table) &&
        !DAEMON_PROTOCOLS.has(r.protocol ?? '') &&
        !persisted.routes.some((p) => routeMatches(r, p, names)),
    ),
  };
}

/** The interface a rule belongs to in per-interface config files: its iif, else the interface
 *  holding its from-address (or the route to it). */
export function ruleInterface(rule: IpRule, addrs: Array<{ ifname: string; address: string; prefix: number }>): string | undefined {
  if (rule.iif) return rule.iif;
  const from = normalisePrefix(rule.from);
  if (from === '0.0.0.0/0') return undefined;
  try {
    const [net, len] = ipaddr.parseCIDR(from);
    const hit = addrs.find((a) => {
      const addr = ipaddr.parse(a.address);
      return addr.kind() === net.kind() && (addr.match(net, len) || net.match(addr, a.prefix));
    });
    return hit?.ifname;
  } catch {
    return undefined;
  }
}
