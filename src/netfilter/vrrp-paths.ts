// The paths this node's adverts take, from the keepalived config and the interface addresses:
// which address they leave from (unicast_src_ip, else the interface's primary address), where they
// go (each unicast_peer, else 224.0.0.18) and through which interface.
import type { KeepalivedConfig, ScriptRef } from '../keepalived/model.js';
import type { Packet } from './evaluate.js';

export const VRRP_MULTICAST = '224.0.0.18';
export const VRRP_MULTICAST6 = 'ff02::12';
export const VRRP_PROTO = 112;
export const AH_PROTO = 51;

export interface VrrpPath {
  instance: string;
  iface?: string;
  /** undefined when neither unicast_src_ip nor an address on the interface is known */
  self?: string;
  /** the unicast peers, or [224.0.0.18] */
  peers: string[];
  multicast: boolean;
  vips: string[];
  /** the IP protocol the adverts travel in: 51 (AH) with auth_type AH on VRRPv2, else 112 */
  proto: number;
  /** ip (IPv4 adverts) or ip6 (an IPv6 instance: VRRPv3 to ff02::12 from the link-local address) */
  family: 'ip' | 'ip6';
}

/** The VRRP version an instance speaks: its own, else vrrp_version, else 2; IPv6 is always 3. */
export function effectiveVersion(config: KeepalivedConfig, vi: KeepalivedConfig['vrrpInstances'][number]): 2 | 3 {
  if (instanceFamily(vi) === 'ip6') return 3;
  return vi.version ?? config.globalDefs.vrrpVersion ?? 2;
}

/** An instance is IPv6 when its first VIP (keepalived decides by it), else its unicast addresses, are IPv6. */
export function instanceFamily(vi: KeepalivedConfig['vrrpInstances'][number]): 'ip' | 'ip6' {
  const first = vi.virtualIpaddresses[0]?.address ?? vi.unicastSrcIp ?? vi.unicastPeers[0]?.address ?? '';
  return first.includes(':') ? 'ip6' : 'ip';
}

/** Whether strict mode is in force for an instance (vrrp_strict, or its own strict_mode). */
export function strictFor(config: KeepalivedConfig, vi: KeepalivedConfig['vrrpInstances'][number]): boolean {
  return vi.strictMode ?? config.globalDefs.vrrpStrict;
}

/** The IP protocol of an instance's adverts: AH (51) wraps VRRPv2 adverts with auth_type AH
 *  (strict mode and VRRPv3 ignore authentication), else VRRP (112). */
export function advertProto(config: KeepalivedConfig, vi: KeepalivedConfig['vrrpInstances'][number]): number {
  const ah = vi.authentication?.type?.toUpperCase() === 'AH';
  return ah && effectiveVersion(config, vi) === 2 && !strictFor(config, vi) ? AH_PROTO : VRRP_PROTO;
}

export interface IfaceAddress {
  ifname: string;
  address: string;
  prefix: number;
  family: 'inet' | 'inet6';
}

export function vrrpPaths(config: KeepalivedConfig, addresses: readonly IfaceAddress[]): VrrpPath[] {
  return config.vrrpInstances.map((vi) => {
    const vips = vi.virtualIpaddresses.map((v) => v.address);
    const family = instanceFamily(vi);
    // IPv4: the interface's primary address (the first listed that is not a VIP); IPv6: its link-local address
    const onIface = addresses.filter(
      (a) =>
        a.ifname === (vi.interface ?? config.globalDefs.defaultInterface) &&
        !vips.includes(a.address) &&
        (family === 'ip' ? a.family === 'inet' : a.family === 'inet6' && /^fe80:/i.test(a.address)),
    );
    const self = vi.unicastSrcIp ?? vi.mcastSrcIp ?? onIface[0]?.address;
    const unicast = vi.unicastPeers.map((p) => p.address);
    const group = family === 'ip6' ? VRRP_MULTICAST6 : VRRP_MULTICAST;
    const path: VrrpPath = {
      instance: vi.name,
      peers: unicast.length ? unicast : [group],
      multicast: unicast.length === 0,
      vips,
      proto: advertProto(config, vi),
      family,
    };
    if (vi.interface) path.iface = vi.interface;
    if (self) path.self = self;
    return path;
  });
}

/** Every notify script the config names (instances and sync groups), with the state it runs for. */
export function notifyScripts(config: KeepalivedConfig): Array<{ owner: string; kind: string; script: ScriptRef }> {
  const out: Array<{ owner: string; kind: string; script: ScriptRef }> = [];
  for (const owner of [...config.vrrpInstances, ...config.vrrpSyncGroups]) {
    for (const [kind, script] of Object.entries(owner.notify)) {
      if (script) out.push({ owner: owner.name, kind, script });
    }
  }
  return out;
}

/** The packet of one advert leaving this node. */
export function advertOut(p: VrrpPath, peer: string, state?: string): Packet {
  return {
    proto: p.proto,
    family: p.family,
    ...(p.self ? { src: p.self } : {}),
    dst: peer,
    ...(p.iface ? { outIface: p.iface } : {}),
    ...(state ? { state } : {}),
  };
}

/** The packet of one advert from the peer arriving here (multicast: the sender's address is not known). */
export function advertIn(p: VrrpPath, peer: string, state?: string): Packet {
  const multicast = isGroup(peer);
  return {
    proto: p.proto,
    family: p.family,
    ...(multicast ? {} : { src: peer }),
    dst: multicast ? peer : (p.self ?? ''),
    ...(p.iface ? { inIface: p.iface } : {}),
    ...(state ? { state } : {}),
  };
}

export const isGroup = (a: string) => a === VRRP_MULTICAST || a === VRRP_MULTICAST6;
