// The firewall managers real gateways run, and how a static accept for the adverts is made to last
// through them: firewalld (rich rule, runtime and --permanent), ufw (/etc/ufw/before.rules, then
// `ufw reload`), a native nftables ruleset (/etc/nftables.conf, loaded by nftables.service). A rule put
// only into the running ruleset is flushed by the manager's next reload; these put it where the
// manager rebuilds from. Pure: the probes collect the files and states.
import type { ProbeRecord } from '../types.js';
import type { Firewall } from './firewall.js';

import { PROBE_FIREWALLD_STATE, PROBE_FIREWALL_UNITS, fileProbeId } from '../probes/ids.js';
export { PROBE_FIREWALLD_STATE, PROBE_FIREWALL_UNITS };
export const UFW_CONF = '/etc/ufw/ufw.conf';
export const UFW_BEFORE = '/etc/ufw/before.rules';
export const UFW_BEFORE6 = '/etc/ufw/before6.rules';
export const NFT_CONF = '/etc/nftables.conf';

export interface FirewallManagers {
  /** firewalld runs (firewall-cmd --state, or its nft table inet firewalld) */
  firewalld?: { evidence: string };
  /** ufw is enabled (ENABLED=yes in ufw.conf, or its ufw-* chains in the ruleset) */
  ufw?: { evidence: string; beforeRules?: string; beforeRules6?: string };
  /** /etc/nftables.conf exists (nftables.service loads it at boot when enabled) */
  nftablesConf?: { text: string; enabled: boolean | undefined };
}

const ok = (r: ProbeRecord | undefined): r is ProbeRecord => r?.status === 'ok';

export function detectManagers(records: Readonly<Record<string, ProbeRecord>>, fw: Firewall): FirewallManagers {
  const m: FirewallManagers = {};
  const fwd = records[PROBE_FIREWALLD_STATE];
  const fwdTable = (fw.nft?.tables ?? []).some((t) => t.name === 'firewalld');
  if ((ok(fwd) && fwd.exitCode === 0 && /^running/m.test(fwd.stdout)) || fwdTable) {
    m.firewalld = { evidence: ok(fwd) && fwd.exitCode === 0 ? `firewall-cmd --state: ${fwd.stdout.trim()}` : 'nft table inet firewalld is loaded' };
  }
  const ufwConf = records[fileProbeId(UFW_CONF)];
  const enabled = ok(ufwConf) && /^\s*ENABLED\s*=\s*yes\b/im.test(ufwConf.stdout);
  const ufwChains = fw.tables.some((t) => Object.keys(t.chains).some((c) => c.startsWith('ufw-')));
  if (enabled || ufwChains) {
    const before = records[fileProbeId(UFW_BEFORE)];
    const before6 = records[fileProbeId(UFW_BEFORE6)];
    m.ufw = {
      evidence: enabled ? `${UFW_CONF}: ENABLED=yes` : 'ufw-* chains in the ruleset',
      ...(ok(before) ? { beforeRules: before.stdout } : {}),
      ...(ok(before6) ? { beforeRules6: before6.stdout } : {}),
    };
  }
  const conf = records[fileProbeId(NFT_CONF)];
  if (ok(conf)) {
    // `systemctl is-enabled nftables.service`: one word; a missing unit or no systemd leaves it unknown
    const units = records[PROBE_FIREWALL_UNITS];
    const word = ok(units) ? units.stdout.trim().split('\n')[0]?.trim() : undefined;
    m.nftablesConf = { text: conf.stdout, enabled: word === 'enabled' ? true : word === 'disabled' || word === 'masked' ? false : undefined };
  }
  return m;
}

/**
 * /etc/nftables.conf with `rule` inserted at the top of chain `chain` of table `family name`, right after
 * the chain's `type ... hook ...;` line (or its opening brace). undefined when the file does not declare
 * that table and chain in the block syntax (`table inet filter {` ... `chain input {`).
 */
export function nftConfInsert(text: string, family: string, table: string, chain: string, rule: string): string | undefined {
  const lines = text.split('\n');
  const strip = (l: string) => l.replace(/#.*$/, '');
  const tableRe = new RegExp(`^\\s*table\\s+${esc(family)}\\s+${esc(table)}\\s*\\{`);
  const chainRe = new RegExp(`^\\s*chain\\s+${esc(chain)}\\s*\\{`);
  let depth = 0;
  let inTable = false;
  let tableDepth = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = strip(lines[i]!);
    if (!inTable && depth === 0 && tableRe.test(l)) {
      inTable = true;
      tableDepth = depth;
    } else if (inTable && depth === tableDepth + 1 && chainRe.test(l)) {
      // the chain's body starts after its opening line; its hook line comes first in a base chain
      let at = i;
      for (let j = i + 1; j < lines.length && j < i + 4; j++) {
        if (/\btype\s+\w+\s+hook\b/.test(strip(lines[j]!))) {
          at = j;
          break;
        }
        if (strip(lines[j]!).trim() !== '') break;
      }
      const next = lines.slice(at + 1).find((x) => x.trim() !== '') ?? '';
      const indent = /^\s*/.exec(next)?.[0] || '\t\t';
      lines.splice(at + 1, 0, `${indent}${rule}`);
      return lines.join('\n');
    }
    for (const c of l) {
      if (c === '{') depth++;
      else if (c === '}') depth--;
    }
    if (inTable && depth <= tableDepth) inTable = false;
  }
  return undefined;
}

/** ufw's before.rules with `line` added to the *filter section, before the rules that drop (right after
 *  ufw's "# End required lines" marker, else right before the section's COMMIT). */
export function ufwBeforeInsert(text: string, line: string): string | undefined {
  if (text.includes(line)) return text;
  const lines = text.split('\n');
  const filter = lines.findIndex((l) => l.trim() === '*filter');
  if (filter < 0) return undefined;
  let at = lines.findIndex((l, i) => i > filter && /^#\s*End required lines/i.test(l.trim()));
  if (at < 0) {
    const commit = lines.findIndex((l, i) => i > filter && l.trim() === 'COMMIT');
    if (commit < 0) return undefined;
    at = commit - 1;
  }
  lines.splice(at + 1, 0, '', '# hagw-doctor: VRRP adverts from the peer (keepalived)', line);
  return lines.join('\n');
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
