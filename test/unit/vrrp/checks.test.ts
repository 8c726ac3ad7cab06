import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CheckContext } from '../../../src/context.js';
import { runCheck } from '../../../src/check.js';
import type { ProbeRecord, Snapshot } from '../../../src/types.js';
import { vrrpChecks } from '../../../checks/vrrp.js';
import { wireArgv, wireProvider, wireWindow } from '../../../src/probes/vrrp.js';
import { commandRecord } from '../../support/snapshot.js';

const fx = (name: string) => readFileSync(new URL(`../../fixtures/vrrp/${name}`, import.meta.url), 'utf8');
const CONF = '/etc/keepalived/keepalived.conf';

function conf(
  o: { priority?: number; auth?: string; advertInt?: number; vips?: string[]; unicast?: { src: string; peer: string }; vrid?: number } = {},
): string {
  return `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${o.vrid ?? 51}
  priority ${o.priority ?? 100}
  advert_int ${o.advertInt ?? 1}
  ${o.auth === undefined ? 'authentication {\n auth_type PASS\n auth_pass secret1\n }' : o.auth}
  ${o.unicast ? `unicast_src_ip ${o.unicast.src}\n  unicast_peer {\n ${o.unicast.peer}\n }` : ''}
  virtual_ipaddress {
${(o.vips ?? ['10.9.0.254/24', '10.9.0.253/24']).map((v) => `    ${v}`).join('\n')}
  }
}
`;
}

const rec = commandRecord;

function snapshot(o: {
  log?: string;
  wire?: string;
  wireExit?: number;
  conf?: string;
  self?: string;
  createdAt?: string;
  iptables?: string;
  options?: Snapshot['options'];
  extraAddrs?: string[];
}): Snapshot {
  const self = o.self ?? '10.9.0.2';
  const addrs = [self, ...(o.extraAddrs ?? [])];
  const probes: Record<string, ProbeRecord> = {
    'keepalived-processes': rec(
      'keepalived-processes',
      JSON.stringify([{ pid: 6621, ppid: 1, argv: ['keepalived', '-n', '-l', '-D', '-f', CONF], netns: 'net:[1]', ours: true }]),
      { kind: 'internal' },
    ),
    [`kconf:${CONF}`]: rec(`kconf:${CONF}`, o.conf ?? conf(), { kind: 'file', path: CONF }),
    'ip-addr': rec(
      'ip-addr',
      JSON.stringify([
        { ifname: 'eth0', link_type: 'ether', address: '2a:1d:da:11:6b:fd', addr_info: addrs.map((a) => ({ family: 'inet', local: a, prefixlen: 24 })) },
      ]),
    ),
  };
  if (o.log !== undefined) probes['keepalived-log'] = rec('keepalived-log', o.log, { kind: 'file', path: '/var/log/keepalived.log' });
  if (o.wire !== undefined) probes['vrrp-wire:eth0'] = rec('vrrp-wire:eth0', o.wire, { argv: wireArgv('eth0', 3), exitCode: o.wireExit ?? 124 });
  if (o.iptables !== undefined) probes['iptables-save'] = rec('iptables-save', o.iptables);
  return {
    schema: 'hagw-doctor.snapshot/v1',
    createdAt: o.createdAt ?? new Date(2026, 10, 22, 2, 41, 9).toISOString(),
    tool: { name: 'hagw-doctor', version: 'test' },
    options: o.options ?? { wire: true },
    host: { hostname: 'gw2', kernel: '6.1', os: 'debian', keepalived: '2.2.7', netns: 'net:[1]', uid: 0 },
    probes,
  };
}

function run(s: Snapshot, code?: string) {
  const ctx = new CheckContext(s);
  const outcomes = vrrpChecks.map((c) => ({ check: c, ...runCheck(c, ctx) }));
  const findings = outcomes.flatMap((o) => o.findings);
  return { outcomes, findings: code ? findings.filter((f) => f.code === code) : findings };
}

// the backup's log at the moment VRRP was dropped in its INPUT: MASTER since 02:41:04, hearing nothing
const SPLIT_LOG =
  'Sun Nov 22 02:40:40 2026: (VI_1) Entering BACKUP STATE (init)\nSun Nov 22 02:41:04 2026: (VI_1) Receive advertisement timeout\nSun Nov 22 02:41:04 2026: (VI_1) Entering MASTER STATE\n';
const DROP_RULES = fx('iptables-save-input-drop.txt');
// a MASTER holds its VIPs: the state comes from the addresses, the log only refines it
const MASTER_VIPS = ['10.9.0.254', '10.9.0.253'];

describe("vrrp-split-brain and vrrp-input-blocked (captured split brain: VRRP dropped in the backup's INPUT)", () => {
  it('split brain from the wire, with the rival named', () => {
    const [f] = run(
      snapshot({ extraAddrs: MASTER_VIPS, log: SPLIT_LOG, wire: fx('tcpdump-v2-split-brain-eth.txt'), iptables: DROP_RULES }),
      'vrrp-split-brain',
    ).findings;
    expect(f).toMatchObject({ code: 'vrrp-split-brain', severity: 'critical', subject: 'VI_1' });
    expect(f!.detail).toContain('10.9.0.1 (priority 150)');
    expect(f!.evidence[0]!.excerpt).toContain('vrid 51: 10.9.0.2 (this node)');
    // the password never reaches the report
    expect(JSON.stringify(f)).not.toContain('secret1');
  });

  it('input-blocked is left to the netfilter check when the rule set explains it', () => {
    expect(
      run(snapshot({ extraAddrs: MASTER_VIPS, log: SPLIT_LOG, wire: fx('tcpdump-v2-split-brain-eth.txt'), iptables: DROP_RULES }), 'vrrp-input-blocked')
        .findings,
    ).toEqual([]);
  });

  it('input-blocked from wire proof when no readable rule explains it', () => {
    const [f] = run(snapshot({ extraAddrs: MASTER_VIPS, log: SPLIT_LOG, wire: fx('tcpdump-v2-split-brain-eth.txt') }), 'vrrp-input-blocked').findings;
    expect(f).toMatchObject({ code: 'vrrp-input-blocked', subject: 'VI_1' });
    expect(f!.title).toContain('adverts from 10.9.0.1 (priority 150) reach this host');
    expect(f!.detail).toMatch(/could not be read/);
  });

  it('a lower-priority rival is a split brain but not input-blocked (keepalived rightly stays MASTER)', () => {
    const s = snapshot({ extraAddrs: MASTER_VIPS, log: SPLIT_LOG, wire: fx('tcpdump-v2-split-brain-eth.txt'), conf: conf({ priority: 200 }) });
    expect(run(s, 'vrrp-input-blocked').findings).toEqual([]);
    expect(run(s, 'vrrp-split-brain').findings).toHaveLength(1);
  });

  it('split brain from the log alone: MASTER that keeps hearing "forcing new election"', () => {
    const log = fx('keepalived-2.2.7-console-master.log')
      .split('\n')
      .filter((l) => l <= 'Sun Nov 22 02:41:08 2026:~' || !l.startsWith('Sun'))
      .join('\n');
    const s = snapshot({
      extraAddrs: MASTER_VIPS,
      log,
      self: '10.9.0.1',
      conf: conf({ priority: 150 }),
      options: {},
      createdAt: new Date(2026, 10, 22, 2, 41, 9).toISOString(),
    });
    const { findings, outcomes } = run(s, 'vrrp-split-brain');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.detail).toContain('forcing new election');
    // without --wire the wire checks say why they skipped
    expect(outcomes.find((o) => o.check.id === 'vrrp-wire-peers')!.run).toMatchObject({ status: 'skip', reason: 'the wire view needs --wire' });
  });

  // the same captured log, read after the split brain healed: the peer's last master advert arrived
  // at 02:41:17; this node stays MASTER (rightly: it has the higher priority), nothing later says so
  const healedLog = (until: string) =>
    fx('keepalived-2.2.7-console-master.log')
      .split('\n')
      .filter((l) => l <= `Sun Nov 22 ${until} 2026:~` || !l.startsWith('Sun'))
      .join('\n');
  const healed = (until: string, createdAt: Date, wire?: string) =>
    snapshot({
      extraAddrs: MASTER_VIPS,
      log: healedLog(until),
      self: '10.9.0.1',
      conf: conf({ priority: 150 }),
      options: wire === undefined ? {} : { wire: true },
      createdAt: createdAt.toISOString(),
      ...(wire === undefined ? {} : { wire }),
    });

  it('a log-only split brain that healed is not reported while the node stays MASTER (recency: 5 advert intervals + 5 s)', () => {
    // 3 s after the peer's last master advert: still ongoing
    expect(run(healed('02:41:20', new Date(2026, 10, 22, 2, 41, 20)), 'vrrp-split-brain').findings).toHaveLength(1);
    // 10 s after it: the window's edge, still counted
    expect(run(healed('02:41:27', new Date(2026, 10, 22, 2, 41, 27)), 'vrrp-split-brain').findings).toHaveLength(1);
    // 13 s and 4 min after it (before, the 5-minute window kept reporting it): healed
    expect(run(healed('02:41:30', new Date(2026, 10, 22, 2, 41, 30)), 'vrrp-split-brain').findings).toEqual([]);
    expect(run(healed('02:45:17', new Date(2026, 10, 22, 2, 45, 17)), 'vrrp-split-brain').findings).toEqual([]);
  });

  it('a later capture that hears no other master outweighs recent "forcing new election" lines', () => {
    // the capture as 10.9.0.1 sees it: its own MAC is the one the snapshot's ip-addr lists
    const seenFromGw1 = fx('tcpdump-v2-split-brain-eth.txt')
      .replaceAll('2a:1d:da:11:6b:fd', 'MAC-B')
      .replaceAll('5e:18:b8:36:5b:73', '2a:1d:da:11:6b:fd')
      .replaceAll('MAC-B', '5e:18:b8:36:5b:73');
    const lines = seenFromGw1.split('\n');
    // only this node's adverts: the peer (10.9.0.2) no longer advertises, it is BACKUP
    const own = lines.filter((l, i) => !l.includes('10.9.0.2 > 224.0.0.18') && !lines[i + 1]?.includes('10.9.0.2 > 224.0.0.18')).join('\n');
    expect(own).toContain('10.9.0.1 > 224.0.0.18');
    expect(run(healed('02:41:20', new Date(2026, 10, 22, 2, 41, 20), own), 'vrrp-split-brain').findings).toEqual([]);
    // the same log with the rival on the wire: reported
    expect(run(healed('02:41:20', new Date(2026, 10, 22, 2, 41, 20), seenFromGw1), 'vrrp-split-brain').findings).toHaveLength(1);
  });

  it('a healthy pair: nothing', () => {
    const log = 'Sun Nov 22 02:40:40 2026: (VI_1) Entering BACKUP STATE (init)\n';
    const { findings, outcomes } = run(snapshot({ log, wire: fx('tcpdump-v2-multicast-pass.txt') + '\n3 packets captured\n' }));
    expect(findings).toEqual([]);
    expect(outcomes.every((o) => o.run.status === 'pass')).toBe(true);
  });
});

describe('vrrp-no-peer-adverts', () => {
  const uc = conf({ unicast: { src: '10.9.0.2', peer: '10.9.0.1' } });
  it('a BACKUP with a silent unicast peer', () => {
    const [f] = run(
      snapshot({ log: 'Sun Nov 22 02:40:40 2026: (VI_1) Entering BACKUP STATE (init)\n', wire: '3 packets captured\n', conf: uc }),
      'vrrp-no-peer-adverts',
    ).findings;
    expect(f!.title).toContain('no advert from unicast peer 10.9.0.1 in 3 s');
    expect(f!.detail).toMatch(/security group/);
    // a unicast pair does not hear about switch multicast handling; a multicast backup does (catalogue 24)
    expect(f!.detail).not.toMatch(/IGMP snooping/);
    const [m] = run(
      snapshot({ log: 'Sun Nov 22 02:40:40 2026: (VI_1) Entering BACKUP STATE (init)\n', wire: '3 packets captured\n' }),
      'vrrp-no-peer-adverts',
    ).findings;
    expect(m!.detail).toMatch(/IGMP snooping.*invisible from the host/);
  });
  it('says when adverts come from a source that is not the peer (SNAT or unicast_src_ip)', () => {
    const wire = fx('tcpdump-v2-split-brain-eth.txt').replaceAll('10.9.0.1 >', '198.51.100.7 >');
    const [f] = run(snapshot({ log: 'Sun Nov 22 02:40:40 2026: (VI_1) Entering BACKUP STATE (init)\n', wire, conf: uc }), 'vrrp-no-peer-adverts').findings;
    expect(f!.detail).toContain('198.51.100.7, which is not a configured peer');
  });
  it('is skipped when tcpdump is missing or the window is too short for advert_int', () => {
    const missing = run(snapshot({ log: '', wire: '', wireExit: 127, conf: uc }));
    expect(missing.outcomes.find((o) => o.check.id === 'vrrp-wire-peers')!.run.reason).toMatch(/tcpdump is not installed/);
    expect(
      run(snapshot({ log: '', wire: '', conf: conf({ advertInt: 5, unicast: { src: '10.9.0.2', peer: '10.9.0.1' } }) }), 'vrrp-no-peer-adverts').findings,
    ).toEqual([]);
  });
});

describe('mismatches on the wire and in the log', () => {
  it('vrid-collision: same VRID, other VIPs (wire) and the log line', () => {
    const wire = run(snapshot({ log: '', wire: fx('tcpdump-v2-collision-vips.txt'), self: '10.9.0.1' }), 'vrid-collision').findings;
    expect(wire[0]!.title).toContain('10.9.0.2 advertises the same VRID with other VIPs (10.9.0.200; ours 10.9.0.253,10.9.0.254)');
    const log = fx('keepalived-2.2.7-console-vrid-collision.log');
    const f = run(
      snapshot({
        log,
        conf: conf({ vips: ['10.9.0.200/24', '10.9.0.201/24'] }).replace('VI_1', 'OTHER'),
        options: {},
        createdAt: new Date(2026, 10, 22, 2, 42, 30).toISOString(),
      }),
      'vrid-collision',
    ).findings;
    expect(f[0]).toMatchObject({ severity: 'error', subject: 'OTHER' });
    expect(f[0]!.evidence[0]!.excerpt).toContain('ip address associated with VRID 51 not present in MASTER advert');
  });

  it('vrrp-auth-mismatch: auth type on the wire, and the log', () => {
    const [w] = run(snapshot({ log: '', wire: fx('tcpdump-v2-collision-authtype.txt'), self: '10.9.0.1', conf: conf() }), 'vrrp-auth-mismatch').findings;
    expect(w!.title).toContain('sends auth type none; this node expects simple');
    const [p] = run(
      snapshot({ log: '', wire: fx('tcpdump-v2-split-brain-eth.txt'), conf: conf({ auth: 'authentication {\n auth_type PASS\n auth_pass other\n }' }) }),
      'vrrp-auth-mismatch',
    ).findings;
    expect(p!.title).toContain('sends a different auth_pass');
    const [l] = run(
      snapshot({ log: fx('keepalived-2.2.7-console-auth-mismatch.log'), options: {}, createdAt: new Date(2026, 10, 22, 2, 41, 30).toISOString() }),
      'vrrp-auth-mismatch',
    ).findings;
    expect(l).toMatchObject({ severity: 'error' });
    expect(l!.evidence[0]!.excerpt).toContain('received an invalid passwd!');
  });

  it('a mismatch fixed an hour ago is info, with the reason', () => {
    const [l] = run(
      snapshot({ log: fx('keepalived-2.2.7-console-auth-mismatch.log'), options: {}, createdAt: new Date(2026, 10, 22, 3, 45).toISOString() }),
      'vrrp-auth-mismatch',
    ).findings;
    expect(l).toMatchObject({ severity: 'info' });
    expect(l!.detail).toMatch(/most likely been fixed/);
    // and outside --since it is not reported at all
    expect(
      run(
        snapshot({ log: fx('keepalived-2.2.7-console-auth-mismatch.log'), options: { since: '30m' }, createdAt: new Date(2026, 10, 22, 3, 45).toISOString() }),
        'vrrp-auth-mismatch',
      ).findings,
    ).toEqual([]);
  });

  it('vrrp-advert-int-mismatch from the wire and the 1.x log (no instance name)', () => {
    const [w] = run(snapshot({ log: '', wire: fx('tcpdump-v2-advert-int-mismatch.txt'), self: '10.9.0.1' }), 'vrrp-advert-int-mismatch').findings;
    expect(w!.title).toContain("advertises every 2 s; this node's advert_int is 1 s");
    const [l] = run(
      snapshot({ log: fx('keepalived-1.3-syslog-failover.log'), options: { since: '7d' }, createdAt: new Date(2026, 10, 22, 0, 6).toISOString() }),
      'vrrp-advert-int-mismatch',
    ).findings;
    expect(l!.title).toContain('keepalived: advert_int differs');
  });

  it('vrrp-output-blocked from send errors in the log', () => {
    const log = fx('keepalived-2.2.7-console-master.log')
      .split('\n')
      .filter((l) => l <= 'Sun Nov 22 02:41:17 2026:~' || !l.startsWith('Sun'))
      .join('\n');
    const [f] = run(
      snapshot({ log, self: '10.9.0.1', options: {}, createdAt: new Date(2026, 10, 22, 2, 41, 18).toISOString() }),
      'vrrp-output-blocked',
    ).findings;
    expect(f).toMatchObject({ severity: 'critical', subject: 'VI_1' });
    expect(f!.evidence.at(-1)!.excerpt).toContain('send advert error 1 (Operation not permitted)');
  });
});

describe('wire probe', () => {
  it('listens 3 advert intervals on the config interfaces, bounded, only with --wire', () => {
    expect(wireWindow([1])).toBe(3);
    expect(wireWindow([10])).toBe(15);
    expect(wireWindow([1], 7)).toBe(7);
    expect(wireWindow([], 600)).toBe(15);
    const records = { [`kconf:${CONF}`]: rec(`kconf:${CONF}`, conf({ advertInt: 2 }), { kind: 'file', path: CONF }) };
    expect(wireProvider.probes({ round: 1, records, options: {}, isRoot: true })).toEqual([]);
    const [spec] = wireProvider.probes({ round: 1, records, options: { wire: true, config: CONF }, isRoot: true });
    expect(spec).toMatchObject({
      id: 'vrrp-wire:eth0',
      kind: 'command',
      needsRoot: true,
      argv: ['timeout', '6', 'tcpdump', '-nn', '-l', '-v', '-e', '-i', 'eth0', '-c', '500', 'ip proto 112'],
    });
    // no config at all: all interfaces, once the config is known to be missing
    expect(JSON.stringify(wireProvider.probes({ round: 3, records: {}, options: { wire: true }, isRoot: true }))).toContain('"-i","any"');
  });
});
