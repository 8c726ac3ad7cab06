// Fix plans for the netfilter findings: argv steps, each with its undo. Static rules (accept VRRP,
// NOTRACK) may go to the host's rule store; master-only SNAT rules never do (notify scripts own them).
import type { FixPlan, FixStep, ProbeRecord } from '../types.js';
import type { Table } from './rules.js';
import type { IptRule } from './iptables-save.js';
import type { Firewall } from './firewall.js';
import { isIptables } from './firewall.js';
import { iptablesPersistStep, persistenceTargets } from '../change/persistence.js';
import { PROBE_OS_RELEASE, fileProbeId } from '../probes/ids.js';

/** The iptables binary that edits a table: plain `iptables` when the table is on the default backend
 *  (what `iptables-save` shows, and what the change engine backs up), else the backend's own name. */
export function iptablesBinary(fw: Firewall, table: Table): string {
  if (!fw.defaultBackend || fw.defaultBackend === table.backend) return 'iptables';
  return table.backend === 'legacy' ? 'iptables-legacy' : 'iptables-nft';
}

/** The binary for a backend when no table of it exists yet. */
export function binaryForNewRules(fw: Firewall): string {
  const nftRules = Object.values(fw.nfTables?.tables ?? {}).some((t) => Object.values(t.chains).some((c) => c.rules.length));
  const legacyRules = Object.values(fw.legacy?.tables ?? {}).some((t) => Object.values(t.chains).some((c) => c.rules.length));
  if (legacyRules && !nftRules && fw.nfTables) return 'iptables-legacy';
  return 'iptables';
}

/** Whether the host runs nftables only (native tables, no iptables rules): fixes then speak nft. */
export function nftOnly(fw: Firewall): boolean {
  const iptRules = fw.tables.filter(isIptables).some((t) => Object.values(t.chains).some((c) => c.rules.length || (c.policy && c.policy !== 'ACCEPT')));
  const nativeRules = fw.tables.some((t) => !isIptables(t) && t.name !== 'keepalived' && Object.values(t.chains).some((c) => c.rules.length));
  return !iptRules && nativeRules;
}

export const ruleArgs = (r: IptRule) => r.spec;

export interface StaticRule {
  table: string;
  chain: string;
  /** the rule spec after "-A CHAIN" */
  spec: string[];
  /** insert at this position (1-based); append when undefined. Only 1 (the top) is used as a
   *  position when applied: any other insert names the rule it goes before (`before`) */
  position?: number;
  /** insert just before this rule (its spec), found by content when the change is applied */
  before?: string[];
}

/** Add a static iptables rule now, by content (the change engine checks -C first and resolves
 *  `before` to a position at apply time); undone by -D of the same rule. */
export function addRuleStep(bin: string, r: StaticRule, why: string): FixStep {
  const add = r.position !== undefined ? ['-I', r.chain, String(r.before ? r.position : 1)] : ['-A', r.chain];
  return {
    argv: [bin, '-w', '-t', r.table, ...add, ...r.spec],
    undo: [[bin, '-w', '-t', r.table, '-D', r.chain, ...r.spec]],
    rule: {
      bin,
      table: r.table,
      chain: r.chain,
      op: r.position !== undefined || r.before ? 'insert' : 'append',
      spec: [...r.spec],
      ...(r.before ? { before: [...r.before] } : {}),
    },
    why,
  };
}

export const quoteSpec = (spec: string[]) => spec.map((s) => (/[\s"]/.test(s) ? `"${s.replace(/"/g, '\\"')}"` : s)).join(' ');

/** Persistence for static rules: into the rule store that exists on this host, else say where. */
export function persistStatic(
  records: Readonly<Record<string, ProbeRecord>>,
  rules: StaticRule[],
  nft: boolean,
  family: 'ip' | 'ip6' = 'ip',
): { steps: FixStep[]; files: string[]; persistence: FixPlan['persistence'] } {
  const lines = rules.map((r) => `-A ${r.chain} ${quoteSpec(r.spec)}`);
  if (nft) {
    const conf = records['file:/etc/nftables.conf']?.status === 'ok';
    return {
      steps: [],
      files: [],
      persistence: {
        persistent: false,
        how: conf
          ? 'not persisted: add the same statements to /etc/nftables.conf (loaded at boot by nftables.service)'
          : 'not persisted: add the same statements to the nftables configuration this host loads at boot',
      },
    };
  }
  const base = persistenceTargets(records[PROBE_OS_RELEASE]?.status === 'ok' ? records[PROBE_OS_RELEASE]!.stdout : undefined);
  // IPv6 rules live beside the IPv4 store: rules.v6 (Debian), ip6tables (RHEL)
  const targets =
    family === 'ip6' && base.iptablesStore
      ? {
          ...base,
          iptablesStore: base.iptablesStore.replace(/rules\.v4$/, 'rules.v6').replace(/\/iptables$/, '/ip6tables'),
          iptablesService: base.iptablesService === 'iptables' ? 'ip6tables' : base.iptablesService,
        }
      : base;
  const store = targets.iptablesStore;
  const rec = store ? records[fileProbeId(store)] : undefined;
  const netfilterPersistent =
    records['stat:/usr/sbin/netfilter-persistent']?.status === 'ok' && /"exists":true/.test(records['stat:/usr/sbin/netfilter-persistent'].stdout);
  // only an existing store is edited: a store nobody loads at boot would be a false promise
  if (store && rec?.status === 'ok') {
    const steps: FixStep[] = [];
    let content = rec.stdout;
    for (const table of [...new Set(rules.map((r) => r.table))]) {
      const r = iptablesPersistStep(
        targets,
        content,
        table,
        lines.filter((_, i) => rules[i]!.table === table),
      );
      if (r.step && 'write' in r.step) {
        content = r.step.write.content;
      }
    }
    if (content !== rec.stdout) steps.push({ write: { path: store, content, mode: 0o600 }, why: `loaded at boot by ${targets.iptablesService}` });
    return {
      steps,
      files: steps.length ? [store] : [],
      persistence: { persistent: true, how: `added to ${store} (loaded at boot by ${targets.iptablesService})` },
    };
  }
  const where = store
    ? `${store} does not exist${netfilterPersistent ? '' : ` (install ${targets.family === 'debian' ? 'iptables-persistent' : 'iptables-services'})`}`
    : 'no known rule store on this distribution';
  return {
    steps: [],
    files: [],
    persistence: {
      persistent: false,
      how: `not persisted: ${where}; add these static rules to the firewall configuration loaded at boot: ${lines.join('; ')}`,
    },
  };
}
