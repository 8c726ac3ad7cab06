// The one registry of finding codes (contract.md). A code never changes; wording may.
import type { Severity } from './types.js';

export interface CodeInfo {
  severity: Severity;
  /** what the code means, for --help, docs and the wizard's "why it matters" */
  meaning: string;
}

export const CODES = {
  'ip-forward-off': { severity: 'critical', meaning: 'net.ipv4.ip_forward is 0 on a node that is (or will become) the gateway' },
  'ip-forward-not-persistent': { severity: 'warning', meaning: 'ip_forward is on now, but no sysctl file keeps it on after a reboot' },
  'keepalived-not-installed': { severity: 'critical', meaning: 'keepalived is not installed' },
  'keepalived-not-running': { severity: 'critical', meaning: 'no keepalived process runs in this network namespace' },
  'keepalived-config-invalid': { severity: 'error', meaning: 'keepalived -t or the doctor\'s own parser rejects the config' },
  'vip-state-mismatch': { severity: 'error', meaning: 'the node holds a VIP while BACKUP, or is MASTER without all its VIPs' },
  'vrrp-split-brain': { severity: 'critical', meaning: 'this node is MASTER and another node advertises the same VRID as master' },
  'vrrp-input-blocked': { severity: 'critical', meaning: 'the host firewall drops or never accepts VRRP (protocol 112) from the peer' },
  'vrrp-output-blocked': { severity: 'critical', meaning: 'adverts cannot leave (send advert error, OUTPUT drop)' },
  'vrrp-no-peer-adverts': { severity: 'error', meaning: 'no advert from the configured peer arrives' },
  'vrrp-multicast-in-cloud': { severity: 'warning', meaning: 'multicast VRRP on a cloud VPC where multicast is not delivered' },
  'unicast-peer-invalid': { severity: 'error', meaning: 'unicast_src_ip is not local, a peer is this node, or peers are not mirrored' },
  'notify-script-invalid': { severity: 'error', meaning: 'a notify/track script is missing, not executable, or unsafe for script security' },
  'vrrp-conntrack-nat': { severity: 'critical', meaning: 'a conntrack entry for protocol 112 rewrites the adverts\' addresses' },
  'snat-matches-vrrp': { severity: 'error', meaning: 'a SNAT/MASQUERADE rule can match this node\'s own adverts' },
  'vrrp-notrack-missing': { severity: 'info', meaning: 'VRRP is connection-tracked; a raw-table NOTRACK rule prevents the conntrack class of failures' },
  'snat-on-backup': { severity: 'error', meaning: 'the BACKUP node carries SNAT rules meant for the master' },
  'snat-missing-on-master': { severity: 'critical', meaning: 'the MASTER of a SNAT gateway has no SNAT/MASQUERADE rule for the client networks' },
  'snat-source-not-local': { severity: 'error', meaning: 'SNAT --to-source is an address this node does not hold' },
  'snat-exclusion-order': { severity: 'warning', meaning: 'a RETURN/exclusion for an internal range stands after the SNAT rule it should precede' },
  'firewall-backend-mixed': { severity: 'warning', meaning: 'rules exist in both iptables-legacy and nftables/iptables-nft' },
  'conntrack-table-pressure': { severity: 'warning', meaning: 'nf_conntrack_count near nf_conntrack_max, or "table full" in the kernel log' },
  'rp-filter-strict': { severity: 'warning', meaning: 'strict reverse-path filtering on a forwarding interface' },
  'policy-table-empty': { severity: 'error', meaning: 'an ip rule points at a routing table that holds no route' },
  'policy-table-unnamed': { severity: 'warning', meaning: 'a rule uses a table number rt_tables does not name, or a name with no number' },
  'policy-not-persistent': { severity: 'warning', meaning: 'runtime policy rules/routes that no network config file recreates' },
  'ipvs-realserver-down': { severity: 'error', meaning: 'an IPVS real server has weight 0 or is missing from its virtual service' },
  'ipvs-module-missing': { severity: 'error', meaning: 'the config has virtual_server blocks but IPVS is not available' },
  'nic-lro-on-forwarder': { severity: 'warning', meaning: 'LRO/GRO on an interface that forwards' },
  'vrrp-auth-mismatch': { severity: 'error', meaning: 'the nodes disagree on VRRP authentication' },
  'vrrp-advert-int-mismatch': { severity: 'error', meaning: 'the nodes disagree on advert_int' },
  'vrid-collision': { severity: 'error', meaning: 'another cluster uses the same VRID on this segment' },
  // Added after contract v1's table (additive; see CHANGELOG): detections issue 6 asks for that no v1 code names.
  'lvs-dr-arp': { severity: 'warning', meaning: 'an LVS-DR real server answers or announces ARP for the VIP (arp_ignore < 1 or arp_announce < 2)' },
  'vip-bind-nonlocal': { severity: 'warning', meaning: 'a service listens on a VIP while ip_nonlocal_bind is 0: it cannot (re)start on the BACKUP' },
  'nic-irq-single-cpu': { severity: 'warning', meaning: 'irqbalance is off and every interrupt of a forwarding NIC lands on one CPU' },
  'lvs-nat-local-trap': { severity: 'error', meaning: 'an LVS-NAT real server holds an address in the VIP subnet and answers those clients directly' },
  'vip-stray-local': { severity: 'error', meaning: 'a VRRP VIP sits on a node where keepalived does not run' },
  'vip-mtu-mismatch': { severity: 'warning', meaning: 'the VRRP interfaces of the two nodes carry different MTUs (needs --peer-snapshot)' },
  // Added for the next release (additive to v1, contract.md "Additions"): issues 12 and 14.
  'change-pending-overdue': { severity: 'critical', meaning: 'a commit-confirmed change is past its deadline and was neither confirmed nor rolled back' },
  'vrrp-strict-blocks-vip': { severity: 'critical', meaning: 'vrrp_strict without accept: keepalived\'s own firewall rules drop traffic to the VIP' },
  'vrrp-instance-fault': { severity: 'critical', meaning: 'a VRRP instance is in FAULT (interface down, no address, a tracked interface/script/file down, or dragged by its sync group)' },
  'vrrp-version-mismatch': { severity: 'critical', meaning: 'the peers speak different VRRP versions (v2 and v3)' },
  'keepalived-duplicate': { severity: 'critical', meaning: 'more than one keepalived daemon drives this namespace, or two namespaces drive the same interface and VRID' },
  'vrrp-flapping': { severity: 'warning', meaning: 'VRRP instances change state more often than a healthy pair does' },
  'garp-refresh-missing': { severity: 'warning', meaning: 'no periodic gratuitous ARP on a gateway VIP, so upstream ARP caches can stay stale after a split brain' },
  'vmac-arp-settings': { severity: 'error', meaning: 'use_vmac without the arp_ignore/arp_filter/rp_filter settings it needs, or the hypervisor filters the virtual MAC' },
  'script-runs-differently': { severity: 'error', meaning: 'a track/notify script depends on the environment keepalived does not give it, or times out or overlaps' },
  'nopreempt-ineffective': { severity: 'warning', meaning: 'nopreempt cannot work as written, or track weights are too small to move the VIP' },
  'network-manager-removes-vip': { severity: 'error', meaning: 'the network manager is configured so a reload or restart drops keepalived\'s VIPs' },
  'keepalived-capabilities-missing': { severity: 'critical', meaning: 'keepalived lacks CAP_NET_ADMIN/CAP_NET_RAW (containers), or a stale PID file stops it' },
  'conntrack-sync-missing': { severity: 'warning', meaning: 'a stateful SNAT gateway pair without a working conntrackd: failover drops every connection' },
  'virtual-routes-conflict': { severity: 'error', meaning: 'virtual_routes or default routes fight the static routing or vanish on the backup' },
  'vip-address-invalid': { severity: 'error', meaning: 'a VIP equals a static address, is a network/broadcast address, or has a wrong prefix' },
  'cloud-vip-not-routed': { severity: 'warning', meaning: 'on this cloud or SDN a VIP also needs provider settings (allowed addresses, source/dest check, an API move)' },
} as const satisfies Record<string, CodeInfo>;

export type FindingCode = keyof typeof CODES;

export function isFindingCode(code: string): code is FindingCode {
  return Object.hasOwn(CODES, code);
}

export function defaultSeverity(code: FindingCode): Severity {
  return CODES[code].severity;
}
