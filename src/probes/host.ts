// Host facts: hostname, kernel, distribution, keepalived version, network namespace, cloud hints.
import { readdir, readlink, stat } from 'node:fs/promises';
import type { ProbeProvider } from '../types.js';
import {
  PROBE_DMI_BIOS_VENDOR,
  PROBE_DMI_CHASSIS_ASSET_TAG,
  PROBE_DMI_PRODUCT_NAME,
  PROBE_DMI_SYS_VENDOR,
  PROBE_HOSTNAME,
  PROBE_KERNEL_RELEASE,
  PROBE_KEEPALIVED_VERSION,
  PROBE_NETNS,
  PROBE_NETNS_IDENTIFY,
  PROBE_OS_RELEASE,
  PROBE_UID,
} from './ids.js';

export { AZURE_ASSET_TAG, detectCloud, hostFactsFromRecords, parseKeepalivedVersion } from '../host-facts.js';

export const hostProvider: ProbeProvider = {
  name: 'host',
  probes: ({ round }) =>
    round > 0
      ? []
      : [
          { id: PROBE_HOSTNAME, kind: 'file', path: '/proc/sys/kernel/hostname' },
          { id: PROBE_KERNEL_RELEASE, kind: 'file', path: '/proc/sys/kernel/osrelease' },
          { id: PROBE_OS_RELEASE, kind: 'file', path: '/etc/os-release' },
          { id: PROBE_NETNS, kind: 'internal', run: async () => readlink('/proc/self/ns/net') },
          { id: PROBE_NETNS_IDENTIFY, kind: 'internal', run: identifyNetns },
          { id: PROBE_UID, kind: 'internal', run: async () => String(process.getuid?.() ?? -1) },
          { id: PROBE_KEEPALIVED_VERSION, kind: 'command', argv: ['keepalived', '--version'] },
          // Cloud hints (DMI): multicast VRRP is not delivered on cloud VPCs.
          { id: PROBE_DMI_SYS_VENDOR, kind: 'file', path: '/sys/class/dmi/id/sys_vendor' },
          { id: PROBE_DMI_PRODUCT_NAME, kind: 'file', path: '/sys/class/dmi/id/product_name' },
          { id: PROBE_DMI_BIOS_VENDOR, kind: 'file', path: '/sys/class/dmi/id/bios_vendor' },
          { id: PROBE_DMI_CHASSIS_ASSET_TAG, kind: 'file', path: '/sys/class/dmi/id/chassis_asset_tag' },
        ],
};

/** `ip netns identify` without a process: the /run/netns name whose inode is our own netns. */
export async function identifyNetns(): Promise<string> {
  const self = await stat('/proc/self/ns/net');
  const names = await readdir('/run/netns').catch(() => [] as string[]);
  for (const name of names.sort()) {
    const st = await stat(`/run/netns/${name}`).catch(() => undefined);
    if (st && st.ino === self.ino && st.dev === self.dev) return name;
  }
  return '';
}
