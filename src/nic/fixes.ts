// Fix plans for the NIC findings: sysctl and ethtool steps with their undo; sysctls persisted in
// the doctor's drop-in, offloads described for the distribution's interface configuration.
import type { FixPlan, FixStep } from '../types.js';
import { detectFamily } from '../distro.js';
import { normaliseKey, SYSCTL_DROP_IN, sysctlPersistStep } from '../kernel/sysctl.js';

/** sysctl key for -w and sysctl.d: an interface name with dots needs the '/' form of the key. */
export const ifaceKey = (ifname: string, leaf: string) => (ifname.includes('.') ? `net/ipv4/conf/${ifname}/${leaf}` : `net.ipv4.conf.${ifname}.${leaf}`);

/** Loose reverse-path filtering (2) where it is strict (rp-filter-strict): conf.all when it is 1 (the
 *  kernel uses max(all, interface)), and each interface whose own value is 1. dropIn: the drop-in's content now. */
export function rpFilterLoosePlan(all: number | undefined, strict: Array<{ ifname: string; own?: number | undefined }>, dropIn: string): FixPlan {
  const values: Record<string, string> = {};
  const steps: FixStep[] = [];
  if (all === 1) {
    values['net.ipv4.conf.all.rp_filter'] = '2';
    steps.push({
      argv: ['sysctl', '-w', 'net.ipv4.conf.all.rp_filter=2'],
      undo: [['sysctl', '-w', 'net.ipv4.conf.all.rp_filter=1']],
      why: 'conf.all is strict, and the kernel uses max(all, interface)',
    });
  }
  for (const s of strict) {
    if (s.own !== 1) continue;
    const key = ifaceKey(s.ifname, 'rp_filter');
    values[key] = '2';
    steps.push({ argv: ['sysctl', '-w', `${key}=2`], undo: [['sysctl', '-w', `${key}=1`]], why: `${s.ifname} is strict` });
  }
  steps.push(sysctlPersistStep(dropIn, values));
  return {
    summary: `loose reverse-path filtering (2) on ${strict.map((s) => s.ifname).join(', ')}`,
    risk: 'safe',
    steps,
    touches: { sysctl: Object.keys(values).map(normaliseKey), files: [SYSCTL_DROP_IN] },
    persistence: { persistent: true, how: `${SYSCTL_DROP_IN} (systemd-sysctl at boot, and udev re-applies per-interface keys when an interface appears)` },
    verifies: ['rp-filter-strict'],
  };
}

/** Where the offload setting would have to go to survive a reboot (the doctor does not write it). */
function lroPersistHow(osRelease: string | undefined, ifname: string): string {
  const fam = detectFamily(osRelease).family;
  const cmd = `ethtool -K ${ifname} gro off lro off`;
  if (fam === 'debian')
    return `not persistent: add "post-up ${cmd}" to the ${ifname} stanza of /etc/network/interfaces (or GenericReceiveOffload=false/LargeReceiveOffload=false in a systemd .link file, or netplan generic-receive-offload: false)`;
  if (fam === 'rhel')
    return `not persistent: nmcli connection modify CONN ethtool.feature-gro off ethtool.feature-lro off (or ETHTOOL_OPTS="-K ${ifname} gro off lro off" in ifcfg-${ifname})`;
  return `not persistent: run "${cmd}" from the interface's configuration at every boot`;
}

/** Turn the changeable receive offloads off (nic-lro-on-forwarder); undefined when the driver fixes them all. */
export function offloadsOffPlan(ifname: string, changeable: Array<'lro' | 'gro'>, osRelease: string | undefined): FixPlan | undefined {
  if (!changeable.length) return undefined;
  return {
    summary: `turn ${changeable.join(' and ')} off on ${ifname}`,
    risk: 'safe',
    steps: [
      {
        argv: ['ethtool', '-K', ifname, ...changeable.flatMap((f) => [f, 'off'])],
        undo: [['ethtool', '-K', ifname, ...changeable.flatMap((f) => [f, 'on'])]],
        why: 'merged receive segments exceed the MTU when forwarded',
      },
    ],
    touches: {},
    persistence: { persistent: false, how: lroPersistHow(osRelease, ifname) },
    verifies: ['nic-lro-on-forwarder'],
  };
}

/** An ARP sysctl of keepalived's VMAC set back to what the VMAC needs (`now`: its value read). */
export interface VmacSysctl {
  key: string;
  now: number;
  set: number;
  why: string;
}

/** Restore the ARP settings keepalived's VMAC needs (vmac-arp-settings): at runtime only, since
 *  keepalived sets them itself each time it creates the interface. */
export function vmacArpPlan(vmac: string, base: string, wrong: VmacSysctl[]): FixPlan {
  return {
    summary: `restore the ARP settings keepalived's VMAC ${vmac} needs (${wrong.map((w) => `${w.key}=${w.set}`).join(', ')})`,
    risk: 'safe',
    steps: wrong.map((w) => ({ argv: ['sysctl', '-w', `${w.key}=${w.set}`], undo: [['sysctl', '-w', `${w.key}=${w.now}`]], why: w.why })),
    touches: { sysctl: wrong.map((w) => w.key) },
    persistence: {
      persistent: false,
      how: `keepalived sets these itself each time it creates ${vmac}; something reset them later (a sysctl --system run or configuration management). Make sure no sysctl file sets them for ${base}, ${vmac} or all.`,
    },
    verifies: ['vmac-arp-settings'],
  };
}

/** Stop IGMP reports for link-local groups, so a backup's VMAC never re-teaches the switch
 *  (vmac-arp-settings, keepalived #882); disable_local_igmp keeps it so. */
export function igmpLinkLocalOffPlan(): FixPlan {
  return {
    summary: 'stop IGMP reports for link-local groups (net.ipv4.igmp_link_local_mcast_reports=0)',
    risk: 'safe',
    steps: [
      {
        argv: ['sysctl', '-w', 'net.ipv4.igmp_link_local_mcast_reports=0'],
        undo: [['sysctl', '-w', 'net.ipv4.igmp_link_local_mcast_reports=1']],
        why: 'no report from the VMAC can re-teach the switch',
      },
    ],
    touches: { sysctl: ['net.ipv4.igmp_link_local_mcast_reports'] },
    persistence: { persistent: false, how: 'add disable_local_igmp to global_defs so keepalived keeps it off whenever it runs' },
    verifies: ['vmac-arp-settings'],
  };
}
