// Where a fix persists across reboot, per distribution. Pure: the check authors call it with the
// snapshot's 'os-release' probe (and the current store file's content) when they build a plan.
// Only static rules (filter accept for VRRP, raw NOTRACK) belong in a rule store; master-only
// SNAT/MASQUERADE rules belong in keepalived notify scripts (failure-modes.md, "Firewall management").
import type { FixStep } from '../types.js';
import { SYSCTL_DROP_IN } from '../kernel/sysctl.js';

import { detectFamily, type DistroFamily } from '../distro.js';

export { detectFamily, parseOsRelease, type DistroFamily } from '../distro.js';

export interface PersistenceTargets {
  family: DistroFamily;
  /** the os-release ID, e.g. "debian", "ubuntu", "rocky" */
  id: string;
  /** the static IPv4 rule store that the boot service loads, or null when unknown */
  iptablesStore: string | null;
  /** the service that loads it at boot */
  iptablesService: string | null;
  nftablesConf: string;
  /** the doctor's own sysctl drop-in */
  sysctlDropIn: string;
}

export function persistenceTargets(osRelease: string | undefined): PersistenceTargets {
  const { family, id } = detectFamily(osRelease);
  const common = { family, id, nftablesConf: family === 'rhel' ? '/etc/sysconfig/nftables.conf' : '/etc/nftables.conf', sysctlDropIn: SYSCTL_DROP_IN };
  if (family === 'debian') return { ...common, iptablesStore: '/etc/iptables/rules.v4', iptablesService: 'netfilter-persistent' };
  if (family === 'rhel') return { ...common, iptablesStore: '/etc/sysconfig/iptables', iptablesService: 'iptables' };
  return { ...common, iptablesStore: null, iptablesService: null };
}

/** A rule that must never go into a static store: it is only right while this node is MASTER. */
export function isMasterOnlyRule(ruleLine: string): boolean {
  return /(^|\s)-j\s+(SNAT|MASQUERADE)(\s|$)/.test(ruleLine);
}

export class PersistenceRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PersistenceRefused';
  }
}

/**
 * Adds `-A ...` rule lines to an iptables-restore file (the static store) under *TABLE, before
 * its COMMIT, creating the table section when absent; lines already there are not repeated.
 * Throws PersistenceRefused for SNAT/MASQUERADE lines.
 */
export function addRulesToStore(storeContent: string, table: string, ruleLines: string[]): string {
  for (const r of ruleLines) {
    if (isMasterOnlyRule(r)) throw new PersistenceRefused(`refusing to persist a master-only rule in a static store: ${r}`);
    if (!/^-[AI] \S+/.test(r)) throw new PersistenceRefused(`not an -A/-I rule line: ${r}`);
  }
  const lines = storeContent === '' ? [] : storeContent.replace(/\n$/, '').split('\n');
  const start = lines.findIndex((l) => l.trim() === `*${table}`);
  if (start < 0) {
    const chains = [...new Set(ruleLines.map((r) => r.split(/\s+/)[1]!))];
    const section = [`*${table}`, ...chains.map((c) => `:${c} ACCEPT [0:0]`), ...ruleLines, 'COMMIT'];
    return [...lines, ...section].join('\n') + '\n';
  }
  const commit = lines.findIndex((l, i) => i > start && l.trim() === 'COMMIT');
  if (commit < 0) throw new PersistenceRefused(`*${table} in the store has no COMMIT line`);
  const present = new Set(lines.slice(start, commit).map((l) => l.trim()));
  const missing = ruleLines.filter((r) => !present.has(r) && !present.has(r.replace(/^-I /, '-A ')));
  const out = [...lines];
  out.splice(commit, 0, ...missing);
  return out.join('\n') + '\n';
}

/**
 * A file step that adds static rules to the distribution's rule store, or null (with the reason)
 * when the distribution's store is unknown. storeContent: the store's content now ('' if absent).
 */
export function iptablesPersistStep(
  targets: PersistenceTargets,
  storeContent: string,
  table: string,
  ruleLines: string[],
): { step: FixStep; how: string } | { step: null; how: string } {
  if (!targets.iptablesStore) {
    return { step: null, how: 'not persisted: no known iptables rule store on this distribution; add the rule to your firewall configuration' };
  }
  const content = addRulesToStore(storeContent, table, ruleLines);
  return {
    step: { write: { path: targets.iptablesStore, content, mode: 0o600 }, why: `loaded at boot by ${targets.iptablesService}` },
    how: `added to ${targets.iptablesStore} (loaded at boot by ${targets.iptablesService})`,
  };
}
