// Fix plans for policy routing: argv steps with their undo, and the persistent form for the
// distribution's network configuration.
import path from 'node:path';
import type { FixPlan, FixStep } from '../types.js';
import { ruleSelector, type IpRoute, type IpRule } from './iproute.js';
import type { PersistedRoute } from './persist.js';
import { unsafeArgs } from './values.js';

/** `ip rule` arguments that re-create a rule exactly: selector, priority, table. */
export function ruleArgs(rule: IpRule): string[] {
  return [...ruleSelector(rule), 'priority', String(rule.priority), 'table', rule.table!];
}

/** A rule can be removed and put back only when ip printed nothing this model does not carry. */
export const ruleIsReproducible = (rule: IpRule) => rule.table !== undefined && rule.extra.length === 0;

/** `ip route` arguments for a runtime route (destination, gateway, device, source, table). */
export function routeArgs(route: IpRoute): string[] {
  return [
    ...(route.type !== 'unicast' ? [route.type] : []),
    route.dst,
    ...(route.gateway ? ['via', route.gateway] : []),
    ...(route.dev ? ['dev', route.dev] : []),
    ...(route.prefsrc ? ['src', route.prefsrc] : []),
    ...(route.table !== 'main' ? ['table', route.table] : []),
  ];
}

function persistedRouteArgs(r: PersistedRoute, table: string): string[] {
  return [r.dst, ...(r.via ? ['via', r.via] : []), ...(r.dev ? ['dev', r.dev] : []), 'table', r.table ?? table];
}

/** The table is empty but the network config defines its routes: add them now (as the config would at boot). */
export function restoreTableRoutesPlan(table: string, routes: PersistedRoute[]): FixPlan {
  const steps: FixStep[] = routes.map((r) => {
    const args = persistedRouteArgs(r, table);
    return { argv: ['ip', 'route', 'add', ...args], undo: [['ip', 'route', 'del', ...args]], why: `${r.file}:${r.line} defines it` };
  });
  return {
    summary: `add the ${routes.length === 1 ? 'route' : `${routes.length} routes`} that the network configuration defines for table ${table}`,
    risk: 'safe',
    steps,
    touches: { routes: true },
    persistence: { persistent: true, how: `already persistent: ${[...new Set(routes.map((r) => r.file))].join(', ')} recreates them at boot` },
    verifies: ['policy-table-empty'],
  };
}

/** Delete a rule whose table is empty. The kernel skips a lookup in an empty table, so no packet
 *  changes path: the fix removes a rule that only looks like it routes. */
export function deleteDeadRulePlan(rule: IpRule, recreatedBy: string[]): FixPlan {
  const args = ruleArgs(rule);
  return {
    summary: `delete rule ${rule.priority} (lookup ${rule.table}): its table holds no route, so it routes nothing`,
    risk: 'safe',
    steps: [
      { argv: ['ip', 'rule', 'del', ...args], undo: [['ip', 'rule', 'add', ...args]], why: 'an empty table makes the lookup fall through to the next rule' },
    ],
    touches: { routes: true },
    persistence: recreatedBy.length
      ? {
          persistent: false,
          how: `${recreatedBy.join(', ')} recreates the rule at boot without routes for its table: add the table's routes there, or remove the rule there`,
        }
      : { persistent: true, how: 'no network configuration file recreates this rule, so it stays gone after a reboot' },
    verifies: ['policy-table-empty'],
  };
}

export interface PersistTarget {
  kind: 'network-scripts' | 'ifupdown';
  /** the file written, and its content now ('' when it does not exist) */
  file: string;
  current: string;
}

/** RHEL network-scripts: append `ip rule`/`ip route` argument lines to rule-IF / route-IF
 *  (ifup-routes word-splits them unquoted: every word must pass unsafeArgs). */
export function appendLines(current: string, lines: string[]): string {
  for (const l of lines) {
    const bad = unsafeArgs(l.split(' '));
    if (bad) throw new Error(`refusing to write a network-scripts line: ${bad}`);
  }
  const have = new Set(current.split('\n').map((l) => l.trim()));
  const add = lines.filter((l) => !have.has(l.trim()));
  if (add.length === 0) return current;
  const base = current === '' || current.endsWith('\n') ? current : `${current}\n`;
  return `${base}${add.join('\n')}\n`;
}

/** ifupdown: put `up ip rule add ...` / `up ip route add ...` hooks at the end of the stanza of
 *  `iface IF`; undefined when the file has no stanza for IF. ifupdown runs each hook with
 *  /bin/sh -c: the commands must hold only words checked by unsafeArgs (src/routing/values.ts). */
export function addIfupdownHooks(current: string, ifname: string, commands: string[]): string | undefined {
  for (const c of commands) {
    const bad = unsafeArgs(c.split(' '));
    if (bad) throw new Error(`refusing to write an ifupdown hook: ${bad}`);
  }
  const lines = current.split('\n');
  const esc = ifname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const start = lines.findIndex((l) => new RegExp(`^\\s*iface\\s+${esc}\\s+inet\\s`).test(l));
  if (start < 0) return undefined;
  let end = start;
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^\s*(iface|auto|allow-|source|mapping|rename)\b/.test(l)) break;
    if (l.trim() !== '' && !l.trim().startsWith('#')) end = i;
  }
  const indent = /^(\s+)/.exec(lines[end] ?? '')?.[1] ?? '    ';
  const have = new Set(lines.map((l) => l.trim()));
  const hooks = commands.map((c) => `up ${c}`).filter((h) => !have.has(h));
  if (hooks.length === 0) return current;
  lines.splice(end + 1, 0, ...hooks.map((h) => `${indent}${h}`));
  return lines.join('\n');
}

/** The doctor's networkd drop-ins: one beside a .network file, one in networkd.conf.d. */
export const NETWORKD_DROP_IN_NAME = '90-hagw-doctor-keepalived.conf';

/** Tell systemd-networkd to keep keepalived's VIPs (KeepConfiguration=yes beside the .network file
 *  that manages the interface) and, when virtual routes are at risk, its routes and rules
 *  (ManageForeignRoutes=no in networkd.conf.d): network-manager-removes-vip. Nothing is reloaded. */
export function networkdKeepPlan(a: {
  ifname: string;
  /** the .network file's name, and its path */
  network: string;
  networkFile: string;
  /** networkd.conf.d */
  confDir: string;
  keepsAll: boolean;
  routesAtRisk: boolean;
}): FixPlan {
  const steps: FixStep[] = [];
  if (!a.keepsAll)
    steps.push({
      write: {
        path: path.join('/etc/systemd/network', `${a.network}.d`, NETWORKD_DROP_IN_NAME),
        content:
          "# Written by hagw-doctor: keep keepalived's VIPs (addresses networkd did not configure) on reload/restart.\n[Network]\nKeepConfiguration=yes\n",
        mode: 0o644,
      },
      why: `networkd reads ${a.network}.d/*.conf over ${a.networkFile}`,
    });
  if (a.routesAtRisk)
    steps.push({
      write: {
        path: path.join(a.confDir, NETWORKD_DROP_IN_NAME),
        content:
          "# Written by hagw-doctor: leave keepalived's virtual routes and rules alone.\n[Network]\nManageForeignRoutes=no\nManageForeignRoutingPolicyRules=no\n",
        mode: 0o644,
      },
      why: 'networkd.conf.d overrides networkd.conf',
    });
  const files = steps.map((s) => ('write' in s ? s.write.path : ''));
  return {
    summary: `tell systemd-networkd to keep keepalived's VIPs${a.routesAtRisk ? ' and routes' : ''} on ${a.ifname} (${files.join(', ')})`,
    risk: 'safe',
    steps,
    touches: { files: files.filter(Boolean) },
    persistence: {
      persistent: true,
      how: 'networkd reads the drop-ins at its next start or `networkctl reload`; nothing is reloaded now, so no address moves',
    },
    verifies: ['network-manager-removes-vip'],
  };
}

/** Write runtime policy rules and routes into the network configuration (policy-not-persistent):
 *  placement is where persistPlacement put them (the file writes, and how they load at boot). */
export function persistPolicyPlan(count: number, placement: { steps: FixStep[]; files: string[]; how: string }): FixPlan {
  return {
    summary: `write the ${count} runtime rule(s)/route(s) into ${placement.how}`,
    risk: 'safe',
    steps: placement.steps,
    touches: { files: placement.files },
    persistence: { persistent: true, how: placement.how },
    verifies: ['policy-not-persistent'],
  };
}
