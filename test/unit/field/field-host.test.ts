// Snapshot-fixture tests of checks/field-host.ts (issue 14, part B) and of the script reader.
import { describe, expect, it } from 'vitest';
import { CheckContext } from '../../../src/context.js';
import { runCheck } from '../../../src/check.js';
import type { ProbeRecord } from '../../../src/types.js';
import { fieldHostChecks } from '../../../checks/field-host.js';
import { commandNames } from '../../../src/keepalived/script-commands.js';
import { cmd, dir, file, internal, keepalivedProcess, makeSnapshot } from '../../support/snapshot.js';

const CONF = '/etc/keepalived/keepalived.conf';
const check = (id: string) => fieldHostChecks.find((c) => c.id === id)!;
const run = (id: string, records: ProbeRecord[], options = {}) =>
  runCheck(check(id), new CheckContext(makeSnapshot(records, {}, { config: CONF, ...options })));
const kconf = (text: string) => file(`kconf:${CONF}`, CONF, text);
const procs = (list: Array<{ comm: string; ours?: boolean }>) =>
  internal('field-processes', JSON.stringify(list.map((p, i) => ({ pid: 100 + i, comm: p.comm, ours: p.ours ?? true }))));

const CONFIG = `global_defs {
    router_id gw1
    enable_script_security
%GLOBAL%}
vrrp_script chk {
    script "%SCRIPT%"
    interval 2
    timeout %TIMEOUT%
}
vrrp_instance VI_LAN {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
%LAN%    virtual_ipaddress {
        192.168.100.1/24 dev eth0
    }
    track_script {
        chk
    }
    notify_master /etc/keepalived/scripts/notify_master.sh
}
`;
const conf = (o: { global?: string; script?: string; lan?: string; timeout?: number } = {}) =>
  kconf(
    CONFIG.replace('%TIMEOUT%', String(o.timeout ?? 1))
      .replace('%GLOBAL%', o.global ?? '    script_user root\n')
      .replace('%SCRIPT%', o.script ?? '/etc/keepalived/scripts/chk.sh')
      .replace('%LAN%', o.lan ?? ''),
  );
const NOTIFY =
  '#!/bin/sh\nsysctl -qw net.ipv4.ip_forward=1\niptables -w -t nat -A POSTROUTING -s 192.168.100.0/24 ! -p vrrp -j SNAT --to-source 198.51.100.10\n';
const notify = (text = NOTIFY) => file('script:/etc/keepalived/scripts/notify_master.sh', '/etc/keepalived/scripts/notify_master.sh', text);

describe('network-manager-removes-vip', () => {
  const nd = (name: string, text: string, d = '/etc/systemd/network') => [dir(`dir:${d}`, d, [name]), file(`file:${d}/${name}`, `${d}/${name}`, text)];
  const NETWORK = '[Match]\nName=eth0\n\n[Network]\nAddress=192.168.100.2/24\n';
  it('networkd manages the VRRP interface without KeepConfiguration: error while networkd runs, with a drop-in fix', () => {
    const r = run('field-network-manager', [conf(), ...nd('10-lan.network', NETWORK), procs([{ comm: 'systemd-network' }])]);
    expect(r.findings).toHaveLength(1);
    const f = r.findings[0]!;
    expect(f).toMatchObject({
      code: 'network-manager-removes-vip',
      severity: 'error',
      subject: 'eth0',
      title: "systemd-networkd can drop keepalived's VIPs on eth0 (10-lan.network)",
    });
    expect(f.fix!.steps).toEqual([
      {
        write: {
          path: '/etc/systemd/network/10-lan.network.d/90-hagw-doctor-keepalived.conf',
          content: expect.stringContaining('[Network]\nKeepConfiguration=yes\n'),
          mode: 0o644,
        },
        why: expect.any(String),
      },
    ]);
    expect(f.fix!.touches.files).toEqual(['/etc/systemd/network/10-lan.network.d/90-hagw-doctor-keepalived.conf']);
  });
  it('a warning when networkd is not running here; quiet once a drop-in keeps the configuration; other interfaces do not count', () => {
    expect(run('field-network-manager', [conf(), ...nd('10-lan.network', NETWORK), procs([])]).findings[0]!.severity).toBe('warning');
    const dropDir = '/etc/systemd/network/10-lan.network.d';
    const cured = [
      ...nd('10-lan.network', NETWORK),
      dir(`dir:${dropDir}`, dropDir, ['90-hagw-doctor-keepalived.conf']),
      file(`file:${dropDir}/90-hagw-doctor-keepalived.conf`, `${dropDir}/90-hagw-doctor-keepalived.conf`, '[Network]\nKeepConfiguration=yes\n'),
    ];
    expect(run('field-network-manager', [conf(), ...cured, procs([])]).findings).toEqual([]);
    expect(run('field-network-manager', [conf(), ...nd('10-wan.network', NETWORK.replace('eth0', 'eth9')), procs([])]).findings).toEqual([]);
    // a glob match counts
    expect(run('field-network-manager', [conf(), ...nd('99-all.network', NETWORK.replace('Name=eth0', 'Name=eth*')), procs([])]).findings).toHaveLength(1);
  });
  it('virtual routes with ManageForeignRoutes left on: the fix also writes networkd.conf.d', () => {
    const withRoutes = conf({ lan: '    virtual_routes {\n        default via 192.168.100.254\n    }\n' });
    const r = run('field-network-manager', [withRoutes, ...nd('10-lan.network', `${NETWORK}KeepConfiguration=yes\n`), procs([])]);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.fix!.steps.map((s) => ('write' in s ? s.write.path : ''))).toEqual(['/etc/systemd/networkd.conf.d/90-hagw-doctor-keepalived.conf']);
    const off = file(
      'file:/etc/systemd/networkd.conf',
      '/etc/systemd/networkd.conf',
      '[Network]\nManageForeignRoutes=no\nManageForeignRoutingPolicyRules=no\n',
    );
    expect(run('field-network-manager', [withRoutes, ...nd('10-lan.network', `${NETWORK}KeepConfiguration=yes\n`), off, procs([])]).findings).toEqual([]);
  });
  it('netplan without critical, NetworkManager keyfiles, ifupdown DHCP', () => {
    const np = [
      dir('dir:/etc/netplan', '/etc/netplan', ['50-cloud-init.yaml']),
      file(
        'file:/etc/netplan/50-cloud-init.yaml',
        '/etc/netplan/50-cloud-init.yaml',
        'network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses: [192.168.100.2/24]\n',
      ),
    ];
    expect(run('field-network-manager', [conf(), ...np]).findings.map((f) => f.title)).toEqual([
      'netplan configures eth0 without critical: true (50-cloud-init.yaml)',
    ]);
    const npOk = [
      np[0]!,
      file(
        'file:/etc/netplan/50-cloud-init.yaml',
        '/etc/netplan/50-cloud-init.yaml',
        'network:\n  version: 2\n  ethernets:\n    eth0:\n      critical: true\n      addresses: [192.168.100.2/24]\n',
      ),
    ];
    expect(run('field-network-manager', [conf(), ...npOk]).findings).toEqual([]);
    const nm = [
      dir('dir:/etc/NetworkManager/system-connections', '/etc/NetworkManager/system-connections', ['lan.nmconnection']),
      file(
        'file:/etc/NetworkManager/system-connections/lan.nmconnection',
        '/etc/NetworkManager/system-connections/lan.nmconnection',
        '[connection]\nid=lan\ninterface-name=eth0\n',
      ),
    ];
    expect(run('field-network-manager', [conf(), ...nm, procs([{ comm: 'NetworkManager' }])]).findings[0]).toMatchObject({
      severity: 'error',
      title: 'NetworkManager manages eth0 (lan.nmconnection)',
    });
    const ifup = file('file:/etc/network/interfaces', '/etc/network/interfaces', 'auto eth0\niface eth0 inet dhcp\n');
    expect(run('field-network-manager', [conf(), ifup]).findings[0]).toMatchObject({
      severity: 'warning',
      title: 'ifupdown runs DHCP on eth0 (/etc/network/interfaces)',
    });
    expect(
      run('field-network-manager', [
        conf(),
        file('file:/etc/network/interfaces', '/etc/network/interfaces', 'iface eth0 inet static\n  address 192.168.100.2/24\n'),
      ]).findings,
    ).toEqual([]);
  });
});

describe('conntrack-sync-missing', () => {
  it('a SNAT pair without conntrackd; conntrackd without a commit in the notify scripts; a stuck conntrackd', () => {
    const none = run('field-conntrack-sync', [conf(), notify(), procs([])]);
    // nothing of conntrackd on the host: stateless failover may be the choice, so info
    expect(none.findings.map((f) => [f.code, f.severity, f.title])).toEqual([
      ['conntrack-sync-missing', 'info', 'a SNAT gateway pair without conntrackd: every connection breaks on failover'],
    ]);
    // the binary alone is not a set-up: still info, the binary named as evidence
    const binary = run('field-conntrack-sync', [conf(), notify(), procs([]), internal('which:conntrackd', '["/usr/sbin"]')]);
    expect(binary.findings.map((f) => [f.severity, f.title])).toEqual([
      ['info', 'a SNAT gateway pair without conntrackd: every connection breaks on failover'],
    ]);
    expect(JSON.stringify(binary.findings[0]!.evidence)).toContain('conntrackd installed in /usr/sbin');
    // a configuration says sync was meant: not running is a warning
    const installed = run('field-conntrack-sync', [
      conf(),
      notify(),
      procs([]),
      file('file:/etc/conntrackd/conntrackd.conf', '/etc/conntrackd/conntrackd.conf', 'Sync {\n}\n'),
    ]);
    expect(installed.findings.map((f) => [f.severity, f.title])).toEqual([
      ['warning', 'conntrackd is installed but does not run here: every connection breaks on failover'],
    ]);
    // conntrackd in another namespace does not count
    expect(run('field-conntrack-sync', [conf(), notify(), procs([{ comm: 'conntrackd', ours: false }])]).findings).toHaveLength(1);
    const noCommit = run('field-conntrack-sync', [conf(), notify(), procs([{ comm: 'conntrackd' }])]);
    expect(noCommit.findings[0]!.title).toBe('conntrackd runs, but no notify script commits its cache on failover');
    const withCommit = notify(`${NOTIFY}/usr/share/doc/conntrackd/examples/sync/primary-backup.sh primary\n`);
    expect(
      run('field-conntrack-sync', [conf(), withCommit, procs([{ comm: 'conntrackd' }]), cmd('conntrackd-stats', ['conntrackd', '-s'], 'cache internal:\n')])
        .findings,
    ).toEqual([]);
    const stuck: ProbeRecord = {
      id: 'conntrackd-stats',
      kind: 'command',
      argv: ['conntrackd', '-s'],
      status: 'timeout',
      stdout: '',
      stderr: '',
      ms: 3000,
      reason: 'timed out after 3000 ms',
    };
    expect(run('field-conntrack-sync', [conf(), withCommit, procs([{ comm: 'conntrackd' }]), stuck]).findings[0]!.title).toBe(
      'conntrackd runs but does not answer (stuck)',
    );
  });
  it('quiet on a host that does not SNAT; skips without the process list', () => {
    expect(run('field-conntrack-sync', [conf(), notify('#!/bin/sh\nexit 0\n'), procs([])]).findings).toEqual([]);
    expect(run('field-conntrack-sync', [conf(), notify()]).run.status).toBe('skip');
  });
});

describe('script-runs-differently', () => {
  const env = (p: string | null) => internal('keepalived-environ', JSON.stringify({ path: p, names: ['LANG'] }));
  const which = (name: string, dirs: string[]) => internal(`which:${name}`, JSON.stringify(dirs));
  const users = (out: string) => cmd('getent-script-users', ['getent', 'passwd', 'keepalived_script', 'root'], out, out.includes('keepalived_script') ? 0 : 2);
  const chk = (text: string) => file('script:/etc/keepalived/scripts/chk.sh', '/etc/keepalived/scripts/chk.sh', text);

  it("a command of a track script that is only outside keepalived's PATH, with the exit-127 log line", () => {
    const log = file('keepalived-log', '/tmp/k.log', 'Sun Nov 22 02:59:00 2026: Script `chk` now returning 127\n');
    const r = run('field-scripts', [
      conf(),
      chk('#!/bin/sh\nkubectl get --raw /healthz >/dev/null\n'),
      env('/usr/bin:/bin'),
      which('kubectl', ['/usr/local/bin']),
      keepalivedProcess(['keepalived', '-n', '-l', '-f', CONF, '-g/tmp/k.log']),
      log,
    ]);
    expect(r.findings).toHaveLength(1);
    const f = r.findings[0]!;
    expect(f).toMatchObject({
      code: 'script-runs-differently',
      severity: 'error',
      subject: 'chk',
      title: "script of vrrp_script chk: kubectl is not on keepalived's PATH",
    });
    expect(f.evidence.map((e) => e.excerpt)).toEqual(
      expect.arrayContaining([
        "keepalived's PATH=/usr/bin:/bin",
        'kubectl: /usr/local/bin (used: kubectl get --raw /healthz >/dev/null)',
        'Sun Nov 22 02:59:00 2026: Script `chk` now returning 127',
      ]),
    );
    // an absolute path, a PATH set by the script, or a program keepalived can find: quiet
    expect(
      run('field-scripts', [conf(), chk('#!/bin/sh\n/usr/local/bin/kubectl get --raw /healthz\n'), env('/usr/bin:/bin'), which('kubectl', ['/usr/local/bin'])])
        .findings,
    ).toEqual([]);
    expect(
      run('field-scripts', [
        conf(),
        chk('#!/bin/sh\nPATH=/usr/local/bin:$PATH\nkubectl get --raw /healthz\n'),
        env('/usr/bin:/bin'),
        which('kubectl', ['/usr/local/bin']),
      ]).findings,
    ).toEqual([]);
    expect(
      run('field-scripts', [conf(), chk('#!/bin/sh\nkubectl get --raw /healthz\n'), env('/usr/local/bin:/usr/bin:/bin'), which('kubectl', ['/usr/local/bin'])])
        .findings,
    ).toEqual([]);
    // a script that sources another file may set PATH there: not judged
    expect(
      run('field-scripts', [
        conf(),
        chk('#!/bin/sh\n. /etc/default/health\nkubectl get --raw /healthz\n'),
        env('/usr/bin:/bin'),
        which('kubectl', ['/usr/local/bin']),
      ]).findings,
    ).toEqual([]);
  });
  it("a bare program in the config that keepalived's PATH lacks", () => {
    const r = run('field-scripts', [conf({ script: 'killall -0 haproxy' }), env(null), which('killall', ['/usr/sbin'])]);
    expect(r.findings.map((f) => f.title)).toEqual(["script of vrrp_script chk: killall is not on keepalived's PATH"]);
    expect(r.findings[0]!.detail).toMatch(/falls back to \/usr\/bin:\/bin/);
  });
  it('script security without script_user and without the keepalived_script user: scripts are removed', () => {
    const r = run('field-scripts', [conf({ global: '' }), users('root:x:0:0:root:/root:/bin/bash\n')]);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.title).toBe('no script_user and no keepalived_script user: keepalived removes 2 script(s) under enable_script_security');
    expect(r.findings[0]!.detail).toMatch(/track script\(s\) chk/);
  });
  it('the keepalived_script user exists: notify scripts that need root fail', () => {
    const r = run('field-scripts', [
      conf({ global: '' }),
      notify(),
      users('keepalived_script:x:998:998::/nonexistent:/usr/sbin/nologin\nroot:x:0:0:root:/root:/bin/bash\n'),
    ]);
    expect(r.findings.map((f) => f.title)).toEqual(['notify_master of vrrp_instance VI_LAN runs as keepalived_script, not root, but calls sysctl, iptables']);
    expect(run('field-scripts', [conf(), notify(), users('keepalived_script:x:998:998::/nonexistent:/usr/sbin/nologin\n')]).findings).toEqual([]);
  });
  it('timeouts and overlaps from the log, grouped per script', () => {
    const log = file(
      'keepalived-log',
      '/tmp/k.log',
      [
        'Sun Nov 22 02:59:00 2026: Track script chk is already running, expect idle - skipping run',
        'Sun Nov 22 02:59:02 2026: Track script chk is being timed out, expect idle - skipping run',
        'Sun Nov 22 02:59:03 2026: Script `chk` timed_out',
      ].join('\n'),
    );
    const r = run('field-scripts', [conf(), keepalivedProcess(['keepalived', '-n', '-l', '-f', CONF, '-g/tmp/k.log']), log]);
    expect(r.findings.map((f) => f.title)).toEqual(['track script chk overlaps itself (still running at its next interval) (3 log line(s))']);
    // the config alone: timeout longer than interval
    expect(run('field-scripts', [conf()]).findings).toEqual([]);
    const cfgOnly = run('field-scripts', [conf({ timeout: 5 })]);
    expect(cfgOnly.findings.map((f) => [f.severity, f.title])).toEqual([['warning', 'track script chk: timeout 5 s is longer than its interval 2 s']]);
  });
  it('SELinux denials of keepalived_t while enforcing', () => {
    const audit = file(
      'audit-log',
      '/var/log/audit/audit.log',
      'type=AVC msg=audit(1700000000.123:42): avc:  denied  { create } for  pid=1234 comm="iptables" scontext=system_u:system_r:keepalived_t:s0 tcontext=system_u:system_r:keepalived_t:s0 tclass=rawip_socket permissive=0\n',
    );
    const enforcing = file('file:/sys/fs/selinux/enforce', '/sys/fs/selinux/enforce', '1');
    const r = run('field-scripts', [conf({}), enforcing, audit]);
    expect(r.findings.map((f) => f.title)).toContain('SELinux (enforcing) denies keepalived or its scripts (1 AVC denial(s))');
    expect(
      run('field-scripts', [conf({}), file('file:/sys/fs/selinux/enforce', '/sys/fs/selinux/enforce', '0'), audit])
        .findings.map((f) => f.title)
        .join(),
    ).not.toMatch(/SELinux/);
  });
});

describe('commandNames', () => {
  it('names the programs a shell script runs by bare name, not builtins, keywords, functions or case patterns', () => {
    const text = `#!/bin/bash
# a comment with kubectl
set -e
PATH=/usr/sbin:/usr/bin
log() { logger -t notify "$*"; }
case "$1" in
  master) ip addr show | grep -q inet && systemctl restart haproxy ;;
  *) log other ;;
esac
if ! pidof haproxy >/dev/null; then exit 1; fi
out=$(curl -fsS http://127.0.0.1/ || true)
timeout 3 nc -z 127.0.0.1 80
cat <<EOF
notacommand here
EOF
`;
    const c = commandNames(text);
    expect(c.names).toEqual(['logger', 'ip', 'grep', 'systemctl', 'pidof', 'curl', 'nc', 'cat']);
    expect(c.setsPath).toEqual(['/usr/sbin', '/usr/bin']);
    expect(c.extendsPath).toBe(false);
    expect(commandNames('#!/usr/bin/python3\nimport os\n').names).toEqual([]);
  });
});
