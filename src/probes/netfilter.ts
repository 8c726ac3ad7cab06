// Probes of the netfilter area: every ruleset (iptables either backend, nft), the VRRP conntrack
// entries looked up by tuple (never a table walk unless asked), conntrack pressure, rule stores.
import type { ProbeProvider, ProbeRecord, ProbeSpec, ProbeRoundContext } from '../types.js';
import {
  CONNTRACK_LOOKUP_PREFIX,
  conntrackLookupId,
  fileProbeId,
  PROBE_CONNTRACK_STATS,
  PROBE_CONNTRACK_WALK,
  PROBE_FIREWALL_UNITS,
  PROBE_FIREWALLD_STATE,
  PROBE_IP_ADDR,
  PROBE_IP6T_LEGACY,
  PROBE_IP6T_NFT,
  PROBE_IP6T_SAVE,
  PROBE_IPT_LEGACY,
  PROBE_IPT_NFT,
  PROBE_IPT_SAVE,
  PROBE_KERNEL_LOG,
  PROBE_NETFILTER_SERVICES,
  PROBE_NFT,
  statProbeId,
  type ProbeId,
} from './ids.js';
import { vrrpPaths, type VrrpPath } from '../netfilter/vrrp-paths.js';
import { UFW_BEFORE, UFW_BEFORE6, UFW_CONF } from '../netfilter/managers.js';
import { configFromRecords } from '../keepalived/records.js';
import { parseIpAddr } from '../state.js';

const RULESET_MAX_BYTES = 64 * 1024 * 1024;
const RULESET_TIMEOUT_MS = 10_000;

export { CONNTRACK_LOOKUP_PREFIX, conntrackLookupId, PROBE_CONNTRACK_STATS, PROBE_CONNTRACK_WALK, PROBE_KERNEL_LOG, PROBE_NETFILTER_SERVICES };

/** Where hosts keep their static rules (loaded at boot). */
export const RULE_STORES = {
  debian: '/etc/iptables/rules.v4',
  rhel: '/etc/sysconfig/iptables',
  nftables: '/etc/nftables.conf',
  debian6: '/etc/iptables/rules.v6',
  rhel6: '/etc/sysconfig/ip6tables',
} as const;
export const NETFILTER_PERSISTENT = '/usr/sbin/netfilter-persistent';

export { configFromRecords };

export function pathsFromRecords(records: Readonly<Record<string, ProbeRecord>>, override: string | undefined): VrrpPath[] {
  const config = configFromRecords(records, override);
  if (!config) return [];
  const addrs = records[PROBE_IP_ADDR]?.status === 'ok' ? parseIpAddr(records[PROBE_IP_ADDR]!.stdout) : [];
  return vrrpPaths(config, addrs);
}

function staticProbes(ctx: ProbeRoundContext): ProbeSpec[] {
  const save = (id: ProbeId, bin: string): ProbeSpec => ({
    id,
    kind: 'command',
    argv: [bin, '-c'],
    needsRoot: true,
    timeoutMs: RULESET_TIMEOUT_MS,
    maxBytes: RULESET_MAX_BYTES,
  });
  const specs: ProbeSpec[] = [
    save(PROBE_IPT_SAVE, 'iptables-save'),
    save(PROBE_IPT_LEGACY, 'iptables-legacy-save'),
    save(PROBE_IP6T_SAVE, 'ip6tables-save'),
    save(PROBE_IP6T_LEGACY, 'ip6tables-legacy-save'),
    { id: PROBE_NFT, kind: 'command', argv: ['nft', '-j', 'list', 'ruleset'], needsRoot: true, timeoutMs: RULESET_TIMEOUT_MS, maxBytes: RULESET_MAX_BYTES },
    // O(1) per-CPU counters; count/max come from the kernel provider's sysctl:net.netfilter.* probes
    { id: PROBE_CONNTRACK_STATS, kind: 'command', argv: ['conntrack', '-S'], needsRoot: true },
    // may be refused (kernel.dmesg_restrict): the record keeps the reason
    { id: PROBE_KERNEL_LOG, kind: 'command', argv: ['dmesg'], maxBytes: 2 * 1024 * 1024, tail: true },
    { id: fileProbeId(RULE_STORES.debian), kind: 'file', path: RULE_STORES.debian },
    { id: fileProbeId(RULE_STORES.rhel), kind: 'file', path: RULE_STORES.rhel },
    { id: fileProbeId(RULE_STORES.nftables), kind: 'file', path: RULE_STORES.nftables },
    { id: fileProbeId(RULE_STORES.debian6), kind: 'file', path: RULE_STORES.debian6 },
    { id: fileProbeId(RULE_STORES.rhel6), kind: 'file', path: RULE_STORES.rhel6 },
    { id: statProbeId(NETFILTER_PERSISTENT), kind: 'stat', path: NETFILTER_PERSISTENT },
    {
      id: PROBE_NETFILTER_SERVICES,
      kind: 'command',
      argv: ['systemctl', 'is-enabled', 'netfilter-persistent.service', 'iptables.service', 'nftables.service'],
    },
    // the firewall managers (issue 14): a fix goes through the one that runs, so its reload keeps it
    { id: PROBE_FIREWALLD_STATE, kind: 'command', argv: ['firewall-cmd', '--state'], timeoutMs: 5000 },
    { id: PROBE_FIREWALL_UNITS, kind: 'command', argv: ['systemctl', 'is-enabled', 'nftables.service'] },
    { id: fileProbeId(UFW_CONF), kind: 'file', path: UFW_CONF },
    { id: fileProbeId(UFW_BEFORE), kind: 'file', path: UFW_BEFORE, needsRoot: true },
    { id: fileProbeId(UFW_BEFORE6), kind: 'file', path: UFW_BEFORE6, needsRoot: true },
  ];
  // a full walk costs ~0.4 s per 150k entries on a busy gateway: only when asked
  if (ctx.options.conntrackWalk) {
    specs.push({
      id: PROBE_CONNTRACK_WALK,
      kind: 'command',
      argv: ['conntrack', '-L', '-p', '112'],
      needsRoot: true,
      timeoutMs: 15_000,
      maxBytes: 16 * 1024 * 1024,
    });
  }
  return specs;
}

export const netfilterProvider: ProbeProvider = {
  name: 'netfilter',
  probes: (ctx) => {
    if (ctx.round === 0) return staticProbes(ctx);
    const specs: ProbeSpec[] = [];
    // where iptables-save is the nf_tables one, iptables-nft-save would print the same again
    const plain = ctx.records[PROBE_IPT_SAVE];
    if (!(plain?.status === 'ok' && plain.exitCode === 0 && /\(nf_tables\)/.test(plain.stdout))) {
      specs.push({
        id: PROBE_IPT_NFT,
        kind: 'command',
        argv: ['iptables-nft-save', '-c'],
        needsRoot: true,
        timeoutMs: RULESET_TIMEOUT_MS,
        maxBytes: RULESET_MAX_BYTES,
      });
    }
    const plain6 = ctx.records[PROBE_IP6T_SAVE];
    if (!(plain6?.status === 'ok' && plain6.exitCode === 0 && /\(nf_tables\)/.test(plain6.stdout))) {
      specs.push({
        id: PROBE_IP6T_NFT,
        kind: 'command',
        argv: ['ip6tables-nft-save', '-c'],
        needsRoot: true,
        timeoutMs: RULESET_TIMEOUT_MS,
        maxBytes: RULESET_MAX_BYTES,
      });
    }
    // hash lookups by tuple (~5 ms each), found from either direction
    for (const p of pathsFromRecords(ctx.records, ctx.options.config)) {
      if (!p.self) continue;
      for (const peer of p.peers) {
        specs.push({ id: conntrackLookupId(p.self, peer), kind: 'command', argv: ['conntrack', '-G', '-p', '112', '-s', p.self, '-d', peer], needsRoot: true });
      }
    }
    // (the notify scripts, do they add/remove SNAT?, are read by the keepalived provider as script:PATH)
    return specs;
  },
};

export const netfilterProviders: ProbeProvider[] = [netfilterProvider];
