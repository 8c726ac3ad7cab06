// What goes into each gateway's /etc/netns/NODE/: keepalived.conf and the notify scripts of the
// cloud HaVip design (unicast VRRP, a sync group holding the LAN and WAN VIPs, SNAT by notify
// script), plus the iptables argv of the SNAT rule set and of the hardened static rules.
import { ADDR, type GatewayNode } from './topology.js';

/** The nat-table rules notify_master adds to POSTROUTING, in order: exclusions first, then SNAT. */
export const SNAT_RULES: readonly (readonly string[])[] = [
  ['-d', '100.64.0.0/10', '-j', 'RETURN'],
  ['-d', '192.168.0.0/16', '-j', 'RETURN'],
  ['-d', '172.16.0.0/12', '-j', 'RETURN'],
  ['-d', '10.0.0.0/8', '-j', 'RETURN'],
  ['-s', ADDR.lanNet, '!', '-p', 'vrrp', '-j', 'SNAT', '--to-source', ADDR.wanVip],
];

/** The seed's too-wide rule: no `! -p vrrp`, no `-o`, so it also catches the node's own LAN adverts. */
export const WIDE_SNAT_RULE: readonly string[] = ['-s', ADDR.lanNet, '-j', 'SNAT', '--to-source', ADDR.wanVip];

/** Static rules of the hardened variant (contract's rules.v4): accept VRRP from the peer, NOTRACK VRRP. */
export function hardenedRules(node: GatewayNode): { table: string; chain: string; rule: string[] }[] {
  const peer = node === 'gw1' ? ADDR.gw2 : ADDR.gw1;
  return [
    { table: 'filter', chain: 'INPUT', rule: ['-s', peer.lan, '-p', 'vrrp', '-j', 'ACCEPT'] },
    { table: 'filter', chain: 'INPUT', rule: ['-s', peer.wan, '-p', 'vrrp', '-j', 'ACCEPT'] },
    { table: 'raw', chain: 'PREROUTING', rule: ['-p', 'vrrp', '-j', 'CT', '--notrack'] },
    { table: 'raw', chain: 'OUTPUT', rule: ['-p', 'vrrp', '-j', 'CT', '--notrack'] },
  ];
}

export interface KeepalivedConfOptions {
  /** VRID of VI_LAN (default 51); the 'vrid-out-of-range' scenario writes 352 */
  vridLan?: number;
  /** drop adverts whose source is not the unicast peer (default true) — makes the peer see a SNATed advert as foreign, as in the seed */
  checkUnicastSrc?: boolean;
}

/** keepalived.conf of gateway gw1 (MASTER, 150) or gw2 (BACKUP, 100). */
export function keepalivedConf(node: GatewayNode, opts: KeepalivedConfOptions = {}): string {
  const self = node === 'gw1' ? ADDR.gw1 : ADDR.gw2;
  const peer = node === 'gw1' ? ADDR.gw2 : ADDR.gw1;
  const state = node === 'gw1' ? 'MASTER' : 'BACKUP';
  const priority = node === 'gw1' ? 150 : 100;
  const checkSrc = (opts.checkUnicastSrc ?? true) ? '    check_unicast_src\n' : '';
  const instance = (name: string, iface: string, vrid: number, src: string, peerIp: string, vip: string, pass: string) => `
vrrp_instance ${name} {
    state ${state}
    interface ${iface}
    virtual_router_id ${vrid}
    priority ${priority}
    advert_int 1
${checkSrc}    unicast_src_ip ${src}
    unicast_peer {
        ${peerIp}
    }
    authentication {
        auth_type PASS
        auth_pass ${pass}
    }
    virtual_ipaddress {
        ${vip}/${ADDR.prefixLen} dev ${iface}
    }
}
`;
  return `# hagw lab: ${node}, unicast VRRP (cloud HaVip design)
global_defs {
    router_id ${node}
    enable_script_security
    script_user root
}

vrrp_sync_group VG_GW {
    group {
        VI_LAN
        VI_WAN
    }
    notify_master /etc/keepalived/scripts/notify_master.sh
    notify_backup /etc/keepalived/scripts/notify_backup.sh
    notify_fault /etc/keepalived/scripts/notify_fault.sh
    notify_stop /etc/keepalived/scripts/notify_stop.sh
}
${instance('VI_LAN', 'eth0', opts.vridLan ?? ADDR.vridLan, self.lan, peer.lan, ADDR.lanVip, 'hagwlan')}${instance('VI_WAN', 'eth1', ADDR.vridWan, self.wan, peer.wan, ADDR.wanVip, 'hagwwan')}`;
}

/** keepalived.conf of the intruder of 'third-node-same-vrid': same VRID as VI_LAN, another VIP, unicast to both gateways. */
export function intruderConf(): string {
  return `# hagw lab: a third router on the LAN reusing VI_LAN's VRID
global_defs {
    router_id gw3
}

vrrp_instance VI_OTHER {
    state MASTER
    interface eth0
    virtual_router_id ${ADDR.vridLan}
    priority 50
    advert_int 1
    unicast_src_ip ${ADDR.gw3.lan}
    unicast_peer {
        ${ADDR.gw1.lan}
        ${ADDR.gw2.lan}
    }
    authentication {
        auth_type PASS
        auth_pass hagwlan
    }
    virtual_ipaddress {
        ${ADDR.gw3Vip}/${ADDR.prefixLen} dev eth0
    }
}
`;
}

export type NotifyKind = 'master' | 'backup' | 'fault' | 'stop';

const shellRule = (r: readonly string[]) => r.join(' ');

/**
 * A notify script. master: forwarding on, then the SNAT rule set appended in order (if any part
 * is missing, whatever part exists is removed first so the exclusions always precede SNAT).
 * backup/fault/stop: remove exactly those rules. Idempotent (every change is checked with -C
 * first), since keepalived may run them at start-up and more than once. The last line records
 * the event in `notifyLog` so the harness can wait for a script to have run.
 */
export function notifyScript(kind: NotifyKind, notifyLog: string): string {
  const rules = SNAT_RULES.map((r) => `    "${shellRule(r)}"`).join(' \\\n');
  const head = `#!/bin/sh
# hagw lab notify_${kind}: ${kind === 'master' ? 'this node owns the VIPs: forward and SNAT the LAN behind the WAN VIP' : 'this node does not own the VIPs: remove the SNAT rules notify_master added'}
# SNAT rules live directly in nat POSTROUTING (no dedicated chain), exclusions before SNAT.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
set -f
remove_all() {
    for r in \\
${rules}; do
        while iptables -w -t nat -C POSTROUTING $r 2>/dev/null; do iptables -w -t nat -D POSTROUTING $r; done
    done
}
`;
  const body =
    kind === 'master'
      ? `sysctl -qw net.ipv4.ip_forward=1
missing=0
for r in \\
${rules}; do
    iptables -w -t nat -C POSTROUTING $r 2>/dev/null || missing=1
done
if [ "$missing" = 1 ]; then
    remove_all
    for r in \\
${rules}; do
        iptables -w -t nat -A POSTROUTING $r
    done
fi
`
      : `remove_all
`;
  return `${head}${body}echo "$(date +%s.%N) ${kind} $*" >> '${notifyLog}'
exit 0
`;
}

/**
 * The default pair as a gateway the doctor should call healthy: keepalivedConf() plus periodic
 * gratuitous ARP (vrrp_garp_master_refresh; without it garp-refresh-missing is a fair warning, and
 * field-config.test.ts shows why on the wire).
 */
export function healthyGatewayConf(node: GatewayNode): string {
  return keepalivedConf(node).replace('    script_user root\n', '    script_user root\n    vrrp_garp_master_refresh 60\n');
}

/** The IPv6 instance withIpv6() adds: its VIP, its link-local VIP and its VRID. */
export const V6_INSTANCE = { vip: '2001:db8:100::1', linkVip: 'fe80::61', vrid: 61 };

/** The lab's config plus an IPv6 instance holding the clients' IPv6 gateway (multicast to ff02::12 from the link-local address, VRRPv3). */
export function withIpv6(gw: 'gw1' | 'gw2'): string {
  const master = gw === 'gw1';
  return `${keepalivedConf(gw)}
vrrp_instance VI_V6 {
    state ${master ? 'MASTER' : 'BACKUP'}
    interface eth0
    virtual_router_id ${V6_INSTANCE.vrid}
    priority ${master ? 150 : 100}
    advert_int 1
    virtual_ipaddress {
        ${V6_INSTANCE.linkVip}/64 dev eth0
        ${V6_INSTANCE.vip}/64 dev eth0
    }
}
`;
}
