// The routing area's parsed views of a snapshot, each computed once per analysis (ctx.memo).
import path from 'node:path';
import type { CheckContext } from '../context.js';
import { SkipCheck } from '../context.js';
import { parseIpRoutes, parseIpRules, IpJsonError, type IpRoute, type IpRule } from './iproute.js';
import { mergeRtTables, parseRtTables, TableNames, type RtTables } from './rt-tables.js';
import {
  parseInterfacesFile,
  parseKeepalivedRoutingBlocks,
  parseNetplan,
  parseNetworkdFile,
  parseNmKeyfile,
  parseRouteFile,
  parseRuleFile,
  type PersistedPolicy,
} from './persist.js';
import { INTERFACES_DIR, INTERFACES_FILE, NETPLAN_DIR, NETWORK_SCRIPTS_DIR, NETWORKD_DIRS, NM_DIR, RT_TABLES_DIRS, RT_TABLES_FILES } from './files.js';
import { PROBE_IP_LINK, PROBE_IP_ROUTE, PROBE_IP_RULE, dirProbeId, fileProbeId, type ProbeId } from '../probes/ids.js';

export interface ParsedRouting {
  rules: IpRule[];
  routes: IpRoute[];
}

/** `ip -j route show table all` through the routing parser, once per analysis; undefined when it was
 *  not collected or is not the JSON array iproute2 prints (for checks that judge what they can without it). */
export function ipRoutes(ctx: CheckContext): IpRoute[] | undefined {
  return ctx.memo('routing:ip-route', () => {
    const text = ctx.output(PROBE_IP_ROUTE);
    if (text === undefined) return undefined;
    try {
      return parseIpRoutes(text);
    } catch (err) {
      if (err instanceof IpJsonError) return undefined;
      throw err;
    }
  });
}

/** `ip -j rule` and `ip -j route show table all`; skips the check when either is missing or unparsable. */
export function runtimeRouting(ctx: CheckContext): ParsedRouting {
  return ctx.memo('routing:runtime', () => {
    const rulesText = ctx.require(PROBE_IP_RULE, 'ip -j rule show');
    const routesText = ctx.require(PROBE_IP_ROUTE, 'ip -j route show table all');
    try {
      return { rules: parseIpRules(rulesText), routes: parseIpRoutes(routesText) };
    } catch (err) {
      if (err instanceof IpJsonError) throw new SkipCheck(err.message);
      throw err;
    }
  });
}

/** rt_tables as iproute2 reads it: /usr/share first (iproute2 >= 6.5), then /etc, then the .d dirs. */
export function rtTables(ctx: CheckContext): { tables: RtTables; names: TableNames; files: string[] } {
  return ctx.memo('routing:rt-tables', () => {
    const parts: RtTables[] = [];
    const files: string[] = [];
    const read = (file: string) => {
      const text = ctx.output(fileProbeId(file));
      if (text === undefined) return;
      files.push(file);
      parts.push(parseRtTables(text, file));
    };
    for (const f of RT_TABLES_FILES) read(f);
    for (const d of RT_TABLES_DIRS) for (const n of dirEntries(ctx, d)) if (n.endsWith('.conf')) read(path.join(d, n));
    const tables = mergeRtTables(parts);
    return { tables, names: new TableNames(tables), files };
  });
}

export function dirEntries(ctx: CheckContext, dir: string): string[] {
  const text = ctx.output(dirProbeId(dir));
  if (text === undefined) return [];
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export interface PersistedView {
  policy: PersistedPolicy;
  /** the files that were read, and the ones that could not be (netplan/NM files need root) */
  read: string[];
  unreadable: Array<{ file: string; reason: string }>;
  /** which configuration systems this host has */
  systems: { networkScripts: boolean; ifupdown: boolean; netplan: boolean; networkManager: boolean; networkd: boolean };
}

/** Every rule and policy route that a network config file (or keepalived) recreates. */
export function persistedPolicy(ctx: CheckContext): PersistedView {
  return ctx.memo('routing:persisted', () => {
    const policy: PersistedPolicy = { rules: [], routes: [] };
    const read: string[] = [];
    const unreadable: Array<{ file: string; reason: string }> = [];
    const add = (p: PersistedPolicy) => {
      policy.rules.push(...p.rules);
      policy.routes.push(...p.routes);
    };
    const text = (file: string): string | undefined => {
      const r = ctx.probe(fileProbeId(file));
      if (r?.status === 'ok') {
        read.push(file);
        return r.stdout;
      }
      if (r && r.status !== 'missing') unreadable.push({ file, reason: r.reason ?? r.status });
      return undefined;
    };
    const scripts = dirEntries(ctx, NETWORK_SCRIPTS_DIR);
    for (const n of scripts) {
      const file = path.join(NETWORK_SCRIPTS_DIR, n);
      if (/^rule-/.test(n)) {
        const t = text(file);
        if (t !== undefined) policy.rules.push(...parseRuleFile(t, file));
      } else if (/^route-/.test(n)) {
        const t = text(file);
        if (t !== undefined) policy.routes.push(...parseRouteFile(t, file));
      }
    }
    const ifupdownFiles = [
      INTERFACES_FILE,
      ...dirEntries(ctx, INTERFACES_DIR)
        .filter((n) => /^[\w-]+$/.test(n))
        .map((n) => path.join(INTERFACES_DIR, n)),
    ];
    let ifupdown = false;
    for (const f of ifupdownFiles) {
      const t = text(f);
      if (t === undefined) continue;
      if (/^\s*iface\s/m.test(t)) ifupdown = true;
      add(parseInterfacesFile(t, f));
    }
    const netplan = dirEntries(ctx, NETPLAN_DIR).filter((n) => n.endsWith('.yaml'));
    for (const n of netplan) {
      const t = text(path.join(NETPLAN_DIR, n));
      if (t !== undefined) add(parseNetplan(t, path.join(NETPLAN_DIR, n)));
    }
    const nm = dirEntries(ctx, NM_DIR).filter((n) => n.endsWith('.nmconnection'));
    for (const n of nm) {
      const t = text(path.join(NM_DIR, n));
      if (t !== undefined) add(parseNmKeyfile(t, path.join(NM_DIR, n)));
    }
    let networkd = false;
    for (const d of NETWORKD_DIRS) {
      for (const n of dirEntries(ctx, d).filter((x) => x.endsWith('.network'))) {
        networkd = true;
        const t = text(path.join(d, n));
        if (t !== undefined) add(parseNetworkdFile(t, path.join(d, n)));
      }
    }
    for (const r of Object.values(ctx.snapshot.probes)) {
      if (r.id.startsWith('kconf:') && r.status === 'ok') add(parseKeepalivedRoutingBlocks(r.stdout, r.path ?? r.id.slice(6)));
    }
    return {
      policy,
      read,
      unreadable,
      systems: { networkScripts: scripts.some((n) => n.startsWith('ifcfg-')), ifupdown, netplan: netplan.length > 0, networkManager: nm.length > 0, networkd },
    };
  });
}

/** A sysctl file probe's value as a number, or undefined. */
export function sysctlNumber(ctx: CheckContext, id: ProbeId): number | undefined {
  const v = ctx.output(id)?.trim();
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
}

export interface LinkInfo {
  ifname: string;
  mtu?: number;
  up: boolean;
  loopback: boolean;
  kind?: string;
  parentdev?: string;
}

/** Interfaces from `ip -j -d link show`. */
export function links(ctx: CheckContext): LinkInfo[] {
  return ctx.memo('routing:links', () => {
    const text = ctx.output(PROBE_IP_LINK);
    if (text === undefined) return [];
    try {
      const arr = JSON.parse(text) as Array<Record<string, unknown>>;
      return arr
        .filter((l) => typeof l.ifname === 'string')
        .map((l) => {
          const flags = Array.isArray(l.flags) ? (l.flags as string[]) : [];
          const info = l.linkinfo as { info_kind?: string } | undefined;
          return {
            ifname: l.ifname as string,
            ...(typeof l.mtu === 'number' ? { mtu: l.mtu } : {}),
            up: flags.includes('UP'),
            loopback: l.link_type === 'loopback' || flags.includes('LOOPBACK'),
            ...(info?.info_kind ? { kind: info.info_kind } : {}),
            ...(typeof l.parentdev === 'string' ? { parentdev: l.parentdev } : {}),
          };
        });
    } catch {
      return [];
    }
  });
}
