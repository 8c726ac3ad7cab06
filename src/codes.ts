// The one registry of finding codes (contract.md). A code never changes; wording may.
import type { Severity } from './types.js';
import { SYSCTL_DROP_IN } from './kernel/sysctl.js';

export interface CodeInfo {
  severity: Severity;
  /** what the code means, for --help, docs and the wizard's "why it matters" */
  meaning: string;
  /** how the doctor detects it (CODE_TEXT below) */
  detection: string;
  /** what fixes it, and whether `hagw-doctor fix` can (CODE_TEXT below) */
  fix: string;
}

export const CODES = {
  'ip-forward-off': { severity: 'critical', meaning: 'net.ipv4.ip_forward is 0 on a node that is (or will become) the gateway' },
  'ip-forward-not-persistent': { severity: 'warning', meaning: 'ip_forward is on now, but no sysctl file keeps it on after a reboot' },
  'keepalived-not-installed': { severity: 'critical', meaning: 'keepalived is not installed' },
  'keepalived-not-running': { severity: 'critical', meaning: 'no keepalived process runs in this network namespace' },
  'keepalived-config-invalid': { severity: 'error', meaning: "keepalived -t or the doctor's own parser rejects the config" },
  'vip-state-mismatch': { severity: 'error', meaning: 'the node holds a VIP while BACKUP, or is MASTER without all its VIPs' },
  'vrrp-split-brain': { severity: 'critical', meaning: 'this node is MASTER and another node advertises the same VRID as master' },
  'vrrp-input-blocked': { severity: 'critical', meaning: 'the host firewall drops or never accepts VRRP (protocol 112) from the peer' },
  'vrrp-output-blocked': { severity: 'critical', meaning: 'adverts cannot leave (send advert error, OUTPUT drop)' },
  'vrrp-no-peer-adverts': { severity: 'error', meaning: 'no advert from the configured peer arrives' },
  'vrrp-multicast-in-cloud': { severity: 'warning', meaning: 'multicast VRRP on a cloud VPC where multicast is not delivered' },
  'unicast-peer-invalid': { severity: 'error', meaning: 'unicast_src_ip is not local, a peer is this node, or peers are not mirrored' },
  'notify-script-invalid': { severity: 'error', meaning: 'a notify/track script is missing, not executable, or unsafe for script security' },
  'vrrp-conntrack-nat': { severity: 'critical', meaning: "a conntrack entry for protocol 112 rewrites the adverts' addresses" },
  'snat-matches-vrrp': { severity: 'error', meaning: "a SNAT/MASQUERADE rule can match this node's own adverts" },
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
  'vrrp-strict-blocks-vip': { severity: 'critical', meaning: "vrrp_strict without accept: keepalived's own firewall rules drop traffic to the VIP" },
  'vrrp-instance-fault': {
    severity: 'critical',
    meaning: 'a VRRP instance is in FAULT (interface down, no address, a tracked interface/script/file down, or dragged by its sync group)',
  },
  'vrrp-version-mismatch': { severity: 'critical', meaning: 'the peers speak different VRRP versions (v2 and v3)' },
  'keepalived-duplicate': {
    severity: 'critical',
    meaning: 'more than one keepalived daemon drives this namespace, or two namespaces drive the same interface and VRID',
  },
  'vrrp-flapping': { severity: 'warning', meaning: 'VRRP instances change state more often than a healthy pair does' },
  'garp-refresh-missing': {
    severity: 'warning',
    meaning: 'no periodic gratuitous ARP on a gateway VIP, so upstream ARP caches can stay stale after a split brain',
  },
  'vmac-arp-settings': {
    severity: 'error',
    meaning: 'use_vmac without the arp_ignore/arp_filter/rp_filter settings it needs, or the hypervisor filters the virtual MAC',
  },
  'script-runs-differently': {
    severity: 'error',
    meaning: 'a track/notify script depends on the environment keepalived does not give it, or times out or overlaps',
  },
  'nopreempt-ineffective': { severity: 'warning', meaning: 'nopreempt cannot work as written, or track weights are too small to move the VIP' },
  'network-manager-removes-vip': { severity: 'error', meaning: "the network manager is configured so a reload or restart drops keepalived's VIPs" },
  'keepalived-capabilities-missing': { severity: 'critical', meaning: 'keepalived lacks CAP_NET_ADMIN/CAP_NET_RAW (containers), or a stale PID file stops it' },
  'conntrack-sync-missing': { severity: 'warning', meaning: 'a stateful SNAT gateway pair without a working conntrackd: failover drops every connection' },
  'virtual-routes-conflict': { severity: 'error', meaning: 'virtual_routes or default routes fight the static routing or vanish on the backup' },
  'vip-address-invalid': { severity: 'error', meaning: 'a VIP equals a static address, is a network/broadcast address, or has a wrong prefix' },
  'ipv6-forward-off': {
    severity: 'critical',
    meaning: 'net.ipv6.conf.all.forwarding is 0 on a gateway that routes IPv4 and holds (or will hold) IPv6 VIPs',
  },
  'lvs-director-loop': {
    severity: 'warning',
    meaning: 'an LVS director is a real server of its own DR/TUN service without a fwmark service: the directors can forward requests to each other',
  },
  'lvs-snat-conntrack-off': {
    severity: 'error',
    meaning: 'a SNAT rule written for the real servers never applies to IPVS traffic because net.ipv4.vs.conntrack is 0',
  },
  'ipv6-dad-failed': {
    severity: 'error',
    meaning:
      'an IPv6 address keepalived relies on (a VIP, a VMAC link-local, an address on a VRRP interface) failed duplicate address detection, so the kernel does not use it',
  },
  'cloud-vip-not-routed': {
    severity: 'warning',
    meaning: 'on this cloud or SDN a VIP also needs provider settings (allowed addresses, source/dest check, an API move)',
  },
} as const satisfies Record<string, Omit<CodeInfo, 'detection' | 'fix'>>;

export type FindingCode = keyof typeof CODES;

export function isFindingCode(code: string): code is FindingCode {
  return Object.hasOwn(CODES, code);
}

export function defaultSeverity(code: FindingCode): Severity {
  return CODES[code].severity;
}

/** Everything the registry says about a code: meaning, severity, detection, fix. */
export function codeInfo(code: FindingCode): CodeInfo {
  return { ...CODES[code], ...CODE_TEXT[code] };
}

export const ALL_CODES = Object.keys(CODES) as FindingCode[];

/** How each code is detected and what fixes it: `hagw-doctor explain CODE`, `hagw-doctor codes`, docs/codes.md. */
export const CODE_TEXT = {
  'ip-forward-off': {
    detection: 'reads /proc/sys/net/ipv4/ip_forward on a node that is MASTER (or configured to become it) of a gateway (SNAT or LVS-NAT) pair',
    fix: '`hagw-doctor fix ip-forward-off`: sysctl -w net.ipv4.ip_forward=1 now, and a file in /etc/sysctl.d so it stays on after a reboot (or turn it on in notify_master)',
  },
  'ip-forward-not-persistent': {
    detection:
      'ip_forward is 1 at runtime, but no file in /etc/sysctl.conf, /etc/sysctl.d, /run/sysctl.d or /usr/lib/sysctl.d sets it, and no notify_master script turns it on',
    fix: `\`hagw-doctor fix ip-forward-not-persistent\` writes net.ipv4.ip_forward = 1 to ${SYSCTL_DROP_IN}`,
  },
  'keepalived-not-installed': {
    detection: 'no keepalived binary on PATH (or in /usr/sbin) and no keepalived process',
    fix: 'install the distribution package (apt-get install keepalived / dnf install keepalived); `hagw-doctor generate` writes a config for it',
  },
  'keepalived-not-running': {
    detection: 'no keepalived process whose network namespace is this one (/proc/PID/ns/net compared with ours)',
    fix: 'start it (systemctl start keepalived) after `keepalived -t` accepts the config; read its log for why it stopped',
  },
  'keepalived-config-invalid': {
    detection:
      "`keepalived -t -f CONFIG` exits non-zero or prints errors, or the doctor's parser finds a setting keepalived silently ignores or misreads (out-of-range VRID, unknown keyword, unbalanced braces)",
    fix: 'correct the line named in the finding (FILE:LINE), check with `keepalived -t -f FILE`, then reload keepalived',
  },
  'vip-state-mismatch': {
    detection: "compares each instance's state (keepalived's log, its data dump, else VIP presence) with the VIPs this node holds (`ip -j addr`)",
    fix: 'find why keepalived and the kernel disagree: an address added or removed by hand, a network manager reload, a failed notify script; restarting keepalived re-applies its VIPs',
  },
  'vrrp-split-brain': {
    detection:
      "this node is MASTER and the wire (`--wire`, tcpdump before netfilter) or keepalived's log shows another node advertising the same VRID as master at the same time",
    fix: "restore the adverts' path between the nodes (firewall, security group, conntrack NAT, SNAT of VRRP); the finding names the cause found with it",
  },
  'vrrp-input-blocked': {
    detection:
      'the host firewall (iptables filter INPUT, or nftables input hooks) is evaluated for a VRRP packet from each configured peer: a DROP/REJECT or a policy drop without an ACCEPT for protocol 112; with --wire, adverts seen on the wire that keepalived never logs',
    fix: '`hagw-doctor fix vrrp-input-blocked` inserts `-A INPUT -p vrrp -s PEER -j ACCEPT` before the rule that drops it (and saves it where the rules are persisted)',
  },
  'vrrp-output-blocked': {
    detection: 'keepalived logs "send advert error" / "Cant send advert", or the OUTPUT chain drops protocol 112 to the peers',
    fix: 'accept VRRP in OUTPUT (`-A OUTPUT -p vrrp -j ACCEPT`) and make sure the interface and its address are up',
  },
  'vrrp-no-peer-adverts': {
    detection: 'with --wire: no advert from a configured unicast peer (or anyone, for multicast) within 3 advert intervals, while this node expects a master',
    fix: 'check the peer is running keepalived, and the path between: security groups, host firewalls on both sides, the unicast_peer addresses',
  },
  'vrrp-multicast-in-cloud': {
    detection: 'an instance without unicast_peer on a host whose DMI/metadata says it is a cloud instance (AWS, GCP, Azure, Alibaba, OpenStack...)',
    fix: 'use unicast: unicast_src_ip (this node) and unicast_peer { OTHER } in every instance, mirrored on the peer',
  },
  'unicast-peer-invalid': {
    detection:
      "unicast_src_ip is not an address of this node, a unicast_peer is this node itself, or (with --peer-config/--peer-snapshot) the two nodes' peers are not each other",
    fix: "set unicast_src_ip to this node's address on the VRRP interface and unicast_peer to the other node's, the mirror image on the peer",
  },
  'notify-script-invalid': {
    detection:
      'each notify/track script the config names is looked at: missing, not executable, writable by a non-root user or in a non-root-owned directory (script security), or keepalived logs it refused to run it',
    fix: 'create the script, chmod 0755, owned by root in root-owned directories; set enable_script_security and script_user root in global_defs',
  },
  'vrrp-conntrack-nat': {
    detection: '`conntrack -L -p 112`: a VRRP entry whose reply addresses differ from the original (a NAT binding) — the adverts leave with a rewritten source',
    fix: '`hagw-doctor fix vrrp-conntrack-nat`: exclude VRRP from SNAT (`! -p vrrp`), add a raw-table NOTRACK for protocol 112, then delete the stale entries (`conntrack -D -p 112`)',
  },
  'snat-matches-vrrp': {
    detection:
      "every SNAT/MASQUERADE rule in nat POSTROUTING is evaluated for this node's own adverts (protocol 112, from unicast_src_ip to each peer, out of the VRRP interface): a rule that matches rewrites them",
    fix: '`hagw-doctor fix snat-matches-vrrp` inserts a RETURN for VRRP (or `! -p vrrp` on the rule) before the SNAT rule',
  },
  'vrrp-notrack-missing': {
    detection: 'no raw-table NOTRACK (or nft notrack) rule for protocol 112 in PREROUTING and OUTPUT',
    fix: '`hagw-doctor fix vrrp-notrack-missing` adds `-t raw -A PREROUTING -p vrrp -j NOTRACK` and the same in OUTPUT',
  },
  'snat-on-backup': {
    detection:
      'the node is BACKUP of every instance and nat POSTROUTING holds SNAT/MASQUERADE rules for the client networks (the design has notify_master add them and notify_backup remove them)',
    fix: 'let notify_backup remove the SNAT rules (the fix removes them now); never keep them in the boot-time rules of a backup',
  },
  'snat-missing-on-master': {
    detection: 'the node is MASTER of a SNAT gateway (notify scripts or the config name SNAT) and no SNAT/MASQUERADE rule covers the client networks',
    fix: "run the notify_master script again or add the SNAT rule it should have added; check why notify_master failed in keepalived's log",
  },
  'snat-source-not-local': {
    detection: "a SNAT rule's --to-source is not an address of this node (`ip -j addr`)",
    fix: 'point --to-source at the WAN VIP (held by the master) or an address of this node; add SNAT only in notify_master, once the VIP is held',
  },
  'snat-exclusion-order': {
    detection: 'in nat POSTROUTING, a RETURN/ACCEPT for an internal range stands after the SNAT rule that already matched those packets',
    fix: 'move the exclusions (RETURN for the internal ranges, `! -p vrrp`) above the SNAT rule: exclusions first',
  },
  'firewall-backend-mixed': {
    detection: 'iptables-legacy-save and nft list ruleset both hold rules (two firewalls evaluate every packet)',
    fix: 'pick one backend: migrate the legacy rules (iptables-legacy-save | iptables-nft-restore) and flush the other',
  },
  'conntrack-table-pressure': {
    detection: 'nf_conntrack_count above 80% of nf_conntrack_max, or "nf_conntrack: table full, dropping packet" in the kernel log',
    fix: 'raise net.netfilter.nf_conntrack_max (and the hash size), shorten the timeouts for the dominant protocol, NOTRACK traffic that needs no state',
  },
  'rp-filter-strict': {
    detection: 'net.ipv4.conf.{all,IF}.rp_filter is 1 (strict) on an interface that forwards traffic of an asymmetric path (policy routing, LVS)',
    fix: 'set rp_filter to 2 (loose) on those interfaces, persistently in /etc/sysctl.d',
  },
  'policy-table-empty': {
    detection: '`ip rule` points at a table and `ip route show table N` holds no route',
    fix: "add the table's routes (`ip route add default via GW table N`) and persist them with the interface config",
  },
  'policy-table-unnamed': {
    detection: 'an ip rule uses a table number that /etc/iproute2/rt_tables (and rt_tables.d) does not name, or a name with no number',
    fix: 'add "N name" to /etc/iproute2/rt_tables (or rt_tables.d/NAME.conf)',
  },
  'policy-not-persistent': {
    detection: 'runtime ip rules/routes in non-main tables that no network config file (ifupdown, netplan, NetworkManager, networkd) recreates at boot',
    fix: 'write them into the interface configuration (post-up lines, routing-policy in netplan) so a reboot keeps them',
  },
  'ipvs-realserver-down': {
    detection: '`ipvsadm -Ln`: a real server of the config with weight 0 or missing from its virtual service (its health check failed)',
    fix: 'look at the real server and its health check (the keepalived log says which check failed); the weight returns when the check passes',
  },
  'ipvs-module-missing': {
    detection: 'the config has virtual_server blocks and /proc/net/ip_vs is absent (ip_vs not loaded, or not built), or the dsnat service needs a patched IPVS',
    fix: 'modprobe ip_vs (and the scheduler module), persist it in /etc/modules-load.d',
  },
  'nic-lro-on-forwarder': {
    detection: '`ethtool -k IF`: large-receive-offload (or generic-receive-offload where it breaks LVS) is on for an interface that forwards',
    fix: '`ethtool -K IF lro off gro off`, persisted with the interface config',
  },
  'vrrp-auth-mismatch': {
    detection:
      'with --peer-config/--peer-snapshot, the two configs differ in auth_type or auth_pass for an instance; or keepalived logs "invalid passwd"/auth errors',
    fix: 'use the same authentication block on both nodes (or none: VRRPv3 has no authentication)',
  },
  'vrrp-advert-int-mismatch': {
    detection: 'the two configs (or the log\'s "advertisement interval mismatch") disagree on advert_int for an instance',
    fix: 'set the same advert_int on both nodes',
  },
  'vrid-collision': {
    detection:
      "with --wire: adverts with this instance's VRID from an address that is neither node, carrying other VIPs; or keepalived logs VRID/VIP mismatches",
    fix: 'give this pair a VRID no other router on the segment uses (both nodes, the same value)',
  },
  'lvs-dr-arp': {
    detection: 'a host holding an LVS-DR VIP on lo (a real server) with arp_ignore < 1 or arp_announce < 2',
    fix: "sysctl net.ipv4.conf.all.arp_ignore=1 and arp_announce=2 (and on the VIP's interface), persisted in /etc/sysctl.d",
  },
  'vip-bind-nonlocal': {
    detection: 'a listening socket (`ss -ltn`) bound to a VIP while net.ipv4.ip_nonlocal_bind is 0',
    fix: 'sysctl net.ipv4.ip_nonlocal_bind=1, persisted, so the service starts on the node that does not hold the VIP',
  },
  'nic-irq-single-cpu': {
    detection: '/proc/interrupts: every interrupt of a forwarding NIC lands on one CPU and irqbalance is not running',
    fix: "start irqbalance, or spread the queues' smp_affinity over the CPUs",
  },
  'lvs-nat-local-trap': {
    detection: "an LVS-NAT real server holds an address in the VIP's client subnet, so it answers those clients directly instead of through the director",
    fix: 'remove that address, or route the replies through the director with a policy rule',
  },
  'vip-stray-local': {
    detection: "an address from the config's virtual_ipaddress is on an interface while no keepalived runs in this namespace",
    fix: 'remove the address (`ip addr del VIP dev IF`), or start keepalived so it manages it',
  },
  'vip-mtu-mismatch': {
    detection: "with --peer-snapshot: the VRRP interface's MTU differs between the nodes",
    fix: "set the same MTU on both nodes' VRRP interfaces, persisted in the interface config",
  },
  'change-pending-overdue': {
    detection: "a change in the change engine's state directory is pending (commit-confirmed) past its deadline: its rollback timer did not run",
    fix: '`hagw-doctor confirm` to keep it, or `hagw-doctor undo ID` to roll it back now',
  },
  'vrrp-strict-blocks-vip': {
    detection: 'global_defs has vrrp_strict and the instances lack `accept`, so keepalived installs rules that drop traffic addressed to the VIPs',
    fix: 'remove vrrp_strict (it is for RFC conformance tests) or add `accept` to each instance, then restart keepalived',
  },
  'vrrp-instance-fault': {
    detection:
      'an instance is in FAULT (log, data dump): its interface is down or has no address, a tracked interface/script/file is down, or its sync group drags it',
    fix: 'the finding names the cause keepalived logged: bring the interface up, repair the track script, or fix the sync group member',
  },
  'vrrp-version-mismatch': {
    detection: 'the configs (vrrp_version) or the adverts on the wire show VRRPv2 on one node and VRRPv3 on the other',
    fix: "set the same vrrp_version in both nodes' global_defs (or per instance)",
  },
  'keepalived-duplicate': {
    detection: "more than one parent keepalived process in this network namespace, or two namespaces' keepalived drive the same interface and VRID",
    fix: 'stop the extra daemon (the one not started by the service manager), and keep one keepalived per namespace',
  },
  'vrrp-flapping': {
    detection: "keepalived's log shows an instance changing state 4 times or more within 10 minutes",
    fix: 'find the repeated cause in `hagw-doctor timeline` (lost adverts, a flapping track script, an interface going down) and fix that',
  },
  'garp-refresh-missing': {
    detection: 'a gateway instance without garp_master_refresh (or vrrp_garp_master_refresh), so no periodic gratuitous ARP',
    fix: 'add `garp_master_refresh 60` (and garp_master_refresh_repeat) to the instance',
  },
  'vmac-arp-settings': {
    detection:
      'use_vmac without arp_ignore=1, arp_filter=1 and a loose rp_filter on the parent, or adverts sent but the virtual MAC never seen (the hypervisor filters it)',
    fix: "set the sysctls keepalived's use_vmac documentation lists, or drop use_vmac on clouds that filter MACs",
  },
  'script-runs-differently': {
    detection:
      'a track/notify script relies on PATH, a login environment, or a terminal keepalived does not give it, or the log shows it timing out or overlapping',
    fix: "use absolute paths in the script, set a timeout and fall in the script's budget, make it idempotent",
  },
  'nopreempt-ineffective': {
    detection:
      'nopreempt on an instance with state MASTER (keepalived requires state BACKUP), or track weights smaller than the priority gap between the nodes',
    fix: 'set state BACKUP on both nodes with nopreempt, or size the weights so a failing track moves the VIP',
  },
  'network-manager-removes-vip': {
    detection: 'NetworkManager or systemd-networkd manages the VRRP interface without keeping foreign addresses (KeepConfiguration, foreign routes)',
    fix: "mark the interface unmanaged, or set KeepConfiguration=static / ManageForeignRoutes=no so a reload keeps keepalived's VIPs",
  },
  'keepalived-capabilities-missing': {
    detection: 'the keepalived process lacks CAP_NET_ADMIN or CAP_NET_RAW (/proc/PID/status CapEff), or a stale PID file names a dead process',
    fix: 'run keepalived with NET_ADMIN and NET_RAW (container: --cap-add), remove the stale PID file',
  },
  'conntrack-sync-missing': {
    detection: 'a stateful SNAT gateway pair (conntrack in use for forwarded traffic) without a running conntrackd or a conntrackd config',
    fix: 'set up conntrackd (FTFW) between the nodes and call it from the notify scripts (primary-backup.sh)',
  },
  'virtual-routes-conflict': {
    detection: 'virtual_routes overlap static routes or the default route, or are missing on the backup where other traffic needs them',
    fix: 'keep only the routes that must follow the VIP in virtual_routes; static routes stay in the interface config',
  },
  'vip-address-invalid': {
    detection:
      "a virtual_ipaddress equals a static address of a node, is the network or broadcast address of its prefix, or has a prefix other than the interface's",
    fix: "choose a free host address in the interface's subnet, with the interface's prefix",
  },
  'ipv6-forward-off': {
    detection:
      'reads /proc/sys/net/ipv6/conf/all/forwarding on a node whose keepalived config has global IPv6 VIPs and that forwards IPv4 (or SNATs); a BACKUP whose notify_master turns IPv6 forwarding on is fine',
    fix: 'sysctl -w net.ipv6.conf.all.forwarding=1 and a file in /etc/sysctl.d (or in notify_master); first set accept_ra = 2 on interfaces that take their addresses or default route from router advertisements. Not applied by `hagw-doctor fix`: forwarding makes the kernel ignore RAs',
  },
  'lvs-director-loop': {
    detection:
      'keepalived.conf: a virtual_server with lb_kind DR or TUN (not fwmark-based) whose real servers include an address of this node and another host; keepalived loads it on both directors',
    fix: 'a fwmark virtual_server whose mangle-table mark skips packets from the other director (`-m mac ! --mac-source`), or the directors out of their own real-server list; not applied by `hagw-doctor fix`',
  },
  'lvs-snat-conntrack-off': {
    detection:
      'a SNAT/MASQUERADE rule in a POSTROUTING chain whose destination match covers a real server of a keepalived virtual_server, while /proc/sys/net/ipv4/vs/conntrack is 0 (a general MASQUERADE without a destination is not counted)',
    fix: 'sysctl -w net.ipv4.vs.conntrack=1 and in /etc/sysctl.d (or notify_master, since the key exists once ip_vs is loaded), on both directors; size nf_conntrack_max for it. Not applied by `hagw-doctor fix`',
  },
  'ipv6-dad-failed': {
    detection:
      'ip -j addr: an IPv6 address flagged "dadfailed" on a VRRP interface or a VMAC interface (MAC 00:00:5e:00:0[12]:xx): a VIP, a link-local address that is the same on both nodes, or an address another host on the link already uses',
    fix: 'remove the duplicate (a static copy of the VIP elsewhere; another host using the address; the kernel-derived link-local on VMAC interfaces: addr_gen_mode 1), then re-add the address (keepalived does on a reload)',
  },
  'cloud-vip-not-routed': {
    detection:
      'a VIP on a cloud or SDN instance (DMI, metadata) where a VIP also needs provider settings: allowed address pairs, source/dest check off, an API call to move it',
    fix: 'configure the provider side (HaVip, allowed-address-pairs, secondary IP moved by notify_master) as its documentation says',
  },
} as const satisfies Record<FindingCode, { detection: string; fix: string }>;
