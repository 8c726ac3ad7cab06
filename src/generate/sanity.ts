// What cannot work in a pair, said before anything is written: a VIP that is a network, broadcast,
// multicast or loopback address; a backup whose priority is at or above the master's; a unicast
// peer on none of this host's subnets with no route to it. Pure: the caller gives the host facts.
import ipaddr from 'ipaddr.js';

/** Why this address/prefix cannot be a VIP, or undefined. */
export function vipProblem(address: string, prefix: number): string | undefined {
  let a: ipaddr.IPv4;
  try {
    a = ipaddr.IPv4.parse(address);
  } catch {
    return `'${address}' is not an IPv4 address`;
  }
  const range = a.range();
  if (range === 'multicast') return `${address} is a multicast address: a VIP must be a unicast host address`;
  if (range === 'loopback') return `${address} is a loopback address: nothing outside the node can reach it`;
  if (range === 'unspecified' || range === 'broadcast') return `${address} cannot be a host address`;
  if (range === 'reserved' && a.octets[0]! >= 240) return `${address} is in the reserved class E range`;
  if (prefix <= 30) {
    const net = ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefix}`).toString();
    const bcast = ipaddr.IPv4.broadcastAddressFromCIDR(`${address}/${prefix}`).toString();
    if (address === net) return `${address} is the network address of ${net}/${prefix}: a VIP must be a host address inside it`;
    if (address === bcast) return `${address} is the broadcast address of ${net}/${prefix}: a VIP must be a host address inside it`;
  }
  return undefined;
}

/** The master must win the election: a backup at or above the master's priority takes the VIP (or both flap). */
export function priorityProblem(role: 'master' | 'backup', priority: number, peerPriority: number): string | undefined {
  if (role === 'backup' && priority >= peerPriority)
    return `a backup priority of ${priority} is at or above the master's ${peerPriority}: the backup would take the VIP; use a lower number`;
  if (role === 'master' && priority <= peerPriority)
    return `a master priority of ${priority} is at or below the backup's ${peerPriority}: the backup would win the election; use a higher number`;
  return undefined;
}

export interface NetworkFacts {
  /** this host's IPv4 networks, CIDR (from its addresses) */
  subnets: string[];
  /** destinations this host has a route for, CIDR ("0.0.0.0/0" for a default route); undefined: not known */
  routes?: string[];
}

const inCidr = (addr: string, cidr: string) => {
  try {
    const [net, len] = ipaddr.parseCIDR(cidr);
    return net.kind() === 'ipv4' && ipaddr.IPv4.parse(addr).match([net as ipaddr.IPv4, len]);
  } catch {
    return false;
  }
};

/** Unicast adverts go to the peer: it must be on a local subnet or have a route. Undefined when fine or when it cannot be judged. */
export function peerReachProblem(peer: string, facts: NetworkFacts | undefined): string | undefined {
  if (!facts || !facts.subnets.length) return undefined;
  if (facts.subnets.some((s) => inCidr(peer, s))) return undefined;
  if (facts.routes === undefined) return undefined;
  if (facts.routes.some((r) => inCidr(peer, r))) return undefined;
  return `${peer} is on none of this host's subnets (${facts.subnets.join(', ')}) and no route leads to it: unicast adverts could not reach the peer`;
}

/** `ip -j route show` (any table) as CIDRs: "default" is 0.0.0.0/0, a bare address is /32. */
export function routesFromIpJson(json: string): string[] {
  try {
    const list = JSON.parse(json) as Array<{ dst?: string; type?: string; table?: string }>;
    return list
      .filter((r) => !r.type || r.type === 'unicast')
      .filter((r) => !r.table || r.table === 'main')
      .map((r) => (r.dst === 'default' ? '0.0.0.0/0' : r.dst && !r.dst.includes('/') ? `${r.dst}/32` : (r.dst ?? '')))
      .filter((d) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(d));
  } catch {
    return [];
  }
}
