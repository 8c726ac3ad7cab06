// sysctl values (runtime) and the sysctl files that set them at boot.
import type { ProbeProvider, ProbeRecord } from '../types.js';

/** Directories sysctl --system reads, in its precedence order (later files of the same name win earlier). */
export const SYSCTL_DIRS = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d'];
export const SYSCTL_CONF = '/etc/sysctl.conf';

export const RUNTIME_SYSCTLS = [
  'net.ipv4.ip_forward',
  'net.ipv6.conf.all.forwarding',
  'net.ipv4.ip_nonlocal_bind',
  'net.ipv4.conf.all.rp_filter',
  'net.ipv4.conf.default.rp_filter',
  'net.ipv4.conf.all.arp_ignore',
  'net.ipv4.conf.all.arp_announce',
  'net.netfilter.nf_conntrack_count',
  'net.netfilter.nf_conntrack_max',
];

export const sysctlPath = (key: string) => `/proc/sys/${key.replace(/\./g, '/')}`;
export const sysctlProbeId = (key: string) => `sysctl:${key}`;

export const kernelProvider: ProbeProvider = {
  name: 'kernel',
  probes: ({ round, records }) => {
    if (round === 0) {
      return [
        ...RUNTIME_SYSCTLS.map((key) => ({ id: sysctlProbeId(key), kind: 'file' as const, path: sysctlPath(key) })),
        { id: `file:${SYSCTL_CONF}`, kind: 'file' as const, path: SYSCTL_CONF },
        ...SYSCTL_DIRS.map((dir) => ({ id: `dir:${dir}`, kind: 'dir' as const, path: dir })),
      ];
    }
    return sysctlFiles(records).map((file) => ({ id: `file:${file}`, kind: 'file' as const, path: file }));
  },
};

/** The sysctl.d files in the order sysctl --system applies them: by file name across all dirs, the
 *  first dir holding a name wins; /etc/sysctl.conf last. */
export function sysctlFiles(records: Record<string, ProbeRecord>): string[] {
  const byName = new Map<string, string>();
  for (const dir of SYSCTL_DIRS) {
    const rec = records[`dir:${dir}`];
    if (rec?.status !== 'ok') continue;
    for (const name of JSON.parse(rec.stdout) as string[]) {
      if (name.endsWith('.conf') && !byName.has(name)) byName.set(name, `${dir}/${name}`);
    }
  }
  const ordered = [...byName.keys()].sort().map((n) => byName.get(n)!);
  return [...ordered, SYSCTL_CONF];
}
