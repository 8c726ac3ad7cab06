// The policy rules and routes that the network configuration files recreate at boot or at
// interface restart: RHEL network-scripts rule-IF/route-IF, Debian ifupdown `up ip rule/route`
// hooks, netplan routing-policy/routes, NetworkManager keyfiles, systemd-networkd .network files,
// and keepalived's own
// static_rules/virtual_rules/static_routes/virtual_routes blocks.

export type PersistSource = 'network-scripts' | 'ifupdown' | 'netplan' | 'networkmanager' | 'networkd' | 'keepalived';

export interface PersistedRule {
  source: PersistSource;
  file: string;
  line: number;
  from?: string;
  to?: string;
  iif?: string;
  fwmark?: string;
  priority?: number;
  table?: string;
}

export interface PersistedRoute {
  source: PersistSource;
  file: string;
  line: number;
  dst: string;
  via?: string;
  dev?: string;
  table?: string;
}

export interface PersistedPolicy {
  rules: PersistedRule[];
  routes: PersistedRoute[];
}

const PRIORITY_WORDS = new Set(['priority', 'pref', 'preference', 'order']);

/** `ip rule` arguments ("from 10.0.0.11 lookup lvs_nat pref 100") to a rule; unknown words are skipped. */
export function ruleFromArgs(words: string[], where: Omit<PersistedRule, 'from'>): PersistedRule {
  const r: PersistedRule = { ...where };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const v = words[i + 1];
    if (v === undefined) break;
    if (w === 'from') r.from = v;
    else if (w === 'to') r.to = v;
    else if (w === 'iif' || w === 'dev') r.iif = v;
    else if (w === 'fwmark') r.fwmark = v;
    else if (w === 'table' || w === 'lookup') r.table = v;
    else if (PRIORITY_WORDS.has(w)) r.priority = Number(v);
    else continue;
    i++;
  }
  return r;
}

/** `ip route` arguments ("default via 10.0.0.254 dev eth0 table 100") to a route. */
export function routeFromArgs(words: string[], where: Omit<PersistedRoute, 'dst'>): PersistedRoute | undefined {
  const rest = [...words];
  // a route type word may come first
  if (['unicast', 'local', 'blackhole', 'unreachable', 'prohibit', 'throw'].includes(rest[0] ?? '')) rest.shift();
  if (rest[0] === 'to') rest.shift();
  const dst = rest.shift();
  if (!dst) return undefined;
  const r: PersistedRoute = { ...where, dst };
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    const v = rest[i + 1];
    if (v === undefined) break;
    if (w === 'via') r.via = v;
    else if (w === 'dev') r.dev = v;
    else if (w === 'table') r.table = v;
    else continue;
    i++;
  }
  return r;
}

const stripComment = (l: string) => l.replace(/(^|\s)#.*$/, '').trim();

/** RHEL/CentOS network-scripts rule-IF: one `ip rule add` argument list per line. */
export function parseRuleFile(text: string, file: string): PersistedRule[] {
  const out: PersistedRule[] = [];
  text.split('\n').forEach((raw, i) => {
    const l = stripComment(raw);
    if (l) out.push(ruleFromArgs(l.split(/\s+/), { source: 'network-scripts', file, line: i + 1 }));
  });
  return out;
}

/** RHEL network-scripts route-IF: `ip route` argument lines. The ADDRESSn=/GATEWAYn= form
 *  only ever fills the main table, so it holds no policy route and is skipped. */
export function parseRouteFile(text: string, file: string): PersistedRoute[] {
  const out: PersistedRoute[] = [];
  text.split('\n').forEach((raw, i) => {
    const l = stripComment(raw);
    if (!l || /^[A-Z_]+\d*=/.test(l)) return;
    const r = routeFromArgs(l.split(/\s+/), { source: 'network-scripts', file, line: i + 1 });
    if (r) out.push(r);
  });
  return out;
}

/** An `ip [-4] rule|route add ...` command inside a hook line; iproute2 accepts abbreviations (ro, ru). */
function ipCommand(words: string[]): { object: 'rule' | 'route'; args: string[] } | undefined {
  const i = words.findIndex((w) => w === 'ip' || w.endsWith('/ip'));
  if (i < 0) return undefined;
  let j = i + 1;
  while (words[j]?.startsWith('-')) j++;
  const obj = words[j];
  const verb = words[j + 1];
  if (!obj || !verb || !['add', 'append', 'replace', 'a', 'app', 'r', 'repl'].includes(verb)) return undefined;
  const object = /^ru(le?)?$/.test(obj) ? 'rule' : /^r(o(u(te?)?)?)?$/.test(obj) ? 'route' : undefined;
  return object ? { object, args: words.slice(j + 2) } : undefined;
}

/** Debian/Ubuntu ifupdown /etc/network/interfaces (and interfaces.d/*): `up`/`post-up`/`pre-up` hooks. */
export function parseInterfacesFile(text: string, file: string): PersistedPolicy {
  const rules: PersistedRule[] = [];
  const routes: PersistedRoute[] = [];
  text.split('\n').forEach((raw, i) => {
    const l = stripComment(raw);
    const m = /^(up|post-up|pre-up)\s+(.*)$/.exec(l);
    if (!m) return;
    // a hook may chain commands with ; or && or ||
    for (const part of m[2]!.split(/;|&&|\|\|/)) {
      const cmd = ipCommand(part.trim().split(/\s+/));
      if (!cmd) continue;
      const where = { source: 'ifupdown' as const, file, line: i + 1 };
      if (cmd.object === 'rule') rules.push(ruleFromArgs(cmd.args, where));
      else {
        const r = routeFromArgs(cmd.args, where);
        if (r) routes.push(r);
      }
    }
  });
  return { rules, routes };
}

/** netplan YAML: the list items under `routing-policy:` and `routes:`, block or flow style.
 *  A full YAML parser is not needed for these flat mappings. */
export function parseNetplan(text: string, file: string): PersistedPolicy {
  const rules: PersistedRule[] = [];
  const routes: PersistedRoute[] = [];
  const lines = text.split('\n');
  const indent = (l: string) => l.length - l.trimStart().length;
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(routing-policy|routes):\s*(\[.*\])?\s*(#.*)?$/.exec(lines[i]!);
    if (!m) continue;
    const kind = m[2]!;
    const base = m[1]!.length;
    const items: Array<{ line: number; kv: Record<string, string> }> = [];
    const flow = (s: string) =>
      Object.fromEntries(
        s
          .replace(/^\{|\}$/g, '')
          .split(',')
          .map((p) => p.split(':').map((x) => x.trim()))
          .filter((p) => p.length >= 2)
          .map((p) => [
            p[0]!,
            p
              .slice(1)
              .join(':')
              .replace(/^["']|["']$/g, ''),
          ]),
      );
    if (m[3]) {
      for (const it of m[3].slice(1, -1).match(/\{[^}]*\}/g) ?? []) items.push({ line: i + 1, kv: flow(it) });
    } else {
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        if (l.trim() === '' || l.trim().startsWith('#')) continue;
        if (indent(l) <= base) break;
        const t = stripComment(l.trim());
        const item = /^-\s*(.*)$/.exec(t);
        if (item) {
          const body = item[1]!;
          items.push({ line: j + 1, kv: body.startsWith('{') ? flow(body) : {} });
          if (!body.startsWith('{') && body.includes(':')) {
            const [k, ...v] = body.split(':');
            items.at(-1)!.kv[k!.trim()] = v
              .join(':')
              .trim()
              .replace(/^["']|["']$/g, '');
          }
          continue;
        }
        const kv = /^([\w-]+):\s*(.*)$/.exec(t);
        if (kv && items.length) items.at(-1)!.kv[kv[1]!] = kv[2]!.replace(/^["']|["']$/g, '');
      }
      i = j - 1;
    }
    for (const { line, kv } of items) {
      const where = { source: 'netplan' as const, file, line };
      if (kind === 'routing-policy') {
        rules.push({
          ...where,
          ...(kv.from ? { from: kv.from } : {}),
          ...(kv.to ? { to: kv.to } : {}),
          ...(kv.mark ? { fwmark: kv.mark } : {}),
          ...(kv.table ? { table: kv.table } : {}),
          ...(kv.priority ? { priority: Number(kv.priority) } : {}),
        });
      } else if (kv.to) {
        routes.push({ ...where, dst: kv.to, ...(kv.via ? { via: kv.via } : {}), ...(kv.table ? { table: kv.table } : {}) });
      }
    }
  }
  return { rules, routes };
}

/** NetworkManager keyfile (.nmconnection): [ipv4] routing-ruleN= and routeN= with routeN_options=table=N. */
export function parseNmKeyfile(text: string, file: string): PersistedPolicy {
  const rules: PersistedRule[] = [];
  const routes: PersistedRoute[] = [];
  let section = '';
  const routeLines = new Map<string, { line: number; value: string }>();
  const options = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    const sec = /^\[(.+)\]$/.exec(l);
    if (sec) {
      section = sec[1]!;
      return;
    }
    if (section !== 'ipv4') return;
    const kv = /^([\w-]+)=(.*)$/.exec(l);
    if (!kv) return;
    const [, key, value] = kv as unknown as [string, string, string];
    if (/^routing-rule\d+$/.test(key)) rules.push(ruleFromArgs(value.trim().split(/\s+/), { source: 'networkmanager', file, line: i + 1 }));
    else if (/^route\d+$/.test(key)) routeLines.set(key, { line: i + 1, value });
    else if (/^route\d+_options$/.test(key)) options.set(key.replace(/_options$/, ''), value);
  });
  for (const [key, { line, value }] of routeLines) {
    const [dst, via] = value.split(',').map((s) => s.trim());
    const table = /(?:^|,)\s*table=(\d+)/.exec(options.get(key) ?? '')?.[1];
    if (dst) routes.push({ source: 'networkmanager', file, line, dst, ...(via && via !== '0.0.0.0' ? { via } : {}), ...(table ? { table } : {}) });
  }
  return { rules, routes };
}

/** keepalived's own static_rules / virtual_rules / static_routes / virtual_routes blocks: keepalived
 *  re-creates these itself (virtual_* only while MASTER). */
export function parseKeepalivedRoutingBlocks(text: string, file: string): PersistedPolicy {
  const rules: PersistedRule[] = [];
  const routes: PersistedRoute[] = [];
  let block: 'rule' | 'route' | undefined;
  let depth = 0;
  text.split('\n').forEach((raw, i) => {
    const l = raw.replace(/[#!].*$/, '').trim();
    if (!block) {
      const m = /^(static_rules|virtual_rules|static_routes|virtual_routes)\s*\{\s*$/.exec(l);
      if (m) {
        block = m[1]!.endsWith('rules') ? 'rule' : 'route';
        depth = 1;
      }
      return;
    }
    depth += (l.match(/\{/g) ?? []).length - (l.match(/\}/g) ?? []).length;
    if (depth <= 0) {
      block = undefined;
      return;
    }
    if (!l) return;
    const where = { source: 'keepalived' as const, file, line: i + 1 };
    if (block === 'rule') rules.push(ruleFromArgs(l.split(/\s+/), where));
    else {
      const r = routeFromArgs(l.split(/\s+/), where);
      if (r) routes.push(r);
    }
  });
  return { rules, routes };
}

/** systemd-networkd .network: [RoutingPolicyRule] From=/To=/Table=/Priority=/FirewallMark=/IncomingInterface=
 *  and [Route] Destination=/Gateway=/Table= sections (a file may hold several of each). */
export function parseNetworkdFile(text: string, file: string): PersistedPolicy {
  const rules: PersistedRule[] = [];
  const routes: PersistedRoute[] = [];
  let cur: { kind: 'rule' | 'route'; line: number; kv: Record<string, string> } | undefined;
  const flush = () => {
    if (!cur) return;
    const where = { source: 'networkd' as const, file, line: cur.line };
    const kv = cur.kv;
    if (cur.kind === 'rule') {
      rules.push({
        ...where,
        ...(kv.From ? { from: kv.From } : {}),
        ...(kv.To ? { to: kv.To } : {}),
        ...(kv.Table ? { table: kv.Table } : {}),
        ...(kv.Priority ? { priority: Number(kv.Priority) } : {}),
        ...(kv.FirewallMark ? { fwmark: kv.FirewallMark } : {}),
        ...(kv.IncomingInterface ? { iif: kv.IncomingInterface } : {}),
      });
    } else {
      routes.push({ ...where, dst: kv.Destination ?? 'default', ...(kv.Gateway ? { via: kv.Gateway } : {}), ...(kv.Table ? { table: kv.Table } : {}) });
    }
    cur = undefined;
  };
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    if (l === '' || l.startsWith('#') || l.startsWith(';')) return;
    const sec = /^\[(.+)\]$/.exec(l);
    if (sec) {
      flush();
      if (sec[1] === 'RoutingPolicyRule') cur = { kind: 'rule', line: i + 1, kv: {} };
      else if (sec[1] === 'Route') cur = { kind: 'route', line: i + 1, kv: {} };
      return;
    }
    const kv = /^(\w+)\s*=\s*(.*)$/.exec(l);
    if (kv && cur) cur.kv[kv[1]!] = kv[2]!.trim();
  });
  flush();
  return { rules, routes };
}
