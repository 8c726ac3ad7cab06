// The first checks (forwarding, keepalived, VIP state) judged from snapshot fixtures.
import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/pipeline.js';
import type { ProbeRecord } from '../../../src/types.js';
import { cmd, dir, file, ipAddrJson, keepalivedProcess, makeSnapshot, missing } from '../../support/snapshot.js';

const CONF = `global_defs {
  router_id gw1
  enable_script_security
  script_user root
}
vrrp_sync_group G {
  group {
    VI_LAN
  }
}
vrrp_instance VI_LAN {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  unicast_src_ip 192.168.100.2
  unicast_peer {
    192.168.100.3
  }
  virtual_ipaddress {
    192.168.100.1/24 dev eth0
  }
  notify_master /etc/keepalived/scripts/notify_master.sh
}
`;
const CONF_PATH = '/etc/keepalived/keepalived.conf';
const LOG = `Sun Nov 22 02:50:01 2026: Starting VRRP child process, pid=4243
Sun Nov 22 02:50:01 2026: (VI_LAN) Entering BACKUP STATE (init)
Sun Nov 22 02:50:05 2026: (VI_LAN) Entering MASTER STATE
`;

const SNAT_NOTIFY = '#!/bin/sh\niptables -t nat -A POSTROUTING -s 192.168.100.0/24 ! -p vrrp -j SNAT --to-source 198.51.100.10\n';

function gateway(
  over: {
    forward?: string;
    vips?: string[];
    log?: string;
    sysctlConf?: string;
    notify?: string;
    configtest?: ProbeRecord;
    running?: boolean;
    dump?: string;
    dumpStat?: { mode?: number; uid?: number };
  } = {},
) {
  const records: ProbeRecord[] = [
    cmd('keepalived-binary', ['sh', '-c', 'command -v keepalived'], '/usr/sbin/keepalived\n'),
    cmd('keepalived-version', ['keepalived', '--version'], '', 0, 'Keepalived v2.2.7 (01/16,2022)\n'),
    over.running === false ? { ...keepalivedProcess(), stdout: '[]' } : keepalivedProcess(),
    file(`kconf:${CONF_PATH}`, CONF_PATH, CONF),
    over.configtest ?? cmd('keepalived-configtest', ['keepalived', '-t', '-f', CONF_PATH], '', 0),
    file('keepalived-log', '/tmp/lab/gw1.log', over.log ?? LOG),
    cmd('ip-addr', ['ip', '-j', 'addr', 'show'], ipAddrJson({ lo: ['127.0.0.1/8'], eth0: ['192.168.100.2/24', ...(over.vips ?? ['192.168.100.1/24'])] })),
    file('sysctl:net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward', `${over.forward ?? '1'}\n`),
    dir('dir:/etc/sysctl.d', '/etc/sysctl.d', ['90-hagw-doctor.conf']),
    file('file:/etc/sysctl.d/90-hagw-doctor.conf', '/etc/sysctl.d/90-hagw-doctor.conf', over.sysctlConf ?? 'net.ipv4.ip_forward = 1\n'),
    missing('file:/etc/sysctl.conf', '/etc/sysctl.conf'),
    over.notify !== undefined
      ? file('script:/etc/keepalived/scripts/notify_master.sh', '/etc/keepalived/scripts/notify_master.sh', over.notify)
      : missing('script:/etc/keepalived/scripts/notify_master.sh', '/etc/keepalived/scripts/notify_master.sh'),
    ...(over.dump
      ? [
          file('keepalived-data', '/proc/4242/root/tmp/keepalived.data', `------< VRRP Topology >------\n VRRP Instance = VI_LAN\n   State = ${over.dump}\n`),
          {
            id: 'stat:keepalived-data',
            kind: 'stat' as const,
            status: 'ok' as const,
            stdout: JSON.stringify({ exists: true, isFile: true, uid: 0, mode: 0o100644, mtimeMs: Date.parse('2026-11-22T02:59:00Z'), ...over.dumpStat }),
            stderr: '',
            ms: 0,
          },
        ]
      : []),
  ];
  return makeSnapshot(records);
}

const codes = (r: ReturnType<typeof analyse>) => r.findings.map((f) => f.code).sort();

describe('a healthy master', () => {
  it('reports nothing and knows it is master, from the log', () => {
    const r = analyse(gateway());
    expect(codes(r)).toEqual([]);
    expect(r.role).toBe('master');
    // the addresses decide; the daemon's log agrees and gives the time
    expect(r.instances[0]).toMatchObject({
      name: 'VI_LAN',
      state: 'MASTER',
      source: 'VIP presence (all VIPs held)',
      since: 'Sun Nov 22 02:50:05 2026',
      vipsHeld: ['192.168.100.1'],
    });
    expect(r.instances[0]!.contested).toBeUndefined();
    expect(r.summary.status).toBe('ok');
  });
});

describe('ip-forward', () => {
  it('forwarding off on the master is critical, with a persistent fix', () => {
    const r = analyse(gateway({ forward: '0', notify: SNAT_NOTIFY }));
    expect(r.kind).toBe('gateway');
    const f = r.findings.find((x) => x.code === 'ip-forward-off')!;
    expect(f.severity).toBe('critical');
    expect(f.evidence[0]!.excerpt).toBe('net.ipv4.ip_forward = 0');
    expect(f.fix!.steps[0]).toMatchObject({ argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'], undo: [['sysctl', '-w', 'net.ipv4.ip_forward=0']] });
    expect(f.fix!.steps[1]).toMatchObject({ write: { path: '/etc/sysctl.d/90-hagw-doctor.conf' } });
    expect(f.fix!.persistence.persistent).toBe(true);
    expect(r.summary.status).toBe('critical');
  });

  it('forwarding off on a backup whose notify_master turns it on is fine', () => {
    const backupLog = 'Sun Nov 22 02:50:01 2026: (VI_LAN) Entering BACKUP STATE (init)\n';
    const ok = analyse(gateway({ forward: '0', vips: [], log: backupLog, notify: '#!/bin/sh\nsysctl -w net.ipv4.ip_forward=1\n' }));
    expect(ok.role).toBe('backup');
    expect(codes(ok)).toEqual([]);
    const bad = analyse(gateway({ forward: '0', vips: [], log: backupLog, notify: '#!/bin/sh\niptables -t nat -A POSTROUTING -j MASQUERADE\n' }));
    // (a SNATing gateway without periodic GARP also gets garp-refresh-missing: not this test's subject)
    expect(codes(bad).filter((c) => c !== 'garp-refresh-missing')).toEqual(['ip-forward-off']);
  });

  it('on now but off at boot is a warning naming the file that turns it off', () => {
    const r = analyse(gateway({ sysctlConf: 'net.ipv4.ip_forward = 0\n', notify: SNAT_NOTIFY }));
    const f = r.findings.find((x) => x.code === 'ip-forward-not-persistent')!;
    expect(f.severity).toBe('warning');
    expect(f.evidence.map((e) => e.excerpt).join('\n')).toContain('/etc/sysctl.d/90-hagw-doctor.conf:1');
    // the fix rewrites our drop-in with the value, not appending a second line
    const write = f.fix!.steps.find((s) => 'write' in s) as { write: { content: string } };
    expect(write.write.content.match(/ip_forward/g)).toHaveLength(1);
    expect(write.write.content).toContain('net.ipv4.ip_forward = 1');
  });
});

describe('keepalived', () => {
  it('config test errors become keepalived-config-invalid with file and line', () => {
    const configtest = cmd(
      'keepalived-configtest',
      ['keepalived', '-t', '-f', CONF_PATH],
      '',
      5,
      `(${CONF_PATH}: Line 14) number '352' outside range [1, 255]\n(${CONF_PATH}: Line 14) (VI_LAN): VRID '352' not valid - must be between 1 & 255\n`,
    );
    const f = analyse(gateway({ configtest })).findings.find((x) => x.code === 'keepalived-config-invalid')!;
    expect(f.severity).toBe('error');
    expect(f.location).toEqual({ file: CONF_PATH, line: 14 });
    expect(f.title).toContain("number '352' outside range [1, 255]");
    expect(f.evidence[0]!.excerpt).toContain('exit status 5');
  });

  it('not running is critical and the state becomes STOP', () => {
    const r = analyse(gateway({ running: false, vips: [] }));
    expect(codes(r)).toContain('keepalived-not-running');
    expect(r.instances[0]!.state).toBe('STOP');
  });

  it('not installed on a bare host: one finding, no cry of wolf about config or forwarding', () => {
    const snap = makeSnapshot(
      [
        { ...cmd('keepalived-binary', ['sh', '-c', 'command -v keepalived'], '', 127) },
        {
          id: 'keepalived-version',
          kind: 'command',
          argv: ['keepalived', '--version'],
          status: 'missing',
          stdout: '',
          stderr: '',
          ms: 0,
          reason: 'keepalived is not installed',
        },
        { ...keepalivedProcess(), stdout: '[]' },
        missing(`kconf:${CONF_PATH}`, CONF_PATH),
        file('sysctl:net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward', '0\n'),
      ],
      { keepalived: null },
    );
    expect(codes(analyse(snap))).toEqual(['keepalived-not-installed']);
  });
});

describe('vip-state-mismatch', () => {
  it("MASTER without its VIP (the daemon's own dump says MASTER)", () => {
    const f = analyse(gateway({ vips: [], dump: 'MASTER' })).findings.find((x) => x.code === 'vip-state-mismatch')!;
    expect(f.title).toContain('MASTER but does not hold 192.168.100.1');
  });

  it("BACKUP still holding the VIP (the daemon's own dump says BACKUP)", () => {
    const r = analyse(gateway({ dump: 'BACKUP' }));
    expect(r.findings.find((x) => x.code === 'vip-state-mismatch')?.title).toContain('BACKUP but still holds 192.168.100.1');
  });

  it('a log line that says BACKUP while the node holds every VIP changes nothing but a note', () => {
    const clean = analyse(gateway());
    const forged = analyse(gateway({ log: LOG + 'Sun Nov 22 02:51:00 2026: (VI_LAN) Entering BACKUP STATE\n' }));
    expect(forged.role).toBe('master');
    expect(codes(forged)).toEqual(codes(clean));
    expect(forged.summary.status).toBe(clean.summary.status);
    expect(forged.instances[0]).toMatchObject({ state: 'MASTER', source: 'VIP presence (all VIPs held)' });
    expect(forged.instances[0]!.contested).toMatch(/log .* says BACKUP/);
  });

  it("a dump older than the snapshot window, or writable by others, is not the daemon's word", () => {
    const r = analyse(gateway({ dump: 'BACKUP', dumpStat: { mode: 0o100666 } }));
    expect(r.instances[0]).toMatchObject({ state: 'MASTER', source: 'VIP presence (all VIPs held)' });
  });

  it('with no log line, the state comes from the VIPs and says so', () => {
    const r = analyse(gateway({ log: 'nothing here\n' }));
    expect(r.instances[0]).toMatchObject({ state: 'MASTER', source: 'VIP presence (all VIPs held)' });
    expect(codes(r)).toEqual([]);
  });
});

describe('report assembly', () => {
  it('merges the same finding seen by two checks, keeping both evidence lines', async () => {
    const { CHECKS } = await import('../../../checks/index.js');
    const { finding } = await import('../../../src/context.js');
    const twice = (excerpt: string, severity: 'error' | 'critical') => ({
      id: `dup-${excerpt}`,
      title: 'dup',
      codes: ['vrrp-input-blocked'] as const,
      run: () => [
        finding('vrrp-input-blocked', { title: 'VRRP from 10.0.0.2 is dropped', detail: 'd', evidence: [{ probe: 'p', excerpt }], severity, subject: 'VI_1' }),
      ],
    });
    const list = CHECKS as unknown as unknown[];
    list.push(twice('from the rules', 'error'), twice('from the wire', 'critical'));
    try {
      const r = analyse(gateway(), { only: ['vrrp-input-blocked'] });
      const f = r.findings.filter((x) => x.title === 'VRRP from 10.0.0.2 is dropped');
      expect(f).toHaveLength(1);
      expect(f[0]!.severity).toBe('critical');
      expect(f[0]!.evidence.map((e) => e.excerpt)).toEqual(['from the rules', 'from the wire']);
    } finally {
      list.splice(-2, 2);
    }
  });
});
