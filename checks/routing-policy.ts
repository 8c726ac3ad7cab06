// Policy routing (the LVS-NAT real-server setup, seed): rules into empty tables, tables that
// rt_tables does not name, and runtime rules/routes that no network configuration recreates.
import path from 'node:path';
import type { Check } from '../src/check.js';
import { finding, type CheckContext } from '../src/context.js';
import type { Evidence, Finding, FixPlan, FixStep } from '../src/types.js';
import { ruleText, type IpRoute, type IpRule } from '../src/routing/iproute.js';
import { notPersisted, ruleInterface, ruleMatches, rulesIntoEmptyTables, unnamedTables } from '../src/routing/policy.js';
import { persistedPolicy, rtTables, runtimeRouting } from '../src/routing/from-snapshot.js';
import { unsafeArgs, unsafeInterface } from '../src/routing/values.js';
import {
  addIfupdownHooks,
  appendLines,
  deleteDeadRulePlan,
  persistPolicyPlan,
  restoreTableRoutesPlan,
  routeArgs,
  ruleArgs,
  ruleIsReproducible,
} from '../src/routing/fix.js';
import { detectFamily } from '../src/distro.js';
import { localAddresses } from '../src/state.js';
import { INTERFACES_DIR, INTERFACES_FILE, NETWORK_SCRIPTS_DIR, RC_LOCAL } from '../src/routing/files.js';
import { dirEntries } from '../src/routing/from-snapshot.js';
import { PROBE_IP_ROUTE, PROBE_IP_RULE, PROBE_OS_RELEASE, fileProbeId } from '../src/probes/ids.js';

const routeText = (r: IpRoute) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''} table ${r.table}`;

export const policyTableEmpty: Check = {
  id: 'policy-table-empty',
  title: 'policy rules point at tables with routes',
  codes: ['policy-table-empty'],
  run(ctx) {
    const { rules, routes } = runtimeRouting(ctx);
    const { names } = rtTables(ctx);
    const persisted = persistedPolicy(ctx).policy;
    return rulesIntoEmptyTables(rules, routes, names).map(({ rule, tableId }): Finding => {
      const table = rule.table!;
      const sameTable = (t: string | undefined) => t !== undefined && (t === table || (tableId !== undefined && names.resolve(t) === tableId));
      const definedRoutes = persisted.routes.filter((r) => sameTable(r.table));
      const recreatedBy = persisted.rules.filter((p) => ruleMatches(rule, p, names)).map((p) => `${p.file}:${p.line}`);
      let fix: FixPlan | undefined;
      if (definedRoutes.length) fix = restoreTableRoutesPlan(table, definedRoutes);
      else if (ruleIsReproducible(rule)) fix = deleteDeadRulePlan(rule, recreatedBy);
      const evidence: Evidence[] = [
        { probe: PROBE_IP_RULE, excerpt: ruleText(rule) },
        { probe: PROBE_IP_ROUTE, excerpt: `no IPv4 route in table ${table}${tableId !== undefined && String(tableId) !== table ? ` (${tableId})` : ''}` },
        ...definedRoutes
          .slice(0, 3)
          .map((r) => ({ probe: fileProbeId(r.file), excerpt: `${r.file}:${r.line}: ${r.dst}${r.via ? ` via ${r.via}` : ''} table ${r.table}` })),
      ];
      return finding('policy-table-empty', {
        title: `rule ${rule.priority} looks up table ${table}, which holds no route`,
        detail:
          `A lookup in an empty table falls through to the next rule, so traffic this rule selects (${ruleText(rule).replace(/^\d+:\s*/, '')}) ` +
          `leaves by the main table instead. On an LVS-NAT real server that means replies bypass the director and clients drop them.` +
          (definedRoutes.length
            ? ` The network configuration defines routes for this table (${definedRoutes.map((r) => `${r.file}:${r.line}`).join(', ')}) that are not loaded now.`
            : ''),
        evidence,
        subject: `table ${table}`,
        ...(fix ? { fix } : {}),
      });
    });
  },
};

export const policyTableUnnamed: Check = {
  id: 'policy-table-unnamed',
  title: 'routing tables named in rt_tables',
  codes: ['policy-table-unnamed'],
  run(ctx) {
    const { rules } = runtimeRouting(ctx);
    const { names, tables, files } = rtTables(ctx);
    const persisted = persistedPolicy(ctx).policy;
    return unnamedTables(rules, persisted, names, tables).map((u) => {
      const number = u.kind === 'number-without-name';
      return finding('policy-table-unnamed', {
        title: number ? `table ${u.table} has no name in rt_tables (${u.where})` : `table name ${u.table} has no number in rt_tables (${u.where})`,
        detail: number
          ? `Rule ${u.rule?.priority ?? ''} uses table number ${u.table}, which ${files.length ? files.join(', ') : 'rt_tables'} does not name. It works, but nobody reading \`ip rule\` can tell what the table is for, and a configuration written with a name elsewhere will not match it. Add "${u.table} NAME" to /etc/iproute2/rt_tables.d/NAME.conf.`
          : `${u.where} uses table "${u.table}", but no rt_tables file gives it a number: \`ip\` refuses the line ("table id value is invalid"), so the rule or route is missing after a reboot or interface restart. Add "NUMBER ${u.table}" to /etc/iproute2/rt_tables.d/${u.table}.conf.`,
        evidence: [u.rule ? { probe: PROBE_IP_RULE, excerpt: ruleText(u.rule) } : { probe: fileProbeId(String(u.file)), excerpt: `${u.where}: ${u.table}` }],
        subject: `table ${u.table}`,
        ...(u.file ? { location: { file: u.file, ...(u.line ? { line: u.line } : {}) } } : {}),
      });
    });
  },
};

interface Placement {
  steps: FixStep[];
  files: string[];
  how: string;
}

/** Where each rule/route goes in the distribution's network configuration; undefined when one of
 *  them cannot be placed (then no automatic fix: a partial one would not clear the finding). */
function persistPlacement(ctx: CheckContext, rules: IpRule[], routes: IpRoute[]): Placement | { refused: string } | undefined {
  const family = detectFamily(ctx.output(PROBE_OS_RELEASE)).family;
  const addrs = localAddresses(ctx);
  const items: Array<{ ifname: string | undefined; rule?: IpRule; route?: IpRoute }> = [
    ...rules.map((rule) => ({ ifname: ruleInterface(rule, addrs), rule })),
    ...routes.map((route) => ({ ifname: route.dev, route })),
  ];
  if (items.some((i) => i.ifname === undefined || (i.rule && i.rule.extra.length))) return undefined;
  // every word lands in a file a shell reads (ifupdown) or word-splits (ifup-routes): refuse, never write, a hostile one
  for (const i of items) {
    const bad = unsafeInterface(i.ifname!) ?? unsafeArgs(i.rule ? ruleArgs(i.rule) : routeArgs(i.route!));
    if (bad) return { refused: bad };
  }
  const scripts = dirEntries(ctx, NETWORK_SCRIPTS_DIR);
  if (family === 'rhel' && scripts.some((n) => n.startsWith('ifcfg-'))) {
    const byFile = new Map<string, string[]>();
    for (const i of items) {
      const file = path.join(NETWORK_SCRIPTS_DIR, `${i.rule ? 'rule' : 'route'}-${i.ifname}`);
      byFile.set(file, [...(byFile.get(file) ?? []), (i.rule ? ruleArgs(i.rule) : routeArgs(i.route!)).join(' ')]);
    }
    const steps: FixStep[] = [...byFile].map(([file, lines]) => ({
      write: { path: file, content: appendLines(ctx.output(fileProbeId(file)) ?? '', lines), mode: 0o644 },
      why: 'network-scripts (ifup-routes) adds these lines every time the interface comes up',
    }));
    return { steps, files: [...byFile.keys()], how: `network-scripts ${[...byFile.keys()].join(', ')} (applied at every ifup)` };
  }
  if (family === 'debian') {
    const candidates = [
      INTERFACES_FILE,
      ...dirEntries(ctx, INTERFACES_DIR)
        .filter((n) => /^[\w-]+$/.test(n))
        .map((n) => path.join(INTERFACES_DIR, n)),
    ];
    const contents = new Map<string, string>();
    for (const f of candidates) {
      const t = ctx.output(fileProbeId(f));
      if (t !== undefined) contents.set(f, t);
    }
    const touched = new Set<string>();
    for (const i of items) {
      const cmd = i.rule ? `ip rule add ${ruleArgs(i.rule).join(' ')}` : `ip route add ${routeArgs(i.route!).join(' ')}`;
      let placed = false;
      for (const [f, t] of contents) {
        const next = addIfupdownHooks(t, i.ifname!, [cmd]);
        if (next === undefined) continue;
        contents.set(f, next);
        touched.add(f);
        placed = true;
        break;
      }
      if (!placed) return undefined;
    }
    const steps: FixStep[] = [...touched].map((f) => ({
      write: { path: f, content: contents.get(f)!, mode: 0o644 },
      why: 'ifupdown runs `up` hooks every time the interface comes up',
    }));
    return { steps, files: [...touched], how: `ifupdown \`up\` hooks in ${[...touched].join(', ')}` };
  }
  return undefined;
}

/** How to persist by hand when the doctor cannot write it (netplan, NetworkManager, unknown). */
function manualHow(view: ReturnType<typeof persistedPolicy>): string {
  if (view.systems.netplan)
    return 'add them under the interface in /etc/netplan/*.yaml (`routing-policy:` items with from/table/priority, `routes:` items with to/via/table) and run `netplan apply`';
  if (view.systems.networkd)
    return "add [RoutingPolicyRule] (From=, Table=, Priority=) and [Route] (Destination=, Gateway=, Table=) sections to the interface's /etc/systemd/network/*.network file";
  if (view.systems.networkManager)
    return 'add them to the connection: `nmcli connection modify CONN +ipv4.routing-rules "priority N from ADDR table T" +ipv4.routes "0.0.0.0/0 GW table=T"`';
  return 'add them to the network configuration the distribution uses (RHEL network-scripts rule-IF/route-IF, Debian ifupdown `up ip rule add ...` hooks, netplan routing-policy, NetworkManager ipv4.routing-rules); commands in rc.local are lost when the interface restarts';
}

export const policyNotPersistent: Check = {
  id: 'policy-not-persistent',
  title: 'policy rules and routes survive a reboot',
  codes: ['policy-not-persistent'],
  run(ctx) {
    const { rules, routes } = runtimeRouting(ctx);
    const { names } = rtTables(ctx);
    const view = persistedPolicy(ctx);
    const missing = notPersisted(rules, routes, view.policy, names);
    if (!missing.rules.length && !missing.routes.length) return [];
    const placed = persistPlacement(ctx, missing.rules, missing.routes);
    const placement = placed && 'refused' in placed ? undefined : placed;
    const refusal = placed && 'refused' in placed ? placed.refused : undefined;
    const rcLocal = ctx.output(fileProbeId(RC_LOCAL)) ?? '';
    const inRcLocal = /\bip\s+(-4\s+)?(rule|route)\s+add/.test(rcLocal);
    const evidence: Evidence[] = [
      ...missing.rules.slice(0, 5).map((r) => ({ probe: PROBE_IP_RULE, excerpt: ruleText(r) })),
      ...missing.routes.slice(0, 5).map((r) => ({ probe: PROBE_IP_ROUTE, excerpt: routeText(r) })),
    ];
    const fix = placement && persistPolicyPlan(missing.rules.length + missing.routes.length, placement);
    return [
      finding('policy-not-persistent', {
        title: `${missing.rules.length} policy rule(s) and ${missing.routes.length} policy route(s) exist only at runtime`,
        detail:
          `No network configuration file recreates them, so they vanish at the next reboot or interface restart and the LVS-NAT replies stop going back through the director. ` +
          (inRcLocal ? '/etc/rc.local adds some at boot, but not when an interface restarts. ' : '') +
          (view.unreadable.length ? `Not readable (run as root): ${view.unreadable.map((u) => u.file).join(', ')}. ` : '') +
          (refusal ? `The doctor will not write them into a network configuration file: ${refusal}. ` : '') +
          (fix ? '' : `To persist: ${manualHow(view)}.`),
        evidence,
        subject: 'policy routing',
        ...(fix ? { fix } : {}),
      }),
    ];
  },
};

export const policyRoutingChecks: Check[] = [policyTableEmpty, policyTableUnnamed, policyNotPersistent];
