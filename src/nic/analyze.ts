// Kernel and NIC settings of forwarding interfaces and LVS real servers. Pure functions.
import ipaddr from 'ipaddr.js';
import { canon } from '../address.js';
import type { ListeningSocket } from './sockets.js';

export interface IfaceSysctls {
  ifname: string;
  up: boolean;
  loopback: boolean;
  rpFilter?: number;
  forwarding?: number;
  arpIgnore?: number;
  arpAnnounce?: number;
}

/** Interfaces that forward: ip_forward on, the interface up and not loopback, and its own
 *  forwarding flag not 0 (when read). */
export function forwardingInterfaces(ipForward: number | undefined, ifaces: IfaceSysctls[]): IfaceSysctls[] {
  if (ipForward !== 1) return [];
  return ifaces.filter((i) => i.up && !i.loopback && i.forwarding !== 0);
}

export interface StrictRpFilter {
  ifname: string;
  own: number | undefined;
  all: number | undefined;
  effective: number;
}

/** The kernel uses max(conf.all.rp_filter, conf.IF.rp_filter); 1 is strict. */
export function strictRpFilter(all: number | undefined, forwarding: IfaceSysctls[]): StrictRpFilter[] {
  return forwarding.map((i) => ({ ifname: i.ifname, own: i.rpFilter, all, effective: Math.max(all ?? 0, i.rpFilter ?? 0) })).filter((r) => r.effective === 1);
}

export interface DrArpProblem {
  ifname: string;
  arpIgnore: number;
  arpAnnounce: number;
  wantIgnore: 1;
  wantAnnounce: 2;
}

/** LVS-DR real servers hold the VIP (usually on lo) and must neither answer ARP for it nor announce
 *  it: effective arp_ignore >= 1 and arp_announce >= 2 (both max(all, IF)) on every interface. */
export function drArpProblems(all: { arpIgnore?: number; arpAnnounce?: number }, ifaces: IfaceSysctls[]): DrArpProblem[] {
  return ifaces
    .filter((i) => i.up && !i.loopback)
    .map((i) => ({
      ifname: i.ifname,
      arpIgnore: Math.max(all.arpIgnore ?? 0, i.arpIgnore ?? 0),
      arpAnnounce: Math.max(all.arpAnnounce ?? 0, i.arpAnnounce ?? 0),
      wantIgnore: 1 as const,
      wantAnnounce: 2 as const,
    }))
    .filter((p) => p.arpIgnore < 1 || p.arpAnnounce < 2);
}

/** Addresses on lo other than 127/8 and ::1: the VIP of an LVS-DR real server. */
export function vipsOnLoopback(addrs: Array<{ ifname: string; address: string; family: string }>, loopbacks: string[]): string[] {
  return addrs
    .filter((a) => loopbacks.includes(a.ifname))
    .filter((a) => {
      try {
        const p = ipaddr.parse(a.address);
        return p.range() !== 'loopback';
      } catch {
        return false;
      }
    })
    .map((a) => a.address);
}

/** Services listening on a VIP: with ip_nonlocal_bind=0 they cannot (re)start while the node is BACKUP. */
export function vipListeners(sockets: ListeningSocket[], vips: string[]): ListeningSocket[] {
  const want = new Set(vips.map(canon));
  return sockets.filter((s) => !s.wildcard && want.has(canon(s.address)));
}

export interface MtuMismatch {
  ifname: string;
  mtu: number;
  peerIfname: string;
  peerMtu: number;
}

/** The VIP interfaces of the two nodes (paired by VRRP instance) must carry the same MTU, or the
 *  path MTU changes with every failover. */
export function mtuMismatches(pairs: Array<{ ifname: string; mtu: number | undefined; peerIfname: string; peerMtu: number | undefined }>): MtuMismatch[] {
  return pairs.filter((p): p is MtuMismatch => p.mtu !== undefined && p.peerMtu !== undefined && p.mtu !== p.peerMtu);
}
