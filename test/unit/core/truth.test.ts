// Issue 11 on snapshot fixtures: which process is the daemon, what kind of host this is, and a
// summary that is never OK when the doctor could not look.
import { describe, expect, it } from 'vitest';
import { analyse, exitStatus } from '../../../src/pipeline.js';
import { CHECKS } from '../../../checks/index.js';
import { finding } from '../../../src/context.js';
import { isOneShot, missingCapabilities, verifyDaemons, type ProcFacts } from '../../../src/keepalived/daemon.js';
import type { ProbeRecord } from '../../../src/types.js';
import { cmd, file, internal, ipAddrJson, makeSnapshot, missing } from '../../support/snapshot.js';

const BIN = { uid: 0, mode: 0o100755, dev: 2049, ino: 131 };
const ARGV = ['/usr/sbin/keepalived', '--dont-fork', '-D'];
const NS = 'net:[4026532000]';

function proc(pid: number, ppid: number, over: Partial<ProcFacts> = {}): ProcFacts {
  return {
    pid,
    ppid,
    argv: ARGV,
    netns: NS,
    ours: true,
    comm: 'keepalived',
    exe: '/usr/sbin/keepalived',
    exeStat: BIN,
    exeUnsafeDir: '',
    uid: 0,
    euid: 0,
    capEff: '000001ffffffffff',
    state: 'S',
    startedAt: '2026-11-22T02:50:00.000Z',
    ...over,
  };
}

describe('the daemon, from what text cannot forge', () => {
  it('a parent with a VRRP child (the one holding the protocol-112 socket) and a checker child is the daemon', () => {
    const v = verifyDaemons([proc(100, 1), proc(101, 100, { vrrpSocket: false }), proc(102, 100, { vrrpSocket: true })]);
    expect(v.map((p) => [p.pid, p.verified, p.daemon])).toEqual([
      [100, true, 'parent'],
      [101, true, 'checker'],
      [102, true, 'vrrp'],
    ]);
  });

  const impostors: Array<[string, ProcFacts[], RegExp]> = [
    [
      'copy of sh',
      [proc(200, 1, { exe: '/tmp/x/keepalived', exeUnsafeDir: '/tmp' }), proc(201, 200, { exe: '/tmp/x/keepalived', exeUnsafeDir: '/tmp' })],
      /not root-owned or is writable by others/,
    ],
    ['another binary', [proc(200, 1, { exe: '/usr/bin/dash' }), proc(201, 200, { exe: '/usr/bin/dash' })], /not a keepalived binary/],
    ['user-owned binary', [proc(200, 1, { exeStat: { ...BIN, uid: 1000 } }), proc(201, 200, { exeStat: { ...BIN, uid: 1000 } })], /owned by uid 1000/],
    [
      'group-writable binary',
      [proc(200, 1, { exeStat: { ...BIN, mode: 0o100775 } }), proc(201, 200, { exeStat: { ...BIN, mode: 0o100775 } })],
      /writable by group or others/,
    ],
    ['not root', [proc(200, 1, { uid: 1000, euid: 1000 }), proc(201, 200, { uid: 1000, euid: 1000 })], /not root/],
    [
      'keepalived -t',
      [proc(200, 1, { argv: ['keepalived', '-t', '-f', '/tmp/evil.conf'] }), proc(201, 200, { argv: ['keepalived', '-t', '-f', '/tmp/evil.conf'] })],
      /one-shot/,
    ],
    ['no children', [proc(200, 1)], /no VRRP or checker child/],
    ['a child running another binary', [proc(200, 1), proc(201, 200, { exeStat: { ...BIN, ino: 999 } })], /no VRRP or checker child/],
  ];

  it.each(impostors)('%s: not the daemon, saying why', (_name, procs, why) => {
    const v = verifyDaemons(procs);
    expect(v.some((p) => p.verified)).toBe(false);
    expect(v[0]!.notVerified).toMatch(why);
  });

  it('a one-shot keepalived (--version, -t) is told from the daemon by its argv', () => {
    expect(isOneShot(['keepalived', '--version'])).toBe('--version');
    expect(isOneShot(['keepalived', '-n', '-f', '/etc/keepalived/keepalived.conf'])).toBeUndefined();
  });

  it('not root: the facts cannot be read, so the process is unverifiable, neither daemon nor impostor', () => {
    const v = verifyDaemons([proc(300, 1, { exe: null, exeStat: null, netns: '', ours: false })]);
    expect(v[0]).toMatchObject({ verified: false, unverifiable: true, notVerified: expect.stringMatching(/needs root/) });
  });

  it('CapEff without CAP_NET_ADMIN / CAP_NET_RAW', () => {
    expect(missingCapabilities('000001ffffffffff')).toEqual([]);
    expect(missingCapabilities((0x1ffffffffffn & ~(1n << 12n)).toString(16))).toEqual(['CAP_NET_ADMIN']);
    expect(missingCapabilities('0000000000000000')).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW']);
    expect(missingCapabilities(undefined)).toEqual([]);
  });
});

// ------------------------------------------------------------------ whole reports

const CONF_PATH = '/etc/keepalived/keepalived.conf';
const conf = (extra = '') => `vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  unicast_src_ip 10.0.0.2
  unicast_peer {
    10.0.0.3
  }
  virtual_ipaddress {
    10.0.0.1/24
  }
${extra}}
`;

function host(
  o: { procs?: ProcFacts[]; conf?: string; forward?: string; extra?: ProbeRecord[]; uid?: number; fw?: 'ok' | 'timeout' | 'absent'; vipHeld?: boolean } = {},
) {
  const procs = o.procs ?? [proc(4242, 1), proc(4243, 4242, { vrrpSocket: true })];
  const fw: ProbeRecord[] =
    o.fw === 'timeout'
      ? ['iptables-save', 'iptables-nft-save', 'iptables-legacy-save', 'nft-ruleset'].map((id) => ({
          id,
          kind: 'command' as const,
          status: 'timeout' as const,
          exitCode: null,
          stdout: '',
          stderr: '',
          ms: 10000,
          reason: `${id} did not finish within 10000 ms`,
        }))
      : o.fw === 'absent'
        ? []
        : [
            cmd(
              'iptables-save',
              ['iptables-save', '-c'],
              '# Generated by iptables-save v1.8.9 (nf_tables)\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n',
            ),
          ];
  return makeSnapshot(
    [
      cmd('keepalived-binary', ['sh'], '/usr/sbin/keepalived\n'),
      internal('keepalived-processes', JSON.stringify(verifyDaemons(procs))),
      file(`kconf:${CONF_PATH}`, CONF_PATH, o.conf ?? conf()),
      cmd('keepalived-configtest', ['keepalived', '-t', '-f', CONF_PATH], '', 0),
      cmd('ip-addr', ['ip', '-j', 'addr'], ipAddrJson({ lo: ['127.0.0.1/8'], eth0: ['10.0.0.2/24', ...(o.vipHeld === false ? [] : ['10.0.0.1/24'])] })),
      file('sysctl:net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward', `${o.forward ?? '0'}\n`),
      missing('file:/etc/sysctl.conf', '/etc/sysctl.conf'),
      ...fw,
      ...(o.extra ?? []),
    ],
    { uid: o.uid ?? 0, netns: NS },
  );
}

describe('the kind of host', () => {
  it('a floating VIP with forwarding off: kind vip, ip-forward does not apply (and is not blindness)', () => {
    const r = analyse(host());
    expect(r.kind).toBe('vip');
    expect(r.findings.map((f) => f.code)).not.toContain('ip-forward-off');
    const run = r.checks.find((c) => c.id === 'ip-forward')!;
    expect(run).toMatchObject({ status: 'skip', reason: expect.stringMatching(/^not a gateway \(kind vip: /) });
    expect(run.blind).toBeUndefined();
    expect(r.summary.status).toBe('ok');
    expect(exitStatus(r)).toBe(0);
  });

  it("notify_master adding SNAT makes a gateway, and says so with the clients' network", () => {
    const r = analyse(
      host({
        conf: conf('  notify_master /etc/keepalived/master.sh\n'),
        extra: [
          file(
            'script:/etc/keepalived/master.sh',
            '/etc/keepalived/master.sh',
            '#!/bin/sh\n# SNAT the LAN\niptables -t nat -A POSTROUTING -s 192.168.0.0/16 ! -p vrrp -j SNAT --to-source 203.0.113.10\n',
          ),
        ],
      }),
    );
    expect(r.kind).toBe('gateway');
    expect(r.kindEvidence).toEqual(['gateway: notify_master /etc/keepalived/master.sh adds SNAT for 192.168.0.0/16']);
    expect(r.findings.map((f) => f.code)).toContain('ip-forward-off');
  });

  it('a SNAT rule for the VIP network in the nat table makes a gateway; a container MASQUERADE does not', () => {
    const nat = (rule: string) => cmd('iptables-save', ['iptables-save', '-c'], `*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${rule}\nCOMMIT\n`);
    expect(analyse(host({ fw: 'absent', extra: [nat('-A POSTROUTING -s 10.0.0.0/24 -o eth1 -j MASQUERADE')] })).kind).toBe('gateway');
    expect(analyse(host({ fw: 'absent', extra: [nat('-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE')] })).kind).toBe('vip');
  });

  it('LVS-NAT is a gateway, LVS-DR a director; --kind overrides', () => {
    const vs = (kind: string) => `virtual_server 10.0.0.1 80 {\n  lb_kind ${kind}\n  protocol TCP\n  real_server 10.0.1.10 80 {\n  }\n}\n`;
    const nat = analyse(host({ conf: conf() + vs('NAT') }));
    expect(nat.kind).toBe('gateway');
    expect(nat.kindEvidence![0]).toMatch(/LVS-NAT/);
    const dr = analyse(host({ conf: conf() + vs('DR') }));
    expect(dr.kind).toBe('director');
    expect(dr.checks.find((c) => c.id === 'ip-forward')!.reason).toMatch(/^not a gateway \(kind director/);
    const forced = analyse(host(), { kind: 'gateway' });
    expect(forced.kind).toBe('gateway');
    expect(forced.kindEvidence).toEqual(['gateway: given with --kind']);
    expect(forced.findings.map((f) => f.code)).toContain('ip-forward-off');
  });
});

describe('never OK when blind', () => {
  it("every firewall probe timed out: the adverts' firewall path is a core judgement, so UNKNOWN", () => {
    const r = analyse(host({ fw: 'timeout' }));
    expect(r.summary.status).toBe('unknown');
    expect(exitStatus(r)).toBe(3);
    expect(r.summary.notJudged!.find((n) => n.check === 'netfilter-vrrp-filter')).toMatchObject({
      core: true,
      reason: expect.stringMatching(/did not finish/),
    });
  });

  it('one firewall backend hung while another was read: judged on part of the rules, so WARNING, not OK', () => {
    const r = analyse(
      host({
        extra: [
          {
            id: 'nft-ruleset',
            kind: 'command',
            status: 'timeout',
            exitCode: null,
            stdout: '',
            stderr: '',
            ms: 10000,
            reason: 'nft did not finish within 10000 ms',
          },
        ],
      }),
    );
    expect(r.summary.status).toBe('warning');
    expect(r.summary.notJudged).toEqual([
      expect.objectContaining({ check: 'firewall', core: false, reason: expect.stringContaining('nft-ruleset: nft did not finish') }),
    ]);
  });

  it('--only narrows the judgements too: a run of ip-forward-off alone does not hinge on the daemon', () => {
    const blind = [proc(4242, 1, { exe: null, exeStat: null, netns: '', ours: false })];
    const r = analyse(host({ procs: blind, uid: 1000, forward: '1' }), { only: ['ip-forward-off'] });
    expect(r.summary.notJudged ?? []).toEqual([]);
  });

  it('a check that errors on a malformed snapshot keeps the summary from OK and says which', () => {
    const list = CHECKS as unknown as unknown[];
    const broken = { id: 'test-broken', title: 'broken', codes: ['vrrp-input-blocked'] as const, run: () => JSON.parse('{') as never };
    list.push(broken);
    try {
      const r = analyse(host());
      expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
      expect(r.summary.status).toBe('warning');
      expect(exitStatus(r)).toBe(1);
      expect(r.summary.notJudged).toEqual([
        expect.objectContaining({ check: 'test-broken', core: false, reason: expect.stringMatching(/^the check failed: /) }),
      ]);
    } finally {
      list.splice(list.indexOf(broken), 1);
    }
  });

  it('a judged error stays CRITICAL even when something else could not be judged', () => {
    const list = CHECKS as unknown as unknown[];
    const bad = {
      id: 'test-bad',
      title: 'bad',
      codes: ['vrrp-input-blocked'] as const,
      run: () => [finding('vrrp-input-blocked', { title: 't', detail: 'd' })],
    };
    list.push(bad);
    try {
      expect(analyse(host({ fw: 'timeout' })).summary.status).toBe('critical');
    } finally {
      list.splice(list.indexOf(bad), 1);
    }
  });

  it('not root: processes named keepalived cannot be verified: no keepalived-not-running, no vip-stray-local, UNKNOWN with "needs root"', () => {
    const blind = [
      proc(4242, 1, { exe: null, exeStat: null, netns: '', ours: false, uid: 0, euid: 0 }),
      proc(4243, 4242, { exe: null, exeStat: null, netns: '', ours: false }),
    ];
    const skipped = (id: string): ProbeRecord => ({ id, kind: 'command', status: 'skipped', stdout: '', stderr: '', ms: 0, reason: 'needs root' });
    const r = analyse(host({ procs: blind, uid: 65534, fw: 'absent', extra: [skipped('iptables-save'), skipped('nft-ruleset')] }));
    const codes = r.findings.map((f) => f.code);
    expect(codes).not.toContain('keepalived-not-running');
    expect(codes).not.toContain('vip-stray-local');
    expect(r.summary.status).toBe('unknown');
    expect(r.summary.notJudged!.find((n) => n.check === 'keepalived-running')).toMatchObject({ core: true, reason: expect.stringMatching(/^needs root: /) });
    expect(r.instances[0]).toMatchObject({ state: 'UNKNOWN' });
  });

  it('not root under hidepid, or with a root-only config: "none seen" and "unreadable" are not findings', () => {
    const hidden = analyse(host({ procs: [], uid: 1000, extra: [internal('proc-pid1-visible', 'no')] }));
    expect(hidden.findings.map((f) => f.code)).not.toContain('keepalived-not-running');
    expect(hidden.summary.status).toBe('unknown');
    const snap = host({ procs: [], uid: 1000 });
    snap.probes[`kconf:${CONF_PATH}`] = {
      id: `kconf:${CONF_PATH}`,
      kind: 'file',
      path: CONF_PATH,
      status: 'denied',
      stdout: '',
      stderr: '',
      ms: 0,
      reason: 'permission denied',
    };
    const r = analyse(snap);
    expect(r.findings.map((f) => f.code)).not.toContain('keepalived-config-invalid');
    expect(r.checks.find((c) => c.id === 'keepalived-config')).toMatchObject({ status: 'skip', blind: true, reason: expect.stringMatching(/^needs root: /) });
  });

  it('a keepalived lookup that timed out is not "not installed"', () => {
    const snap = host({ procs: [] });
    snap.probes['keepalived-binary'] = {
      id: 'keepalived-binary',
      kind: 'internal',
      status: 'timeout',
      stdout: '',
      stderr: '',
      ms: 3000,
      reason: 'timed out after 3000 ms',
    };
    const r = analyse(snap);
    expect(r.findings.map((f) => f.code)).not.toContain('keepalived-not-installed');
    expect(r.checks.find((c) => c.id === 'keepalived-installed')).toMatchObject({ status: 'skip', blind: true });
    expect(r.summary.status).not.toBe('ok');
  });

  it('no keepalived process at all is judged (not running), not blindness', () => {
    const r = analyse(host({ procs: [] }));
    expect(r.findings.map((f) => f.code)).toContain('keepalived-not-running');
    expect(r.summary.notJudged ?? []).toEqual([]);
  });
});

describe("the state from the daemon's own log lines only", () => {
  const journal = (lines: string[]) => cmd('keepalived-journal', ['journalctl'], lines.join('\n') + '\n');
  it("lines of another pid, or older than the daemon, do not count; the VRRP child's later lines refine the VIP-less state", () => {
    const before = '2026-11-22T02:40:00+0000 gw1 Keepalived_vrrp[4243]: (VI_1) Entering FAULT STATE';
    const forged = '2026-11-22T02:58:00+0000 gw1 Keepalived_vrrp[999]: (VI_1) Entering FAULT STATE';
    const real = '2026-11-22T02:55:00+0000 gw1 Keepalived_vrrp[4243]: (VI_1) Entering BACKUP STATE';
    const r = analyse(host({ vipHeld: false, extra: [journal([before, real, forged])] }));
    expect(r.instances[0]).toMatchObject({ state: 'BACKUP', since: '2026-11-22T02:55:00+0000' });
    const fault = analyse(
      host({ vipHeld: false, extra: [journal([real, '2026-11-22T02:56:00+0000 gw1 Keepalived_vrrp[4243]: (VI_1) Entering FAULT STATE'])] }),
    );
    expect(fault.instances[0]).toMatchObject({ state: 'FAULT' });
    expect(fault.role).toBe('fault');
  });

  it('a MASTER line of the daemon while no VIP is held: the addresses decide, the log is noted, no role-premised fix', () => {
    const r = analyse(host({ vipHeld: false, extra: [journal(['2026-11-22T02:55:00+0000 gw1 Keepalived_vrrp[4243]: (VI_1) Entering MASTER STATE'])] }));
    expect(r.instances[0]).toMatchObject({ state: 'BACKUP', contested: expect.stringMatching(/says MASTER/) });
  });
});

describe('the daemon checks', () => {
  it('two verified daemons in this namespace: keepalived-duplicate', () => {
    const r = analyse(
      host({
        procs: [
          proc(10, 1),
          proc(11, 10, { vrrpSocket: true }),
          proc(20, 1, { argv: ['keepalived', '-f', '/etc/keepalived/old.conf'] }),
          proc(21, 20, { argv: ['keepalived', '-f', '/etc/keepalived/old.conf'], vrrpSocket: true }),
        ],
      }),
    );
    const f = r.findings.find((x) => x.code === 'keepalived-duplicate')!;
    expect(f.severity).toBe('critical');
    expect(f.detail).toContain('/etc/keepalived/old.conf');
  });

  it('a daemon of another namespace is no duplicate', () => {
    const r = analyse(
      host({ procs: [proc(10, 1), proc(11, 10), proc(20, 1, { netns: 'net:[1]', ours: false }), proc(21, 20, { netns: 'net:[1]', ours: false })] }),
    );
    expect(r.findings.map((x) => x.code)).not.toContain('keepalived-duplicate');
  });

  it('CapEff without CAP_NET_RAW: keepalived-capabilities-missing, and the send errors name it', () => {
    const noRaw = (0x1ffffffffffn & ~(1n << 13n)).toString(16).padStart(16, '0');
    const log = 'Sun Nov 22 02:59:00 2026: (VI_1) send advert error 1 (Operation not permitted)\n';
    const r = analyse(
      host({
        procs: [proc(10, 1, { capEff: noRaw }), proc(11, 10, { capEff: noRaw, vrrpSocket: false })],
        extra: [file('keepalived-log', '/var/log/k.log', log)],
      }),
    );
    expect(r.findings.find((x) => x.code === 'keepalived-capabilities-missing')).toMatchObject({
      severity: 'critical',
      title: 'keepalived runs without CAP_NET_RAW',
    });
    expect(r.findings.find((x) => x.code === 'vrrp-output-blocked')?.detail).toContain('the daemon runs without CAP_NET_RAW');
  });

  it('a stale PID file naming a live process that is not keepalived', () => {
    const r = analyse(
      host({
        procs: [],
        extra: [internal('pidfile:/run/keepalived.pid', JSON.stringify({ file: '/run/keepalived.pid', pid: 812, alive: true, comm: 'nginx' }))],
      }),
    );
    const f = r.findings.find((x) => x.code === 'keepalived-capabilities-missing')!;
    expect(f.title).toBe('a stale keepalived PID file blocks the start');
    expect(f.evidence[0]!.excerpt).toContain('pid 812, which is now "nginx"');
  });
});
