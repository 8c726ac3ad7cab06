// The local table (rule 0) always wins: an address a host holds is answered locally, whatever the
// policy rules say.
import ipaddr from 'ipaddr.js';
import { canon } from '../address.js';
import type { IpRoute } from './iproute.js';

export interface LocalAddr {
  ifname: string;
  address: string;
  prefix: number;
  family: string;
}

/** VIPs present as `local` routes in the local table, with the interface holding them (lo excluded:
 *  the LVS-DR real server's VIP on lo is intended). */
export function vipsInLocalTable(routes: IpRoute[], vips: string[], loopbacks: string[]): Array<{ vip: string; route: IpRoute }> {
  const want = new Set(vips.map(canon));
  return routes
    .filter((r) => r.table === 'local' && r.type === 'local' && want.has(canon(r.dst.replace(/\/(32|128)$/, ''))) && !loopbacks.includes(r.dev ?? ''))
    .map((route) => ({ vip: canon(route.dst.replace(/\/(32|128)$/, '')), route }));
}

export interface LocalTrap {
  realServer: string;
  address: LocalAddr;
  vip: { address: string; prefix: number };
}

/**
 * LVS-NAT real server holding a public address in the VIP's subnet (seed): clients in that subnet
 * are reached by the connected route (and the host's own addresses by the local table), so the
 * reply leaves directly with the real server's source and never passes the director's NAT.
 */
export function localTableTraps(local: LocalAddr[], realServers: string[], vips: Array<{ address: string; prefix: number }>): LocalTrap[] {
  const rips = new Set(realServers.map(canon));
  const isRealServer = local.find((a) => rips.has(canon(a.address)));
  if (!isRealServer) return [];
  const out: LocalTrap[] = [];
  for (const vip of vips) {
    let v: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      v = ipaddr.parse(vip.address);
    } catch {
      continue;
    }
    // a /32 VIP has no subnet to share
    if (vip.prefix >= (v.kind() === 'ipv4' ? 32 : 128)) continue;
    for (const a of local) {
      if (rips.has(canon(a.address)) || canon(a.address) === canon(vip.address)) continue;
      try {
        const p = ipaddr.parse(a.address);
        if (p.kind() === v.kind() && !['loopback', 'linkLocal', 'multicast', 'unspecified', 'broadcast'].includes(p.range()) && p.match(v, vip.prefix))
          out.push({ realServer: isRealServer.address, address: a, vip });
      } catch {
        continue;
      }
    }
  }
  return out;
}
