// Probes of the routing-policy area: rt_tables and the network config files that recreate policy
// rules and routes. (IPVS: ./ipvs.ts; NIC sysctls, offloads, sockets, interrupts: ./nic.ts.)
import path from 'node:path';
import type { ProbeProvider, ProbeRecord, ProbeSpec } from '../types.js';
import { dirListing, dirProbeId, fileProbeId } from './ids.js';
import {
  INTERFACES_DIR,
  INTERFACES_FILE,
  NETPLAN_DIR,
  NETWORK_SCRIPTS_DIR,
  NETWORKD_DIRS,
  NM_DIR,
  RC_LOCAL,
  RT_TABLES_DIRS,
  RT_TABLES_FILES,
} from '../routing/files.js';

export { INTERFACES_DIR, INTERFACES_FILE, NETPLAN_DIR, NETWORK_SCRIPTS_DIR, NETWORKD_DIRS, NM_DIR, RC_LOCAL, RT_TABLES_DIRS, RT_TABLES_FILES };
export { ipvsProvider } from './ipvs.js';
export { nicProvider, interfacesFromLink, ifaceSysctlPath, IFACE_SYSCTLS, MAX_IFACES } from './nic.js';
export { ifaceSysctlId, ethtoolProbeId } from './ids.js';

const listing = dirListing;

const file = (p: string, needsRoot = false): ProbeSpec => ({
  id: fileProbeId(p),
  kind: 'file',
  path: p,
  maxBytes: 1024 * 1024,
  ...(needsRoot ? { needsRoot } : {}),
});
const dir = (p: string): ProbeSpec => ({ id: dirProbeId(p), kind: 'dir', path: p });

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

export const routingProviders: ProbeProvider[] = [policyRoutingProvider];
