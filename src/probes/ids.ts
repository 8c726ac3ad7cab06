// The probe registry: every probe id, by area. Providers collect under these ids and checks read
// them through CheckContext by symbol. A ProbeId is branded: a string literal is not one, so a
// mistyped id or a loose 'iptables-save' in a check is a compile error, never a silent "skip".
// Ids that name a file, an interface or a key are built by the typed builders below.
// Pure: no I/O, importable by checks.

declare const probeIdBrand: unique symbol;
/** A probe id: one of this module's constants or the result of one of its builders. */
export type ProbeId = string & { readonly [probeIdBrand]: 'ProbeId' };

const id = (s: string): ProbeId => s as ProbeId;

/** The id of a record read back from a snapshot (JSON has no brands): for code that walks all records. */
export const recordId = (s: string): ProbeId => id(s);

// ---------------------------------------------------------------- generic builders

/** file:PATH, a file read whole (or its tail) */
export const fileProbeId = (path: string): ProbeId => id(`file:${path}`);
/** dir:PATH, a directory listing (JSON array of names) */
export const dirProbeId = (path: string): ProbeId => id(`dir:${path}`);
/** The names a dir:PATH record lists ([] when it was not read or is not a listing). */
export function dirListing(records: Readonly<Record<string, { status: string; stdout: string } | undefined>>, path: string): string[] {
  const r = records[dirProbeId(path)];
  if (r?.status !== 'ok') return [];
  try {
    const names: unknown = JSON.parse(r.stdout);
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}
/** stat:PATH, lstat of a path and its parent */
export const statProbeId = (path: string): ProbeId => id(`stat:${path}`);

// ---------------------------------------------------------------- host (src/probes/host.ts)

export const PROBE_HOSTNAME = id('hostname');
export const PROBE_KERNEL_RELEASE = id('kernel');
export const PROBE_OS_RELEASE = id('os-release');
export const PROBE_NETNS = id('netns');
export const PROBE_NETNS_IDENTIFY = id('netns-identify');
export const PROBE_UID = id('uid');
export const PROBE_KEEPALIVED_VERSION = id('keepalived-version');
export const PROBE_DMI_SYS_VENDOR = id('dmi-sys-vendor');
export const PROBE_DMI_PRODUCT_NAME = id('dmi-product-name');
export const PROBE_DMI_BIOS_VENDOR = id('dmi-bios-vendor');
export const PROBE_DMI_CHASSIS_ASSET_TAG = id('dmi-chassis-asset-tag');

// ---------------------------------------------------------------- net (src/probes/net.ts)

export const PROBE_IP_ADDR = id('ip-addr');
export const PROBE_IP_LINK = id('ip-link');
export const PROBE_IP_ROUTE = id('ip-route');
export const PROBE_IP_RULE = id('ip-rule');

// ---------------------------------------------------------------- kernel (src/probes/kernel.ts)

/** sysctl:KEY, the runtime value read from /proc/sys */
export const sysctlProbeId = (key: string): ProbeId => id(`sysctl:${key}`);
/** sysctl keys write a dot in an interface name as '/': net.ipv4.conf.eth0/100.rp_filter */
export const ifaceSysctlId = (ifname: string, leaf: string): ProbeId => sysctlProbeId(`net.ipv4.conf.${ifname.replace(/\./g, '/')}.${leaf}`);

export const PROBE_IP_FORWARD = sysctlProbeId('net.ipv4.ip_forward');
export const PROBE_NONLOCAL_BIND = sysctlProbeId('net.ipv4.ip_nonlocal_bind');
export const PROBE_RP_FILTER_ALL = sysctlProbeId('net.ipv4.conf.all.rp_filter');
export const PROBE_RP_FILTER_DEFAULT = sysctlProbeId('net.ipv4.conf.default.rp_filter');
export const PROBE_ARP_IGNORE_ALL = sysctlProbeId('net.ipv4.conf.all.arp_ignore');
export const PROBE_CONNTRACK_COUNT = sysctlProbeId('net.netfilter.nf_conntrack_count');
export const PROBE_CONNTRACK_MAX = sysctlProbeId('net.netfilter.nf_conntrack_max');
export const PROBE_ARP_FILTER_ALL = sysctlProbeId('net.ipv4.conf.all.arp_filter');
export const PROBE_ACCEPT_LOCAL_ALL = sysctlProbeId('net.ipv4.conf.all.accept_local');
export const PROBE_ARP_ANNOUNCE_ALL = sysctlProbeId('net.ipv4.conf.all.arp_announce');
export const PROBE_IGMP_LL_REPORTS = sysctlProbeId('net.ipv4.igmp_link_local_mcast_reports');

// ---------------------------------------------------------------- keepalived (src/probes/keepalived.ts)

export const CONFIG_PREFIX = 'kconf:';
export const CONFIG_DIR_PREFIX = 'kconf-dir:';
/** kconf:FILE, a file of our keepalived configuration */
export const configFileProbeId = (file: string): ProbeId => id(`${CONFIG_PREFIX}${file}`);
/** kconf-dir:DIR, the listing behind a globbed include */
export const configDirProbeId = (dir: string): ProbeId => id(`${CONFIG_DIR_PREFIX}${dir}`);
/** script:FILE, a script the config runs, read (small, bounded) */
export const scriptProbeId = (file: string): ProbeId => id(`script:${file}`);
/** stat:FILE of a script the config runs (its owner and mode) */
export const scriptStatProbeId = (file: string): ProbeId => statProbeId(file);
/** pidfile:FILE, what a keepalived PID file names */
export const pidFileProbeId = (file: string): ProbeId => id(`pidfile:${file}`);

export const PROBE_KEEPALIVED_PROCESSES = id('keepalived-processes');
export const PROBE_KEEPALIVED_BINARY = id('keepalived-binary');
export const PROBE_PROC_PID1_VISIBLE = id('proc-pid1-visible');
export const PROBE_PEER_CONFIG = id('peer-config');
export const PEER_SNAPSHOT_PROBE = id('peer-snapshot');
export const PROBE_KEEPALIVED_STDOUT = id('keepalived-stdout');
export const KEEPALIVED_LOG_PROBE = id('keepalived-log');
export const PROBE_KEEPALIVED_JOURNAL = id('keepalived-journal');
export const PROBE_SYSLOG = id('syslog');
export const PROBE_MESSAGES = id('messages');
export const PROBE_CONFIGTEST = id('keepalived-configtest');
export const PROBE_KEEPALIVED_DATA = id('keepalived-data');
export const PROBE_KEEPALIVED_DATA_STAT = id('stat:keepalived-data');

// ---------------------------------------------------------------- netfilter (src/probes/netfilter.ts)

export const PROBE_IPT_SAVE = id('iptables-save');
export const PROBE_IPT_LEGACY = id('iptables-legacy-save');
export const PROBE_IPT_NFT = id('iptables-nft-save');
export const PROBE_NFT = id('nft-ruleset');
export const PROBE_IP6T_SAVE = id('ip6tables-save');
export const PROBE_IP6T_LEGACY = id('ip6tables-legacy-save');
export const PROBE_IP6T_NFT = id('ip6tables-nft-save');
export const PROBE_CONNTRACK_WALK = id('conntrack-vrrp-walk');
export const PROBE_CONNTRACK_STATS = id('conntrack-stats');
export const PROBE_KERNEL_LOG = id('dmesg');
export const PROBE_NETFILTER_SERVICES = id('netfilter-services');
export const PROBE_FIREWALLD_STATE = id('firewalld-state');
export const PROBE_FIREWALL_UNITS = id('firewall-units');
export const CONNTRACK_LOOKUP_PREFIX = 'conntrack-vrrp:';
/** conntrack-vrrp:SELF>PEER, the VRRP conntrack entry looked up by tuple */
export const conntrackLookupId = (self: string, peer: string): ProbeId => id(`${CONNTRACK_LOOKUP_PREFIX}${self}>${peer}`);

// ---------------------------------------------------------------- ipvs (src/probes/ipvs.ts)

export const PROBE_IPVS_LIST = id('ipvsadm-list');
export const PROBE_IPVS_STATS = id('ipvsadm-stats');
export const PROBE_IPVS_RATE = id('ipvsadm-rate');
export const PROBE_IPVS_CONNS = id('ipvsadm-conns');
export const PROBE_IPVS_LADDR = id('ipvsadm-laddr');
export const PROBE_PROC_IPVS = id('proc-net-ip_vs');
export const PROBE_IPVS_MODULE_DIR = dirProbeId('/sys/module/ip_vs');
export const PROBE_IPVS_MODINFO = id('modinfo-ip_vs');
export const PROBE_IPVS_EXPIRE_QUIESCENT = sysctlProbeId('net.ipv4.vs.expire_quiescent_template');
export const PROBE_IPVS_CONNTRACK = sysctlProbeId('net.ipv4.vs.conntrack');

// ---------------------------------------------------------------- nic (src/probes/nic.ts)

export const PROBE_SS_TCP = id('ss-listen-tcp');
export const PROBE_SS_UDP = id('ss-listen-udp');
export const PROBE_INTERRUPTS = id('proc-interrupts');
export const PROBE_IRQBALANCE = id('pidof-irqbalance');
/** ethtool-k:IFACE, the interface's offload features */
export const ethtoolProbeId = (ifname: string): ProbeId => id(`ethtool-k:${ifname}`);

// ---------------------------------------------------------------- vrrp (src/probes/vrrp.ts)

export const WIRE_PROBE_PREFIX = 'vrrp-wire:';
/** vrrp-wire:IFACE, adverts captured on an interface */
export const wireProbeId = (iface: string): ProbeId => id(`${WIRE_PROBE_PREFIX}${iface}`);

// ---------------------------------------------------------------- field (src/probes/field.ts)

export const PROBE_FIELD_PROCESSES = id('field-processes');
export const PROBE_KEEPALIVED_ENV = id('keepalived-environ');
export const PROBE_SCRIPT_USERS = id('getent-script-users');
export const PROBE_SELINUX_ENFORCE = fileProbeId('/sys/fs/selinux/enforce');
export const PROBE_AUDIT_LOG = id('audit-log');
export const PROBE_CONNTRACKD_STATS = id('conntrackd-stats');
/** which:NAME, every directory holding an executable NAME */
export const whichProbeId = (name: string): ProbeId => id(`which:${name}`);

// ---------------------------------------------------------------- change (src/change/probe.ts)

export const PROBE_CHANGES_OVERDUE = id('changes-overdue');

// ---------------------------------------------------------------- peer (src/peer/*)

export const PROC_STAT_PROBE = id('proc-stat');
export const KEEPALIVED_PROC_STAT_PROBE = id('keepalived-proc-stat');
export const PEER_STATUS_PROBE = id('peer-status');
