// The lab's shape: node names, addresses and wiring. Everything here is data; harness.ts builds it.
//
//   PFX-cl  eth0 192.168.100.10 ──┐                    ┌── eth0 198.51.100.100  PFX-up
//                                 │   PFX-sw           │   (no route back to the LAN)
//   PFX-gw1 eth0 .2 / eth1 .2  ───┤  bridge "lan"      │
//   PFX-gw2 eth0 .3 / eth1 .3  ───┤  bridge "wan"  ────┤
//   (PFX-gw3 eth0 .4, only in 'third-node-same-vrid')  │
//   VIPs: LAN 192.168.100.1/24 (clients' gateway), WAN 198.51.100.10/24 (SNAT source)

export type GatewayNode = 'gw1' | 'gw2';
/** Every node the lab can hold; gw3 exists only while 'third-node-same-vrid' is applied. */
export type LabNode = 'gw1' | 'gw2' | 'gw3' | 'client' | 'upstream' | 'sw';

export const ADDR = {
  lanNet: '192.168.100.0/24',
  wanNet: '198.51.100.0/24',
  prefixLen: 24,
  /** clients' default gateway (VRRP VI_LAN) */
  lanVip: '192.168.100.1',
  /** SNAT source (VRRP VI_WAN) */
  wanVip: '198.51.100.10',
  vridLan: 51,
  vridWan: 52,
  gw1: { lan: '192.168.100.2', wan: '198.51.100.2' },
  gw2: { lan: '192.168.100.3', wan: '198.51.100.3' },
  gw3: { lan: '192.168.100.4' },
  /** the VIP the third router of 'third-node-same-vrid' holds under VI_LAN's VRID */
  gw3Vip: '192.168.100.250',
  client: '192.168.100.10',
  upstream: '198.51.100.100',
} as const;

/** Namespace suffix of each node: the namespace is `${prefix}${suffix}`. */
export const NODE_SUFFIX: Record<LabNode, string> = {
  gw1: 'gw1',
  gw2: 'gw2',
  gw3: 'gw3',
  client: 'cl',
  upstream: 'up',
  sw: 'sw',
};

/** A prefix per run: `hd` + 6 hex digits + `-`. sweepStaleLabs() matches exactly this shape. */
export const PREFIX_PATTERN = /^(hd[0-9a-f]{6})-/;

export interface Link {
  node: Exclude<LabNode, 'sw'>;
  /** interface name inside the node */
  ifname: string;
  /** veth peer name inside PFX-sw (<= 15 chars, unique in sw) */
  swPort: string;
  bridge: 'lan' | 'wan';
  /** address/prefix on ifname */
  address: string;
}

export const BASE_LINKS: readonly Link[] = [
  { node: 'gw1', ifname: 'eth0', swPort: 'gw1-lan', bridge: 'lan', address: `${ADDR.gw1.lan}/24` },
  { node: 'gw1', ifname: 'eth1', swPort: 'gw1-wan', bridge: 'wan', address: `${ADDR.gw1.wan}/24` },
  { node: 'gw2', ifname: 'eth0', swPort: 'gw2-lan', bridge: 'lan', address: `${ADDR.gw2.lan}/24` },
  { node: 'gw2', ifname: 'eth1', swPort: 'gw2-wan', bridge: 'wan', address: `${ADDR.gw2.wan}/24` },
  { node: 'client', ifname: 'eth0', swPort: 'cl-lan', bridge: 'lan', address: `${ADDR.client}/24` },
  { node: 'upstream', ifname: 'eth0', swPort: 'up-wan', bridge: 'wan', address: `${ADDR.upstream}/24` },
];

export const GW3_LINK: Link = { node: 'gw3', ifname: 'eth0', swPort: 'gw3-lan', bridge: 'lan', address: `${ADDR.gw3.lan}/24` };

/** The argv lists (for `ip`) that wire one link; run in order. */
export function linkCommands(link: Link, ns: (n: LabNode) => string): string[][] {
  const node = ns(link.node);
  const sw = ns('sw');
  return [
    // created inside the namespaces, never in the root namespace
    ['ip', '-n', node, 'link', 'add', link.ifname, 'type', 'veth', 'peer', 'name', link.swPort, 'netns', sw],
    ['ip', '-n', sw, 'link', 'set', link.swPort, 'master', link.bridge, 'up'],
    ['ip', '-n', node, 'addr', 'add', link.address, 'dev', link.ifname],
    ['ip', '-n', node, 'link', 'set', link.ifname, 'up'],
  ];
}
