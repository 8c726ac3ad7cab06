// Host facts and cloud hints from the host probes' records. Pure: src/probes/host.ts collects them.
import type { HostFacts, ProbeRecord } from './types.js';
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
  type ProbeId,
} from './probes/ids.js';

/** "Keepalived v2.2.7 (01/16,2022)" → "2.2.7" (printed on stderr by 2.x, stdout by some builds). */
export function parseKeepalivedVersion(rec: ProbeRecord | undefined): string | null {
  if (!rec || rec.status !== 'ok') return null;
  const m = /Keepalived v(\d+(?:\.\d+)+)/i.exec(`${rec.stdout}\n${rec.stderr}`);
  return m?.[1] ?? null;
}

export function hostFactsFromRecords(records: Record<string, ProbeRecord>): HostFacts {
  const text = (id: ProbeId) => (records[id]?.status === 'ok' ? records[id]!.stdout.trim() : '');
  const osRelease = text(PROBE_OS_RELEASE);
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? '';
  const nsName = text(PROBE_NETNS_IDENTIFY);
  const ns = text(PROBE_NETNS);
  return {
    hostname: text(PROBE_HOSTNAME) || 'unknown',
    kernel: text(PROBE_KERNEL_RELEASE) || 'unknown',
    os: pretty || 'unknown',
    keepalived: parseKeepalivedVersion(records[PROBE_KEEPALIVED_VERSION]),
    netns: nsName ? `${nsName} (${ns})` : ns || 'unknown',
    uid: Number(text(PROBE_UID) || -1),
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
  const tag = records[PROBE_DMI_CHASSIS_ASSET_TAG];
  if (tag?.status === 'ok' && tag.stdout.trim() === AZURE_ASSET_TAG)
    return { cloud: 'Azure', evidence: `${tag.path ?? '/sys/class/dmi/id/chassis_asset_tag'}: ${AZURE_ASSET_TAG}` };
  for (const id of [PROBE_DMI_SYS_VENDOR, PROBE_DMI_PRODUCT_NAME, PROBE_DMI_BIOS_VENDOR, PROBE_DMI_CHASSIS_ASSET_TAG]) {
    const r = records[id];
    if (r?.status !== 'ok') continue;
    const v = r.stdout.trim();
    for (const [re, name] of CLOUD_VENDORS) if (re.test(v)) return { cloud: name, evidence: `${r.path}: ${v}` };
  }
  return null;
}
