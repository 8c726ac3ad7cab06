// The files of one pair member, rendered from validated input. Pure: no I/O, so the wizard can preview.
import type { GenerateInput } from './validate.js';
import { SYSCTL_DROP_IN } from '../kernel/sysctl.js';

export interface GeneratedFile {
  content: string;
  /** file mode to write it with */
  mode: number;
  /** where INSTALL.md puts it */
  installAs?: string;
}

/** Relative path in --out (keepalived.conf, scripts/notify_master.sh, ...) -> file. */
export type GeneratedFiles = Record<string, GeneratedFile>;

export const SCRIPT_DIR = '/etc/keepalived/scripts';
/** marks every runtime rule the notify scripts add, so they remove exactly those */
export const RULE_COMMENT = 'hagw-doctor';
const NOTIFY = ['master', 'backup', 'fault', 'stop'] as const;

export function generatePair(input: GenerateInput): GeneratedFiles {
  const files: GeneratedFiles = {
    'keepalived.conf': { content: keepalivedConf(input), mode: 0o644, installAs: '/etc/keepalived/keepalived.conf' },
    'sysctl.conf': { content: sysctlConf(input), mode: 0o644, installAs: SYSCTL_DROP_IN },
    'rules.v4': { content: rulesV4(input), mode: 0o644 },
  };
  if (input.vip6) files['rules.v6'] = { content: rulesV6(input), mode: 0o644 };
  for (const n of NOTIFY) files[`scripts/notify_${n}.sh`] = { content: notifyScript(input, n), mode: 0o755, installAs: `${SCRIPT_DIR}/notify_${n}.sh` };
  if (input.lvsNat) Object.assign(files, realServerFiles(input));
  files['INSTALL.md'] = { content: installMd(input, files), mode: 0o644 };
  return files;
}

const peerIsSelfName = (i: GenerateInput) => (i.role === 'master' ? 'the backup' : 'the master');

function keepalivedConf(i: GenerateInput): string {
  const state = i.role === 'master' ? 'MASTER' : 'BACKUP';
  const L: string[] = [];
  L.push(
    `! hagw-doctor generate: ${i.role} of a keepalived pair (${i.self}, peer ${i.peer}).`,
    '! Adverts are unicast to the peer unless generated with --multicast (clouds do not deliver multicast).',
    'global_defs {',
    `    router_id hagw_${i.role}`,
    '    enable_script_security',
    '    script_user root',
    '    ! re-announce the VIPs every minute: upstream ARP caches cannot stay stale after a short split brain',
    '    vrrp_garp_master_refresh 60',
    '}',
    '',
  );
  const instances = ['VI_LAN', ...(i.wanVip ? ['VI_WAN'] : []), ...(i.vip6 ? ['VI_LAN6'] : [])];
  const grouped = instances.length > 1;
  const notifyLines = NOTIFY.map((n) => `    notify_${n} "${SCRIPT_DIR}/notify_${n}.sh"`);
  if (grouped) {
    L.push(
      `! the ${i.wanVip ? 'LAN and WAN' : 'IPv4 and IPv6'} VIPs${i.wanVip && i.vip6 ? ' (IPv4 and IPv6)' : ''} move together: one master for all`,
      'vrrp_sync_group VG_GW {',
      '    group {',
      ...instances.map((n) => `        ${n}`),
      '    }',
      ...notifyLines,
      '}',
      '',
    );
  }
  const instance = (name: string, vrid: number, vips: string[], extra: string[]) => {
    L.push(
      `vrrp_instance ${name} {`,
      `    state ${state}`,
      `    interface ${i.interface}`,
      `    virtual_router_id ${vrid}`,
      `    priority ${i.priority}`,
      `    advert_int ${i.advertInt}`,
    );
    if (i.authPass !== undefined) L.push('    authentication {', '        auth_type PASS', `        auth_pass ${i.authPass}`, '    }');
    if (!i.multicast) L.push(`    unicast_src_ip ${i.self}`, '    unicast_peer {', `        ${i.peer}`, '    }');
    L.push('    virtual_ipaddress {', ...vips.map((v) => `        ${v}`), '    }', ...extra, '}', '');
  };
  instance('VI_LAN', i.vrid, [`${i.vip.address}/${i.vip.prefix} dev ${i.interface}`], grouped ? [] : notifyLines);
  if (i.wanVip) {
    // adverts go over the LAN, where --self and --peer live; the WAN link is tracked so its loss faults the group
    instance(
      'VI_WAN',
      i.vrid + 1,
      [`${i.wanVip.address}/${i.wanVip.prefix} dev ${i.wanInterface!}`],
      ['    track_interface {', `        ${i.wanInterface!}`, '    }'],
    );
  }
  if (i.vip6) {
    // IPv6 VRRP is VRRPv3 (no authentication); multicast goes to ff02::12 from the link-local address
    const unicast6 = !i.multicast && i.self6 && i.peer6;
    L.push(
      `vrrp_instance VI_LAN6 {`,
      `    state ${state}`,
      `    interface ${i.interface}`,
      `    virtual_router_id ${vrid6(i)}`,
      `    priority ${i.priority}`,
      `    advert_int ${i.advertInt}`,
      '    version 3',
      ...(unicast6 ? [`    unicast_src_ip ${i.self6}`, '    unicast_peer {', `        ${i.peer6}`, '    }'] : []),
      '    virtual_ipaddress {',
      `        ${i.vip6.address}/${i.vip6.prefix} dev ${i.interface}`,
      '    }',
      '}',
      '',
    );
  }
  if (i.lvsNat) L.push(...virtualServer(i));
  return L.join('\n');
}

/** The IPv6 instance's VRID: the next one after the IPv4 instances'. */
export const vrid6 = (i: GenerateInput) => i.vrid + (i.wanVip ? 2 : 1);

function rulesV6(i: GenerateInput): string {
  const from = !i.multicast && i.self6 && i.peer6 ? `-s ${i.peer6}/128` : '-s fe80::/10 -d ff02::12/128';
  return [
    '# hagw-doctor generate: static IPv6 rules, the same on master and backup.',
    '# Load with: ip6tables-restore --noflush < rules.v6   (once)',
    '*raw',
    '# VRRP is never connection-tracked',
    '-I PREROUTING -p vrrp -j CT --notrack',
    '-I OUTPUT -p vrrp -j CT --notrack',
    'COMMIT',
    '*filter',
    `# IPv6 adverts from ${peerIsSelfName(i)} (VRRPv3${from.includes('ff02') ? ', multicast from its link-local address' : ''})`,
    `-I INPUT ${from} -p vrrp -j ACCEPT`,
    'COMMIT',
    '',
  ].join('\n');
}

function virtualServer(i: GenerateInput): string[] {
  const lvs = i.lvsNat!;
  const L = [
    `virtual_server ${i.wanVip!.address} ${lvs.port} {`,
    '    delay_loop 6',
    `    lb_algo ${lvs.scheduler}`,
    '    lb_kind NAT',
    `    protocol ${lvs.protocol}`,
  ];
  for (const rs of lvs.realServers) {
    L.push(`    real_server ${rs.address} ${rs.port} {`, '        weight 1', '        inhibit_on_failure');
    if (lvs.protocol === 'TCP')
      L.push(
        '        TCP_CHECK {',
        `            connect_port ${rs.port}`,
        '            connect_timeout 3',
        '            retry 3',
        '            delay_before_retry 3',
        '        }',
      );
    L.push('    }');
  }
  L.push('}', '');
  return L;
}

function sysctlConf(i: GenerateInput): string {
  const L = [
    `# hagw-doctor generate: installed as ${SYSCTL_DROP_IN}`,
    '# Both nodes forward: the backup must be able to take over the gateway at any moment.',
    'net.ipv4.ip_forward = 1',
    '# The VIPs are added by keepalived only on the master; services bound to them start on both nodes.',
    'net.ipv4.ip_nonlocal_bind = 1',
    ...(i.vip6
      ? [
          '# IPv6 clients route through the IPv6 VIP too (forwarding turns router advertisements off on',
          '# interfaces without accept_ra = 2: give the node a static IPv6 address and route)',
          'net.ipv6.conf.all.forwarding = 1',
          '# (IPv6 has no ip_nonlocal_bind: services on the IPv6 VIP need IP_FREEBIND or to start on MASTER)',
        ]
      : []),
  ];
  return `${L.join('\n')}\n`;
}

function rulesV4(i: GenerateInput): string {
  return [
    '# hagw-doctor generate: static rules, the same on master and backup.',
    '# Load with: iptables-restore --noflush < rules.v4   (once; -I rules are added again on a second load)',
    '# The SNAT rules are NOT here: only the master carries them, the notify scripts add and remove them.',
    '*raw',
    '# VRRP is never connection-tracked: no stale conntrack entry can rewrite the adverts',
    '-I PREROUTING -p vrrp -j CT --notrack',
    '-I OUTPUT -p vrrp -j CT --notrack',
    'COMMIT',
    '*filter',
    `# adverts from ${peerIsSelfName(i)} (untracked, so a state-based INPUT policy would not accept them)`,
    `-I INPUT -s ${i.peer}/32 -p vrrp -j ACCEPT`,
    'COMMIT',
    '',
  ].join('\n');
}

/** The iptables argument lists of the SNAT rules, in the order they must stand in POSTROUTING. */
export function snatRules(i: GenerateInput): string[][] {
  const tag = ['-m', 'comment', '--comment', RULE_COMMENT];
  const out = i.wanInterface ? ['-o', i.wanInterface] : [];
  const rules: string[][] = [];
  for (const src of i.snatSources) for (const ex of i.exclude) rules.push(['-s', src, '-d', ex, ...out, ...tag, '-j', 'RETURN']);
  for (const src of i.snatSources) {
    const target = i.wanVip ? ['-j', 'SNAT', '--to-source', i.wanVip.address] : ['-j', 'MASQUERADE'];
    // ! -p vrrp: this node's own adverts must never be rewritten to the VIP
    rules.push(['-s', src, ...out, '!', '-p', 'vrrp', ...tag, ...target]);
  }
  return rules;
}

function notifyScript(i: GenerateInput, event: (typeof NOTIFY)[number]): string {
  const rules = snatRules(i);
  const q = (args: string[]) => args.map((a) => (/^[A-Za-z0-9_./:,=+-]+$/.test(a) ? a : `'${a}'`)).join(' ');
  const L = [
    '#!/bin/sh',
    `# hagw-doctor generate: notify_${event} (installed as ${SCRIPT_DIR}/notify_${event}.sh, root-owned, mode 0755).`,
    '# keepalived runs it on the transition; it may run twice or out of order, so every step is idempotent:',
    '# the master first removes the rules it adds, then inserts them in order at the top of POSTROUTING.',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'export PATH',
    'ipt() { iptables -w 5 "$@"; }',
    'log() { logger -t hagw-notify -- "$*" 2>/dev/null || true; }',
    '',
    'remove_snat() {',
    ...rules.map((r) => `    while ipt -t nat -D POSTROUTING ${q(r)} 2>/dev/null; do :; done`),
    '}',
    '',
  ];
  if (event === 'master') {
    L.push(
      'status=0',
      'sysctl -q -w net.ipv4.ip_forward=1 || status=1',
      'remove_snat',
      '# exclusions first, then SNAT: the order is the point',
      ...rules.map((r, n) => `ipt -t nat -I POSTROUTING ${n + 1} ${q(r)} || status=1`),
      'log "MASTER: SNAT rules for ' + i.snatSources.join(' ') + ' in place (status $status)"',
      'exit $status',
    );
  } else {
    L.push(
      '# forwarding stays on (sysctl.conf): this node may become master at any moment',
      'remove_snat',
      `log "${event.toUpperCase()}: SNAT rules removed"`,
      'exit 0',
    );
  }
  return `${L.join('\n')}\n`;
}

/** Real servers of an LVS-NAT director route their replies back through the director's LAN VIP. */
function realServerFiles(i: GenerateInput): GeneratedFiles {
  const table = 'lvs_nat';
  const gw = i.vip.address;
  const files: GeneratedFiles = {};
  for (const rs of i.lvsNat!.realServers) {
    const dir = `realservers/${rs.address}`;
    files[`${dir}/rt_tables.append`] = { content: `100 ${table}\n`, mode: 0o644 };
    files[`${dir}/apply.sh`] = {
      content: [
        '#!/bin/sh',
        `# Policy routing for real server ${rs.address}: replies leave via the director's LAN VIP ${gw}. Idempotent.`,
        'set -e',
        `grep -qE '^[[:space:]]*100[[:space:]]+${table}([[:space:]]|$)' /etc/iproute2/rt_tables || echo '100 ${table}' >> /etc/iproute2/rt_tables`,
        `ip rule show | grep -q 'from ${rs.address} lookup ${table}' || ip rule add from ${rs.address} table ${table}`,
        `ip route replace default via ${gw} table ${table}`,
        '',
      ].join('\n'),
      mode: 0o755,
    };
    files[`${dir}/rhel/rule-IFACE`] = { content: `from ${rs.address} table ${table}\n`, mode: 0o644 };
    files[`${dir}/rhel/route-IFACE`] = { content: `default via ${gw} table ${table}\n`, mode: 0o644 };
    files[`${dir}/debian/interfaces.snippet`] = {
      content: [
        '# add under the iface stanza of the interface that holds ' + rs.address + ' in /etc/network/interfaces',
        `    post-up ip rule add from ${rs.address} table ${table} || true`,
        `    post-up ip route replace default via ${gw} table ${table}`,
        `    pre-down ip rule del from ${rs.address} table ${table} || true`,
        '',
      ].join('\n'),
      mode: 0o644,
    };
  }
  return files;
}

function installMd(i: GenerateInput, files: GeneratedFiles): string {
  const snat = snatRules(i);
  const L = [
    `# Installing the ${i.role} (${i.self})`,
    '',
    `Generated by \`hagw-doctor generate\` for the ${i.role} of a keepalived pair: this node ${i.self}, peer ${i.peer},`,
    `LAN VIP ${i.vip.address}/${i.vip.prefix} on ${i.interface}${i.wanVip ? `, WAN VIP ${i.wanVip.address}/${i.wanVip.prefix} on ${i.wanInterface}` : ''},`,
    `VRID ${i.vrid}${i.wanVip ? ` (WAN ${i.vrid + 1})` : ''}, priority ${i.priority}, ${i.multicast ? 'multicast' : 'unicast'} adverts.`,
    ...(i.vip6
      ? [
          `IPv6 VIP ${i.vip6.address}/${i.vip6.prefix} on ${i.interface}: instance VI_LAN6, VRRPv3, VRID ${vrid6(i)}, ${!i.multicast && i.self6 ? `unicast ${i.self6} -> ${i.peer6}` : 'multicast to ff02::12 from the link-local address'}; it moves with the IPv4 VIP${i.wanVip ? 's' : ''} (sync group VG_GW).`,
        ]
      : []),
    'Generate the other node with the same VIPs, VRID, advert interval and password, with --self and --peer swapped.',
    '',
    '## What goes where (in this order, as root)',
    '',
    '1. Forwarding, now and after a reboot:',
    '   ```',
    `   install -o root -g root -m 0644 sysctl.conf ${SYSCTL_DROP_IN}`,
    `   sysctl -p ${SYSCTL_DROP_IN}`,
    '   ```',
    '2. Static firewall rules (accept VRRP from the peer, never track VRRP), once:',
    '   ```',
    '   iptables-restore --noflush < rules.v4',
    ...(i.vip6 ? ['   ip6tables-restore --noflush < rules.v6'] : []),
    '   ```',
    '   To keep them across reboots, add the same rules to your persistent rule set (`/etc/iptables/rules.v4` with',
    '   netfilter-persistent, or `/etc/sysconfig/iptables`). Do not put the SNAT rules there: only the master carries them.',
    "3. The notify scripts (root-owned, not writable by anyone else: keepalived's script security refuses them otherwise):",
    '   ```',
    `   install -d -o root -g root -m 0755 ${SCRIPT_DIR}`,
    ...Object.keys(files)
      .filter((f) => f.startsWith('scripts/'))
      .map((f) => `   install -o root -g root -m 0755 ${f} ${SCRIPT_DIR}/`),
    '   ```',
    '4. The keepalived configuration, checked before it is used:',
    '   ```',
    '   install -o root -g root -m 0644 keepalived.conf /etc/keepalived/keepalived.conf',
    '   keepalived -t -f /etc/keepalived/keepalived.conf',
    '   systemctl enable --now keepalived   # or: systemctl restart keepalived',
    '   ```',
    '',
    '## What the notify scripts do',
    '',
    `notify_master turns forwarding on and inserts, at the top of nat POSTROUTING (exclusions first, each tagged "${RULE_COMMENT}"):`,
    '',
    '```',
    ...snat.map((r) => `iptables -t nat -I POSTROUTING ${r.join(' ')}`),
    '```',
    '',
    'notify_backup, notify_fault and notify_stop delete exactly those rules (all copies). Forwarding stays on. Each script',
    'is safe to run twice or in any order.',
    '',
    '## How to check it worked',
    '',
    `- On the master: \`ip -br addr show ${i.interface}\` lists ${i.vip.address}${i.wanVip ? `, and \`ip -br addr show ${i.wanInterface}\` lists ${i.wanVip.address}` : ''};`,
    `  \`iptables -t nat -S POSTROUTING\` shows the rules above, RETURN rules before the ${i.wanVip ? 'SNAT' : 'MASQUERADE'} rule.`,
    '- On the backup: neither VIP, and no rule tagged hagw-doctor in `iptables -t nat -S POSTROUTING`.',
    `- \`journalctl -u keepalived\` says \`(VI_LAN) Entering MASTER STATE\` on one node and \`Entering BACKUP STATE\` on the other.`,
    '- Stop keepalived on the master: the VIPs and the SNAT rules move to the backup within a few seconds; start it again and they move back.',
    '- `hagw-doctor check` on each node reports no finding.',
    '',
  ];
  if (i.lvsNat) {
    L.push(
      '## Real servers (LVS-NAT)',
      '',
      `Each real server must send its replies back through the director's LAN VIP ${i.vip.address}. Under \`realservers/ADDR/\`:`,
      '',
      '- `apply.sh`: adds the `100 lvs_nat` entry to /etc/iproute2/rt_tables, `ip rule add from ADDR table lvs_nat` and',
      `  \`ip route replace default via ${i.vip.address} table lvs_nat\` (idempotent; runtime only).`,
      '- RHEL (network-scripts): copy `rhel/rule-IFACE` and `rhel/route-IFACE` to /etc/sysconfig/network-scripts/ as',
      "  `rule-eth0` and `route-eth0` (the real server's interface name), and add the rt_tables entry.",
      "- Debian (ifupdown): add `debian/interfaces.snippet` under the interface's stanza in /etc/network/interfaces.",
      '',
      'Commands in rc.local are lost when the interface restarts; use the persistent files. IPVS must be available',
      '(`modprobe ip_vs`) on both directors.',
      '',
    );
  }
  return L.join('\n');
}
