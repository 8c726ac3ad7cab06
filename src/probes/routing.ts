// Probes of the routing area: rt_tables, the network config files that recreate policy rules and
// routes, IPVS (ipvsadm, /proc/net/ip_vs, module), per-interface sysctls and offloads of the
// interfaces in `ip-link`, listening sockets, NIC interrupts.
import path from 'node:path';
import type { ProbeProvider, ProbeRecord, ProbeSpec } from '../types.js';

export const RT_TABLES_FILES = ['/usr/share/iproute2/rt_tables', '/etc/iproute2/rt_tables'];
export const RT_TABLES_DIRS = ['/usr/share/iproute2/rt_tables.d', '/etc/iproute2/rt_tables.d'];
export const NETWORK_SCRIPTS_DIR = '/etc/sysconfig/network-scripts';
export const INTERFACES_FILE = '/etc/network/interfaces';
export const INTERFACES_DIR = '/etc/network/interfaces.d';
export const NETPLAN_DIR = '/etc/netplan';
export const NM_DIR = '/etc/NetworkManager/system-connections';
export const NETWORKD_DIRS = ['/etc/systemd/network', '/run/systemd/network'];
export const RC_LOCAL = '/etc/rc.local';

export const PROBE_IPVS_LIST = 'ipvsadm-list';
export const PROBE_IPVS_STATS = 'ipvsadm-stats';
export const PROBE_IPVS_RATE = 'ipvsadm-rate';
export const PROBE_IPVS_CONNS = 'ipvsadm-conns';
export const PROBE_IPVS_LADDR = 'ipvsadm-laddr';
export const PROBE_PROC_IPVS = 'proc-net-ip_vs';
export const PROBE_IPVS_MODULE_DIR = 'dir:/sys/module/ip_vs';
export const PROBE_IPVS_MODINFO = 'modinfo-ip_vs';
export const PROBE_IPVS_EXPIRE_QUIESCENT = 'sysctl:net.ipv4.vs.expire_quiescent_template';
export const PROBE_IPVS_CONNTRACK = 'sysctl:net.ipv4.vs.conntrack';
export const PROBE_SS_TCP = 'ss-listen-tcp';
export const PROBE_SS_UDP = 'ss-listen-udp';
export const PROBE_INTERRUPTS = 'proc-interrupts';
export const PROBE_IRQBALANCE = 'pidof-irqbalance';

/** at most this many interfaces get per-interface probes (hosts with hundreds of veths) */
export const MAX_IFACES = 64;

/** sysctl keys write a dot in an interface name as '/': net.ipv4.conf.eth0/100.rp_filter */
export const ifaceSysctlId = (ifname: string, leaf: string) => `sysctl:net.ipv4.conf.${ifname.replace(/\./g, '/')}.${leaf}`;
export const ifaceSysctlPath = (ifname: string, leaf: string) => `/proc/sys/net/ipv4/conf/${ifname}/${leaf}`;
export const ethtoolProbeId = (ifname: string) => `ethtool-k:${ifname}`;
export const IFACE_SYSCTLS = ['rp_filter', 'forwarding', 'arp_ignore', 'arp_announce'] as const;

const SAFE_IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** Interface names from the `ip-link` record (no lo), capped at MAX_IFACES; upOnly: only those
 *  administratively up (ethtool is a process per interface, so only where it can matter). */
export function interfacesFromLink(records: Readonly<Record<string, ProbeRecord>>, upOnly = false): string[] {
  const r = records['ip-link'];
  if (r?.status !== 'ok') return [];
  try {
    const links = JSON.parse(r.stdout) as Array<{ ifname?: string; link_type?: string; flags?: string[] }>;
    return links
      .filter((l) => typeof l.ifname === 'string' && l.link_type !== 'loopback' && SAFE_IFNAME.test(l.ifname) && !l.ifname.includes('..'))
      .filter((l) => !upOnly || (Array.isArray(l.flags) && l.flags.includes('UP')))
      .map((l) => l.ifname!)
      .slice(0, MAX_IFACES);
  } catch {
    return [];
  }
}

const listing = (records: Readonly<Record<string, ProbeRecord>>, dir: string): string[] => {
  const r = records[`dir:${dir}`];
  if (r?.status !== 'ok') return [];
  try {
    return JSON.parse(r.stdout) as string[];
  } catch {
    return [];
  }
};

const file = (p: string, needsRoot = false): ProbeSpec => ({
  id: `file:${p}`,
  kind: 'file',
  path: p,
  maxBytes: 1024 * 1024,
  ...(needsRoot ? { needsRoot } : {}),
});
const dir = (p: string): ProbeSpec => ({ id: `dir:${p}`, kind: 'dir', path: p });

/** The network config files worth reading, from the directory listings collected so far. */
export function networkConfigFiles(records: Readonly<Record<string, ProbeRecord>>): ProbeSpec[] {
  const specs: ProbeSpec[] = [];
  for (const d of RT_TABLES_DIRS) for (const n of listing(records, d)) if (n.endsWith('.conf')) specs.push(file(path.join(d, n)));
  for (const n of listing(records, NETWORK_SCRIPTS_DIR)) if (/^(rule6?|route6?)-[\w.:@-]+$/.test(n)) specs.push(file(path.join(NETWORK_SCRIPTS_DIR, n)));
  // ifupdown's `source-directory interfaces.d` reads names of letters, digits, _ and - only
  for (const n of listing(records, INTERFACES_DIR)) if (/^[\w-]+$/.test(n)) specs.push(file(path.join(INTERFACES_DIR, n)));
  // netplan files are often mode 0600
  for (const n of listing(records, NETPLAN_DIR)) if (n.endsWith('.yaml')) specs.push(file(path.join(NETPLAN_DIR, n), true));
  for (const n of listing(records, NM_DIR)) if (n.endsWith('.nmconnection')) specs.push(file(path.join(NM_DIR, n), true));
  for (const d of NETWORKD_DIRS) for (const n of listing(records, d)) if (n.endsWith('.network')) specs.push(file(path.join(d, n)));
  return specs;
}

/** keepalived config text as collected (the kconf:* records), for the probes that depend on it. */
function keepalivedText(records: Readonly<Record<string, ProbeRecord>>): string {
  return Object.values(records)
    .filter((r) => r.id.startsWith('kconf:') && r.status === 'ok')
    .map((r) => r.stdout)
    .join('\n');
}

export const policyRoutingProvider: ProbeProvider = {
  name: 'routing-policy',
  probes: ({ round, records }) => {
    if (round === 0) {
      return [
        ...RT_TABLES_FILES.map((p) => file(p)),
        ...RT_TABLES_DIRS.map(dir),
        dir(NETWORK_SCRIPTS_DIR),
        file(INTERFACES_FILE),
        dir(INTERFACES_DIR),
        dir(NETPLAN_DIR),
        dir(NM_DIR),
        ...NETWORKD_DIRS.map(dir),
        file(RC_LOCAL),
      ];
    }
    return networkConfigFiles(records);
  },
};

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

export const nicProvider: ProbeProvider = {
  name: 'nic',
  probes: ({ round, records }) => {
    if (round === 0) {
      return [
        { id: PROBE_SS_TCP, kind: 'command', argv: ['ss', '-H', '-l', '-t', '-n'] },
        { id: PROBE_SS_UDP, kind: 'command', argv: ['ss', '-H', '-l', '-u', '-n'] },
        { id: PROBE_INTERRUPTS, kind: 'file', path: '/proc/interrupts' },
        { id: PROBE_IRQBALANCE, kind: 'command', argv: ['pidof', 'irqbalance'] },
      ];
    }
    const specs: ProbeSpec[] = [];
    for (const ifname of interfacesFromLink(records)) {
      for (const leaf of IFACE_SYSCTLS) specs.push({ id: ifaceSysctlId(ifname, leaf), kind: 'file', path: ifaceSysctlPath(ifname, leaf) });
    }
    for (const ifname of interfacesFromLink(records, true)) specs.push({ id: ethtoolProbeId(ifname), kind: 'command', argv: ['ethtool', '-k', ifname] });
    return specs;
  },
};

export const routingProviders: ProbeProvider[] = [policyRoutingProvider, ipvsProvider, nicProvider];
