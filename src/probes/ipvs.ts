// Probes of the IPVS area: the module, /proc/net/ip_vs, ipvsadm's listings (only when the module
// is loaded: ipvsadm would load it), the connection table and the FNAT local address pools.
import type { ProbeProvider, ProbeRecord, ProbeSpec } from '../types.js';
import {
  CONFIG_PREFIX,
  PROBE_IPVS_CONNS,
  PROBE_IPVS_EXPIRE_QUIESCENT,
  PROBE_IPVS_CONNTRACK,
  PROBE_IPVS_LADDR,
  PROBE_IPVS_LIST,
  PROBE_IPVS_MODINFO,
  PROBE_IPVS_MODULE_DIR,
  PROBE_IPVS_RATE,
  PROBE_IPVS_STATS,
  PROBE_PROC_IPVS,
} from './ids.js';

export {
  PROBE_IPVS_CONNS,
  PROBE_IPVS_EXPIRE_QUIESCENT,
  PROBE_IPVS_CONNTRACK,
  PROBE_IPVS_LADDR,
  PROBE_IPVS_LIST,
  PROBE_IPVS_MODINFO,
  PROBE_IPVS_MODULE_DIR,
  PROBE_IPVS_RATE,
  PROBE_IPVS_STATS,
  PROBE_PROC_IPVS,
};

/** keepalived config text as collected (the kconf:* records), for the probes that depend on it. */
function keepalivedText(records: Readonly<Record<string, ProbeRecord>>): string {
  return Object.values(records)
    .filter((r) => r.id.startsWith(CONFIG_PREFIX) && r.status === 'ok')
    .map((r) => r.stdout)
    .join('\n');
}

export const ipvsProvider: ProbeProvider = {
  name: 'ipvs',
  probes: ({ round, records }) => {
    if (round === 0) {
      return [
        { id: PROBE_IPVS_MODULE_DIR, kind: 'dir', path: '/sys/module/ip_vs' },
        { id: PROBE_PROC_IPVS, kind: 'file', path: '/proc/net/ip_vs', needsRoot: true },
        { id: PROBE_IPVS_EXPIRE_QUIESCENT, kind: 'file', path: '/proc/sys/net/ipv4/vs/expire_quiescent_template' },
        { id: PROBE_IPVS_CONNTRACK, kind: 'file', path: '/proc/sys/net/ipv4/vs/conntrack' },
      ];
    }
    const specs: ProbeSpec[] = [];
    const config = keepalivedText(records);
    // is the module there to be loaded? only asked when the config wants IPVS
    if (/\bvirtual_server\b/.test(config)) specs.push({ id: PROBE_IPVS_MODINFO, kind: 'command', argv: ['modinfo', '-F', 'filename', 'ip_vs'] });
    // ipvsadm asks the kernel over netlink and loads ip_vs if it can: a change to the host, so only
    // when the module is already loaded
    if (records[PROBE_IPVS_MODULE_DIR]?.status === 'ok') {
      specs.push(
        { id: PROBE_IPVS_LIST, kind: 'command', argv: ['ipvsadm', '-L', '-n'], needsRoot: true },
        { id: PROBE_IPVS_STATS, kind: 'command', argv: ['ipvsadm', '-L', '-n', '--stats'], needsRoot: true },
        { id: PROBE_IPVS_RATE, kind: 'command', argv: ['ipvsadm', '-L', '-n', '--rate'], needsRoot: true },
      );
    }
    const list = records[PROBE_IPVS_LIST];
    // connection listing walks the whole IPVS table: only when a persistent service has a quiesced server
    if (list?.status === 'ok' && list.exitCode === 0 && /persistent/.test(list.stdout) && /^\s+->\s+\S+\s+\S+\s+0\s/m.test(list.stdout)) {
      specs.push({ id: PROBE_IPVS_CONNS, kind: 'command', argv: ['ipvsadm', '-L', '-n', '-c'], needsRoot: true, timeoutMs: 8000, maxBytes: 8 * 1024 * 1024 });
    }
    // the dsnat/FNAT build's local address pools, only when the config uses them
    if (/\b(local_address_group|laddr_group_name)\b/.test(config)) {
      specs.push({ id: PROBE_IPVS_LADDR, kind: 'command', argv: ['ipvsadm', '-G'], needsRoot: true });
    }
    return specs;
  },
};
