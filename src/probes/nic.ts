// Probes of the NIC area: per-interface sysctls and offloads of the interfaces in `ip-link`,
// listening sockets, NIC interrupts, irqbalance.
import type { ProbeProvider, ProbeRecord, ProbeSpec } from '../types.js';
import { ethtoolProbeId, ifaceSysctlId, PROBE_INTERRUPTS, PROBE_IP_LINK, PROBE_IRQBALANCE, PROBE_SS_TCP, PROBE_SS_UDP } from './ids.js';

export { ifaceSysctlId, ethtoolProbeId, PROBE_INTERRUPTS, PROBE_IRQBALANCE, PROBE_SS_TCP, PROBE_SS_UDP };

/** at most this many interfaces get per-interface probes (hosts with hundreds of veths) */
export const MAX_IFACES = 64;

export const ifaceSysctlPath = (ifname: string, leaf: string) => `/proc/sys/net/ipv4/conf/${ifname}/${leaf}`;
export const IFACE_SYSCTLS = ['rp_filter', 'forwarding', 'arp_ignore', 'arp_announce'] as const;

const SAFE_IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** Interface names from the `ip-link` record (no lo), capped at MAX_IFACES; upOnly: only those
 *  administratively up (ethtool is a process per interface, so only where it can matter). */
export function interfacesFromLink(records: Readonly<Record<string, ProbeRecord>>, upOnly = false): string[] {
  const r = records[PROBE_IP_LINK];
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
