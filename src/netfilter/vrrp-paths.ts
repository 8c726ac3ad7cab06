// The paths this node's adverts take, from the keepalived config and the interface addresses:
// which address they leave from (unicast_src_ip, else the interface's primary address), where they
// go (each unicast_peer, else 224.0.0.18) and through which interface.
import type { KeepalivedConfig, ScriptRef } from '../keepalived/model.js';

export const VRRP_MULTICAST = '224.0.0.18';
export const VRRP_PROTO = 112;

export interface VrrpPath {
  instance: string;
  iface?: string;
  /** undefined when neither unicast_src_ip nor an address on the interface is known */
  self?: string;
  /** the unicast peers, or [224.0.0.18] */
  peers: string[];
  multicast: boolean;
  vips: string[];
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
    const onIface = addresses.filter((a) => a.ifname === vi.interface && a.family === 'inet' && !vips.includes(a.address));
    // keepalived uses the interface's primary address: the first listed that is not a VIP
    const self = vi.unicastSrcIp ?? vi.mcastSrcIp ?? onIface[0]?.address;
    const unicast = vi.unicastPeers.map((p) => p.address);
    const path: VrrpPath = { instance: vi.name, peers: unicast.length ? unicast : [VRRP_MULTICAST], multicast: unicast.length === 0, vips };
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
