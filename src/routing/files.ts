// Where hosts keep the files that recreate policy rules and routes at boot, and the routing
// table names. Pure: the routing-policy probes read them; the checks name them.
export const RT_TABLES_FILES = ['/usr/share/iproute2/rt_tables', '/etc/iproute2/rt_tables'];
export const RT_TABLES_DIRS = ['/usr/share/iproute2/rt_tables.d', '/etc/iproute2/rt_tables.d'];
export const NETWORK_SCRIPTS_DIR = '/etc/sysconfig/network-scripts';
export const INTERFACES_FILE = '/etc/network/interfaces';
export const INTERFACES_DIR = '/etc/network/interfaces.d';
export const NETPLAN_DIR = '/etc/netplan';
export const NM_DIR = '/etc/NetworkManager/system-connections';
export const NETWORKD_DIRS = ['/etc/systemd/network', '/run/systemd/network'];
export const RC_LOCAL = '/etc/rc.local';
