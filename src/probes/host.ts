// Host facts: hostname, kernel, distribution, keepalived version, network namespace, cloud hints.
import { readdir, readlink, stat } from 'node:fs/promises';
import type { HostFacts, ProbeProvider, ProbeRecord } from '../types.js';

export const hostProvider: ProbeProvider = {
  name: 'host',
  probes: ({ round }) =>
    round > 0
      ? []
      : [
          { id: 'hostname', kind: 'file', path: '/proc/sys/kernel/hostname' },
          { id: 'kernel', kind: 'file', path: '/proc/sys/kernel/osrelease' },
          { id: 'os-release', kind: 'file', path: '/etc/os-release' },
          { id: 'netns', kind: 'internal', run: async () => readlink('/proc/self/ns/net') },
          { id: 'netns-identify', kind: 'internal', run: identifyNetns },
          { id: 'uid', kind: 'internal', run: async () => String(process.getuid?.() ?? -1) },
          { id: 'keepalived-version', kind: 'command', argv: ['keepalived', '--version'] },
          // Cloud hints (DMI): multicast VRRP is not delivered on cloud VPCs.
          { id: 'dmi-sys-vendor', kind: 'file', path: '/sys/class/dmi/id/sys_vendor' },
          { id: 'dmi-product-name', kind: 'file', path: '/sys/class/dmi/id/product_name' },
          { id: 'dmi-bios-vendor', kind: 'file', path: '/sys/class/dmi/id/bios_vendor' },
          { id: 'dmi-chassis-asset-tag', kind: 'file', path: '/sys/class/dmi/id/chassis_asset_tag' },
        ],
};

/** "Keepalived v2.2.7 (01/16,2022)" → "2.2.7" (printed on stderr by 2.x, stdout by some builds). */
export function parseKeepalivedVersion(rec: ProbeRecord | undefined): string | null {
  if (!rec || rec.status !== 'ok') return null;
  const m = /Keepalived v(\d+(?:\.\d+)+)/i.exec(`${rec.stdout}\n${rec.stderr}`);
  return m?.[1] ?? null;
}

export function hostFactsFromRecords(records: Record<string, ProbeRecord>): HostFacts {
  const text = (id: string) => (records[id]?.status === 'ok' ? records[id]!.stdout.trim() : '');
  const osRelease = text('os-release');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? '';
  const nsName = text('netns-identify');
  const ns = text('netns');
  return {
    hostname: text('hostname') || 'unknown',
    kernel: text('kernel') || 'unknown',
    os: pretty || 'unknown',
    keepalived: parseKeepalivedVersion(records['keepalived-version']),
    netns: nsName ? `${nsName} (${ns})` : ns || 'unknown',
    uid: Number(text('uid') || -1),
  };
}

const CLOUD_VENDORS: Array<[RegExp, string]> = [
  [/alibaba/i, 'Alibaba Cloud'],
  [/amazon|\bec2\b/i, 'AWS'],
  [/google/i, 'Google Cloud'],
  [/huawei/i, 'Huawei Cloud'],
  [/tencent/i, 'Tencent Cloud'],
  [/openstack/i, 'OpenStack'],
  [/digitalocean/i, 'DigitalOcean'],
  [/hetzner/i, 'Hetzner Cloud'],
  [/oraclecloud|oracle cloud/i, 'Oracle Cloud'],
];

/** Azure's fixed DMI chassis asset tag: every Azure VM has it, an on-premises Hyper-V guest does not. */
export const AZURE_ASSET_TAG = '7783-7084-3265-9085-8269-3286-77';

/** The cloud this host runs on, from DMI strings, or null. A "Microsoft Corporation" vendor alone is
 *  Hyper-V (on premises too, where multicast works): only Azure's chassis asset tag makes it Azure. */
export function detectCloud(records: Record<string, ProbeRecord>): { cloud: string; evidence: string } | null {
  const tag = records['dmi-chassis-asset-tag'];
  if (tag?.status === 'ok' && tag.stdout.trim() === AZURE_ASSET_TAG)
    return { cloud: 'Azure', evidence: `${tag.path ?? '/sys/class/dmi/id/chassis_asset_tag'}: ${AZURE_ASSET_TAG}` };
  for (const id of ['dmi-sys-vendor', 'dmi-product-name', 'dmi-bios-vendor', 'dmi-chassis-asset-tag']) {
    const r = records[id];
    if (r?.status !== 'ok') continue;
    const v = r.stdout.trim();
    for (const [re, name] of CLOUD_VENDORS) if (re.test(v)) return { cloud: name, evidence: `${r.path}: ${v}` };
  }
  return null;
}

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
