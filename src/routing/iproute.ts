// `ip -j rule show` and `ip -j route show table all`, as iproute2 6.x prints them. ip prints a
// table by its rt_tables name when it knows one, else by number; main-table routes carry no
// "table" key.

export interface IpRule {
  priority: number;
  not: boolean;
  /** "all" or an address/prefix */
  from: string;
  to?: string;
  iif?: string;
  oif?: string;
  fwmark?: string;
  fwmask?: string;
  tos?: string;
  ipproto?: string;
  sport?: string;
  dport?: string;
  uidrange?: string;
  /** table name or number as ip printed it; absent for action rules (unreachable, goto...) */
  table?: string;
  action?: string;
  /** keys ip printed that this model does not carry (a rule using them cannot be re-created faithfully) */
  extra: string[];
  raw: Record<string, unknown>;
}

export interface IpRoute {
  type: string;
  dst: string;
  /** "main" when ip printed no table */
  table: string;
  dev?: string;
  gateway?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  family: 'inet' | 'inet6';
  raw: Record<string, unknown>;
}

export class IpJsonError extends Error {}

function parseArray(json: string, what: string): Array<Record<string, unknown>> {
  let data: unknown;
  try {
    data = JSON.parse(json.trim() === '' ? '[]' : json);
  } catch (err) {
    throw new IpJsonError(`${what}: not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data)) throw new IpJsonError(`${what}: expected a JSON array`);
  return data.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const withLen = (addr: unknown, len: unknown): string | undefined => {
  const a = str(addr);
  if (a === undefined) return undefined;
  return typeof len === 'number' ? `${a}/${len}` : a;
};

const RULE_KEYS = new Set([
  'priority',
  'not',
  'src',
  'srclen',
  'dst',
  'dstlen',
  'iif',
  'oif',
  'fwmark',
  'fwmask',
  'tos',
  'dsfield',
  'ipproto',
  'sport',
  'dport',
  'uid_start',
  'uid_end',
  'table',
  'action',
  'flags',
  'protocol',
]);

export function parseIpRules(json: string): IpRule[] {
  return parseArray(json, 'ip -j rule').map((r) => {
    const uid = r.uid_start !== undefined ? `${str(r.uid_start)}-${str(r.uid_end)}` : undefined;
    const rule: IpRule = {
      priority: typeof r.priority === 'number' ? r.priority : 0,
      // ip -j prints "not": null for an inverted selector
      not: Object.hasOwn(r, 'not'),
      from: withLen(r.src, r.srclen) ?? 'all',
      to: withLen(r.dst, r.dstlen),
      iif: str(r.iif),
      oif: str(r.oif),
      fwmark: str(r.fwmark),
      fwmask: str(r.fwmask),
      tos: str(r.tos ?? r.dsfield),
      ipproto: str(r.ipproto),
      sport: str(r.sport),
      dport: str(r.dport),
      uidrange: uid,
      table: str(r.table),
      action: str(r.action),
      extra: Object.keys(r).filter((k) => !RULE_KEYS.has(k)),
      raw: r,
    };
    for (const k of Object.keys(rule) as Array<keyof IpRule>) if (rule[k] === undefined) delete rule[k];
    return rule;
  });
}

export function parseIpRoutes(json: string): IpRoute[] {
  return parseArray(json, 'ip -j route').map((r) => {
    const dst = str(r.dst) ?? 'default';
    const route: IpRoute = {
      type: str(r.type) ?? 'unicast',
      dst,
      table: str(r.table) ?? 'main',
      dev: str(r.dev),
      gateway: str(r.gateway),
      protocol: str(r.protocol),
      scope: str(r.scope),
      prefsrc: str(r.prefsrc),
      metric: typeof r.metric === 'number' ? r.metric : undefined,
      family: dst.includes(':') || str(r.gateway)?.includes(':') ? 'inet6' : 'inet',
      raw: r,
    };
    for (const k of Object.keys(route) as Array<keyof IpRoute>) if (route[k] === undefined) delete route[k];
    return route;
  });
}

/** The selector of a rule as `ip rule` takes it, e.g. ["not", "from", "10.0.0.0/24", "fwmark", "0x1/0xff"]. */
export function ruleSelector(rule: IpRule): string[] {
  const out: string[] = [];
  if (rule.not) out.push('not');
  out.push('from', rule.from);
  if (rule.to) out.push('to', rule.to);
  if (rule.iif) out.push('iif', rule.iif);
  if (rule.oif) out.push('oif', rule.oif);
  if (rule.fwmark) out.push('fwmark', rule.fwmark + (rule.fwmask ? `/${rule.fwmask}` : ''));
  if (rule.tos) out.push('tos', rule.tos);
  if (rule.ipproto) out.push('ipproto', rule.ipproto);
  if (rule.sport) out.push('sport', rule.sport);
  if (rule.dport) out.push('dport', rule.dport);
  if (rule.uidrange) out.push('uidrange', rule.uidrange);
  return out;
}

/** One line, as `ip rule show` prints it. */
export function ruleText(rule: IpRule): string {
  const tail = rule.table !== undefined ? `lookup ${rule.table}` : (rule.action ?? '');
  return `${rule.priority}:\t${ruleSelector(rule).join(' ')} ${tail}`.trim();
}

/** The tables the kernel always has rules for: policy checks leave them alone. */
export const BUILTIN_TABLES = new Set(['local', 'main', 'default', '255', '254', '253', '0', 'unspec']);
