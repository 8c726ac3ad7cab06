// Issue 14 (part A) on snapshot fixtures: output captured from the lab's real keepalived pair
// (test/fixtures/vrrp-field/), hand-made only where the lab cannot produce it (older log wordings).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CheckContext } from '../../../src/context.js';
import { runCheck } from '../../../src/check.js';
import type { ProbeRecord, Snapshot } from '../../../src/types.js';
import { vrrpFieldChecks } from '../../../checks/vrrp-field.js';
import { applyEdits, strictEdits } from '../../../src/keepalived/fixes.js';
import { parseKeepalivedConfig } from '../../../src/keepalived/parse.js';
import { cmd, file, internal, makeSnapshot } from '../../support/snapshot.js';
import { wireArgv } from '../../../src/probes/vrrp.js';

const fx = (name: string) => readFileSync(new URL(`../../fixtures/vrrp-field/${name}`, import.meta.url), 'utf8');
const CONF = '/etc/keepalived/keepalived.conf';
const AT = (h: number, m: number, s = 0) => new Date(2026, 11, 2, h, m, s).toISOString();

function snap(o: {
  conf?: string;
  log?: string;
  nft?: string;
  link?: string;
  addr?: string;
  createdAt?: string;
  extra?: ProbeRecord[];
  configtest?: number;
}): Snapshot {
  const records: ProbeRecord[] = [
    internal(
      'keepalived-processes',
      JSON.stringify([{ pid: 4242, ppid: 1, argv: ['keepalived', '-n', '-l', '-D', '-f', CONF], netns: 'net:[1]', ours: true }]),
    ),
    { ...file(`kconf:${CONF}`, CONF, o.conf ?? fx('keepalived-gw1.conf')) },
    cmd('ip-addr', ['ip', '-j', 'addr', 'show'], o.addr ?? fx('ip-addr-eth1-down.json')),
    cmd('ip-link', ['ip', '-j', '-d', 'link', 'show'], o.link ?? fx('ip-link-eth1-down.json')),
    cmd('keepalived-configtest', ['keepalived', '-t', '-f', CONF], '', o.configtest ?? 0),
    ...(o.log !== undefined ? [file('keepalived-log', '/tmp/keepalived.log', o.log)] : []),
    ...(o.nft !== undefined ? [cmd('nft-ruleset', ['nft', '-j', 'list', 'ruleset'], o.nft)] : []),
    ...(o.extra ?? []),
  ];
  const s = makeSnapshot(records);
  s.createdAt = o.createdAt ?? AT(7, 28);
  return s;
}

function run(s: Snapshot, code: string) {
  const ctx = new CheckContext(s);
  const outcomes = vrrpFieldChecks.map((c) => ({ check: c, ...runCheck(c, ctx) }));
  for (const o of outcomes) expect(o.run.status, `${o.check.id}: ${o.run.reason ?? ''}`).not.toBe('error');
  return outcomes.flatMap((o) => o.findings).filter((f) => f.code === code);
}

// ---------------------------------------------------------------- vrrp-strict-blocks-vip

describe('vrrp-strict-blocks-vip (captured: vrrp_strict on the lab master)', () => {
  // the master holds both VIPs (the addresses decide the state; the log only refines it)
  const strict = snap({
    conf: fx('keepalived-gw1-strict.conf'),
    log: fx('keepalived-strict-master.log'),
    nft: fx('nft-strict-master.json'),
    configtest: 5,
    addr: fx('ip-addr-master.json'),
  });

  it("names keepalived's own nft table and the config line, on the MASTER, critical", () => {
    const f = run(strict, 'vrrp-strict-blocks-vip');
    expect(f.map((x) => x.subject)).toEqual(['VI_LAN', 'VI_WAN']);
    expect(f[0]!.severity).toBe('critical');
    const ev = f[0]!.evidence.map((e) => e.excerpt);
    expect(ev).toContain(`${CONF}:6: vrrp_strict (global_defs), and vrrp_instance VI_LAN has no \`accept\``);
    expect(ev).toContain('table ip keepalived chain in: ip daddr @vips drop (set vips = { 192.168.100.1, 198.51.100.10 })');
    expect(ev.some((e) => /\(VI_LAN\) setting firewall drop rule/.test(e))).toBe(true);
    expect(f[0]!.detail).toMatch(/This node is MASTER and keepalived's own rule drops 192\.168\.100\.1 right now/);
    expect(f[0]!.detail).toMatch(/resets `accept`/);
  });

  it('the fix turns strict mode off and the auth blocks it ignored, reloads, and deletes the leftover table', () => {
    const plan = run(strict, 'vrrp-strict-blocks-vip')[0]!.fix!;
    expect(plan.steps[0]).toEqual({ argv: ['kill', '-0', '4242'], undo: [['kill', '-HUP', '4242']], why: expect.stringContaining('on undo it reloads') });
    const write = plan.steps.find((s) => 'write' in s) as { write: { path: string; content: string } };
    expect(write.write.path).toBe(CONF);
    expect(write.write.content).toMatch(/^#\s+vrrp_strict$/m);
    expect(write.write.content.match(/^#\s+authentication \{$/gm)?.length).toBe(2);
    // the guard is tolerated: the current config already fails keepalived -t (exit 5)
    expect(plan.steps.find((s) => 'argv' in s && s.argv[0] === 'keepalived')).toMatchObject({ optional: true });
    expect(plan.steps.some((s) => 'argv' in s && s.argv.join(' ') === 'kill -HUP 4242')).toBe(true);
    expect(plan.steps.at(-1)).toMatchObject({ argv: ['nft', 'delete', 'table', 'ip', 'keepalived'] });
    expect(plan.touches).toEqual({ files: [CONF], nft: true });
    // the rewritten config parses without strict mode and without authentication
    const after = parseKeepalivedConfig(CONF, { readFile: () => write.write.content, listDir: () => undefined }).config;
    expect(after.globalDefs.vrrpStrict).toBe(false);
    expect(after.vrrpInstances.map((v) => v.authentication)).toEqual([undefined, undefined]);
  });

  it('on VRRPv3, `accept` is enough (strict mode honours it there)', () => {
    const conf = fx('keepalived-gw1-strict.conf').replace(/advert_int 1/g, 'advert_int 1\n    version 3');
    const cfg = parseKeepalivedConfig(CONF, { readFile: () => conf, listDir: () => undefined }).config;
    const edits = strictEdits(cfg, cfg.vrrpInstances, () => conf)!;
    expect(edits.every((e) => e.kind === 'insert-after' && e.text === 'accept')).toBe(true);
    const next = applyEdits(conf, edits)!;
    expect(next).toMatch(/vrrp_instance VI_LAN \{\n\s+accept\s+# hagw-doctor/);
    const f = run(snap({ conf: next, log: fx('keepalived-strict-master.log') }), 'vrrp-strict-blocks-vip');
    expect(f).toEqual([]);
  });

  it('accept under strict mode on VRRPv2 is still blocked (keepalived resets it)', () => {
    const conf = fx('keepalived-gw1-strict.conf').replace(/(vrrp_instance \w+ \{\n)/g, '$1    accept\n');
    const f = run(snap({ conf, nft: fx('nft-strict-master.json'), log: fx('keepalived-strict-master.log') }), 'vrrp-strict-blocks-vip');
    expect(f[0]!.title).toMatch(/vrrp_strict on VRRPv2 \(where keepalived resets `accept`\)/);
  });

  it('a config without strict mode whose running keepalived still drops the VIP: the stale table', () => {
    const f = run(
      snap({ nft: fx('nft-strict-master.json'), log: fx('keepalived-strict-master.log'), addr: fx('ip-addr-master.json') }),
      'vrrp-strict-blocks-vip',
    );
    expect(f.map((x) => x.subject)).toEqual(['VI_LAN', 'VI_WAN']);
    expect(f[0]!.title).toMatch(/still drops 192\.168\.100\.1/);
    expect(f[0]!.fix!.steps).toEqual([expect.objectContaining({ argv: ['nft', 'delete', 'table', 'ip', 'keepalived'] })]);
  });

  it('no finding without strict mode and without a drop table', () => {
    expect(run(snap({ log: fx('keepalived-strict-master.log') }), 'vrrp-strict-blocks-vip')).toEqual([]);
  });

  it('no_accept alone is replaced by accept', () => {
    const conf = fx('keepalived-gw1.conf').replace(/(vrrp_instance VI_LAN \{\n)/, '$1    no_accept\n');
    const f = run(snap({ conf, log: fx('keepalived-strict-master.log') }), 'vrrp-strict-blocks-vip');
    expect(f.map((x) => x.subject)).toEqual(['VI_LAN']);
    const w = f[0]!.fix!.steps.find((s) => 'write' in s) as { write: { content: string } };
    expect(w.write.content).toMatch(/# hagw-doctor: accept instead.*\n#    no_accept\n\s+accept\n/);
  });
});

// ---------------------------------------------------------------- vrrp-instance-fault

describe("vrrp-instance-fault (captured: the master's WAN link set down, sync group VG_GW)", () => {
  const fault = snap({ log: fx('keepalived-fault.log') });

  it('VI_WAN: its interface is down; VI_LAN: dragged by the sync group', () => {
    const f = run(fault, 'vrrp-instance-fault');
    const wan = f.find((x) => x.subject === 'VI_WAN')!;
    const lan = f.find((x) => x.subject === 'VI_LAN')!;
    expect(wan.title).toBe('VI_WAN is in FAULT: interface eth1 is administratively down (`ip link set eth1 up`, or whatever took it down)');
    expect(wan.evidence[0]).toEqual({ probe: 'ip-link', excerpt: 'eth1: <BROADCAST,MULTICAST> state DOWN' });
    expect(wan.evidence.some((e) => /Netlink reports eth1 down/.test(e.excerpt))).toBe(true);
    expect(lan.title).toMatch(/^VI_LAN is in FAULT: sync group VG_GW holds it in FAULT because member VI_WAN is \(interface eth1 is administratively down/);
    expect(lan.severity).toBe('critical');
    expect(lan.location).toEqual({ file: CONF, line: 19 });
  });

  it('no carrier and a missing interface are told apart', () => {
    const link = JSON.stringify([{ ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'NO-CARRIER'], operstate: 'DOWN' }]);
    const f = run(snap({ log: fx('keepalived-fault.log'), link }), 'vrrp-instance-fault');
    expect(f.find((x) => x.subject === 'VI_LAN')!.title).toMatch(/interface eth0 has no carrier/);
    expect(f.find((x) => x.subject === 'VI_WAN')!.title).toMatch(/interface eth1 does not exist/);
  });

  it("keepalived's own reason (newer builds) is quoted", () => {
    const log = 'Wed Dec  2 07:27:14 2026: (VI_LAN) entering FAULT state (no IPv4 address for interface)\n';
    const link = JSON.stringify([
      { ifname: 'eth0', flags: ['UP', 'LOWER_UP'], operstate: 'UP' },
      { ifname: 'eth1', flags: ['UP', 'LOWER_UP'], operstate: 'UP' },
    ]);
    const addr = JSON.stringify([
      { ifname: 'eth0', addr_info: [] },
      { ifname: 'eth1', addr_info: [{ family: 'inet', local: '198.51.100.2', prefixlen: 24 }] },
    ]);
    const conf = fx('keepalived-gw1.conf').replace(/\n    unicast_src_ip 192\.168\.100\.2/, '');
    const f = run(snap({ log, link, addr, conf }), 'vrrp-instance-fault');
    expect(f).toHaveLength(1);
    expect(f[0]!.title).toMatch(/interface eth0 has no IPv4 address of its own/);
    expect(f[0]!.detail).toMatch(/keepalived says: no IPv4 address for interface \(log\)/);
  });

  it('stuck after the link returned: the log names eth1 down, eth1 is up now, the group is still in FAULT (catalogue 32)', () => {
    const link = JSON.stringify([
      { ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], operstate: 'UP' },
      { ifname: 'eth1', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], operstate: 'UP' },
    ]);
    const f = run(snap({ log: fx('keepalived-fault.log'), link }), 'vrrp-instance-fault');
    const wan = f.find((x) => x.subject === 'VI_WAN')!;
    expect(wan.title).toBe(
      'VI_WAN is in FAULT: stuck: the interface the log names as the cause is up again now, and no member of its group has a cause left, yet keepalived keeps it in FAULT',
    );
    expect(wan.detail).toMatch(/systemctl reload keepalived/);
    expect(wan.evidence.some((e) => /Netlink reports eth1 down/.test(e.excerpt))).toBe(true);
    // while eth1 is really down, it is not called stuck
    expect(run(fault, 'vrrp-instance-fault').some((x) => /stuck/.test(x.title))).toBe(false);
  });

  it('no finding when every instance is MASTER or BACKUP', () => {
    const log = fx('keepalived-fault.log').split('\n').slice(0, 50).join('\n');
    expect(run(snap({ log }), 'vrrp-instance-fault')).toEqual([]);
  });

  it('a forwarding gateway without sync group with LAN MASTER and WAN BACKUP here', () => {
    const conf = fx('keepalived-gw1.conf').replace(/vrrp_sync_group VG_GW \{[\s\S]*?\n\}\n/, '');
    const log = 'Wed Dec  2 07:27:10 2026: (VI_LAN) Entering MASTER STATE\nWed Dec  2 07:27:10 2026: (VI_WAN) Entering BACKUP STATE\n';
    const fwd = file('sysctl:net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward', '1\n');
    const f = run(snap({ conf, log, extra: [fwd], addr: fx('ip-addr-master-lan-only.json') }), 'vrrp-instance-fault');
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('error');
    expect(f[0]!.title).toMatch(/split across the nodes: VI_LAN MASTER here, VI_WAN BACKUP/);
    // not a gateway (no forwarding): two independent VIPs are fine
    expect(run(snap({ conf, log, addr: fx('ip-addr-master-lan-only.json') }), 'vrrp-instance-fault')).toEqual([]);
  });
});

// ---------------------------------------------------------------- vrrp-version-mismatch

const V2_SIDE = [
  'Wed Dec  2 06:53:20 2026: (VI_LAN) Entering BACKUP STATE (init)',
  'Wed Dec  2 06:53:23 2026: (VI_LAN) wrong version. Received 3 and expect 2',
  'Wed Dec  2 06:53:24 2026: (VI_LAN) Receive advertisement timeout',
  'Wed Dec  2 06:53:24 2026: (VI_LAN) Entering MASTER STATE',
  'Wed Dec  2 06:53:25 2026: (VI_LAN) wrong version. Received 3 and expect 2',
].join('\n');

describe('vrrp-version-mismatch', () => {
  it("from the log (captured on the lab's VRRPv2 node)", () => {
    const f = run(snap({ log: V2_SIDE, createdAt: AT(6, 54) }), 'vrrp-version-mismatch');
    expect(f.map((x) => x.subject)).toEqual(['VI_LAN']);
    expect(f[0]!.title).toBe('VI_LAN: this node speaks VRRPv2, the peer VRRPv3');
    expect(f[0]!.severity).toBe('critical');
    expect(f[0]!.evidence.map((e) => e.excerpt)).toContain('Wed Dec  2 06:53:25 2026: (VI_LAN) wrong version. Received 3 and expect 2');
  });

  it('an old mismatch that stopped is info', () => {
    const f = run(snap({ log: V2_SIDE, createdAt: AT(7, 30) }), 'vrrp-version-mismatch');
    expect(f[0]!.severity).toBe('info');
  });

  it('from the peer\'s config (global vrrp_version 3), with "invalid ip number count" as its symptom', () => {
    const peer = fx('keepalived-gw1.conf').replace('router_id gw1', 'router_id gw2\n    vrrp_version 3');
    const log = 'Wed Dec  2 07:27:10 2026: (VI_LAN) receive an invalid ip number count associated with VRID!\n';
    const f = run(snap({ log, extra: [file('peer-config', '/tmp/gw2.conf', peer)] }), 'vrrp-version-mismatch');
    const lan = f.find((x) => x.subject === 'VI_LAN')!;
    expect(lan.title).toBe('VI_LAN: this node speaks VRRPv2, the peer VRRPv3');
    expect(lan.evidence).toContainEqual({ probe: 'peer-config', excerpt: '/tmp/gw2.conf:20: vrrp_instance VI_LAN: version 3 (vrrp_version)' });
    expect(lan.evidence.some((e) => /invalid ip number count/.test(e.excerpt))).toBe(true);
  });

  it('IPv6 instances are always v3: an IPv6 peer is no mismatch for an IPv6 instance', () => {
    const v6 = (c: string) => c.replace('192.168.100.1/24 dev eth0', 'fe80::1/64 dev eth0');
    const f = run(
      snap({ conf: v6(fx('keepalived-gw1.conf')), log: 'x\n', extra: [file('peer-config', '/tmp/gw2.conf', v6(fx('keepalived-gw1.conf')))] }),
      'vrrp-version-mismatch',
    );
    expect(f).toEqual([]);
  });

  it('skips without log, wire or peer config', () => {
    const ctx = new CheckContext(snap({}));
    const check = vrrpFieldChecks.find((c) => c.id === 'vrrp-version')!;
    expect(runCheck(check, ctx).run.status).toBe('skip');
  });
});

// ---------------------------------------------------------------- vrrp-flapping

function flapLog(n: number, opts: { startMin?: number; cause?: string } = {}): string {
  const lines: string[] = ['Wed Dec  2 06:00:00 2026: (VI_LAN) Entering BACKUP STATE (init)'];
  for (let i = 0; i < n; i++) {
    const t = new Date(2026, 11, 2, 7, (opts.startMin ?? 0) + i * 3, 0);
    const stamp = t
      .toString()
      .slice(0, 24)
      .replace(/^(\w{3}) (\w{3}) 0?(\d+)/, (_m, d, mo, day) => `${d} ${mo} ${String(day).padStart(2, ' ')}`);
    const ts = `${stamp.slice(0, 10)} ${t.toTimeString().slice(0, 8)} 2026:`;
    if (i % 2 === 0) lines.push(`${ts} ${opts.cause ?? '(VI_LAN) Receive advertisement timeout'}`, `${ts} (VI_LAN) Entering MASTER STATE`);
    else lines.push(`${ts} (VI_LAN) Master received advert from 192.168.100.2 with higher priority 150, ours 100`, `${ts} (VI_LAN) Entering BACKUP STATE`);
  }
  return lines.join('\n') + '\n';
}

describe('vrrp-flapping', () => {
  it('6 changes in the last hour, still going: critical, advert timeouts named', () => {
    const f = run(snap({ log: flapLog(6, { startMin: 10 }), createdAt: AT(7, 29) }), 'vrrp-flapping');
    expect(f).toHaveLength(1);
    expect(f[0]!.title).toMatch(/^VI_LAN changed state 6 times in the last hour/);
    expect(f[0]!.severity).toBe('critical');
    expect(f[0]!.detail).toMatch(/advert timeouts \(adverts lost or late.*\(3x\)/);
    expect(f[0]!.detail).toMatch(/the peer preempting again and again/);
  });

  it('4 changes an hour ago that stopped: warning', () => {
    expect(run(snap({ log: flapLog(4, { startMin: 0 }), createdAt: AT(7, 50) }), 'vrrp-flapping')[0]!.severity).toBe('warning');
  });

  it('late timers are named as scheduling starvation', () => {
    const f = run(snap({ log: flapLog(4, { cause: 'Keepalived_vrrp: A thread timer expired 3.456789 seconds ago' }), createdAt: AT(7, 20) }), 'vrrp-flapping');
    expect(f[0]!.detail).toMatch(/keepalived not scheduled in time/);
  });

  it('one reload that moved the VIP is named (info: the log cannot tell whether it was meant), below the flapping rate (catalogue 30)', () => {
    const log = [
      'Wed Dec  2 07:00:00 2026: (VI_LAN) Entering BACKUP STATE (init)',
      'Wed Dec  2 07:00:03 2026: (VI_LAN) Entering MASTER STATE',
      'Wed Dec  2 07:10:00 2026: Reloading ...',
      'Wed Dec  2 07:10:00 2026: (VI_LAN) Entering BACKUP STATE',
      'Wed Dec  2 07:10:04 2026: (VI_LAN) Entering MASTER STATE',
    ].join('\n');
    const f = run(snap({ log, createdAt: AT(7, 20) }), 'vrrp-flapping');
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('info');
    expect(f[0]!.title).toMatch(/^a reload of keepalived changed the state of VI_LAN \(VI_LAN MASTER → BACKUP at .*07:10:00.*, VI_LAN BACKUP → MASTER at/);
    expect(f[0]!.evidence[0]!.excerpt).toMatch(/Reloading/);
    // a reload that changed nothing, and a change with no reload near it: nothing
    const quiet = log.split('\n').slice(0, 3).join('\n');
    expect(run(snap({ log: quiet, createdAt: AT(7, 20) }), 'vrrp-flapping')).toEqual([]);
    const unrelated = log.replace('07:10:00 2026: Reloading', '07:05:00 2026: Reloading');
    expect(run(snap({ log: unrelated, createdAt: AT(7, 20) }), 'vrrp-flapping')).toEqual([]);
  });

  it('3 changes in an hour are not flapping; changes older than an hour do not count', () => {
    expect(run(snap({ log: flapLog(3), createdAt: AT(7, 20) }), 'vrrp-flapping')).toEqual([]);
    expect(run(snap({ log: flapLog(6), createdAt: AT(9, 0) }), 'vrrp-flapping')).toEqual([]);
  });
});

describe('IPv6 unicast without unicast_src_ip (catalogue 13, 33)', () => {
  it('is unicast-peer-invalid: keepalived would bind the link-local address the peer does not send to', () => {
    const conf = `vrrp_instance VI_6 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 61\n  priority 100\n  unicast_peer {\n    2001:db8:100::3\n  }\n  virtual_ipaddress {\n    2001:db8:100::1/64\n  }\n}\n`;
    const f = run(snap({ conf }), 'unicast-peer-invalid');
    expect(f).toHaveLength(1);
    expect(f[0]!.title).toBe('VI_6: IPv6 unicast to 2001:db8:100::3 without unicast_src_ip');
    expect(run(snap({ conf: conf.replace('  unicast_peer', '  unicast_src_ip 2001:db8:100::2\n  unicast_peer') }), 'unicast-peer-invalid')).toEqual([]);
  });
});

describe('IPv6 instances as keepalived runs them', () => {
  it('version 2 and authentication on an IPv6 instance are reported as ignored (warning)', () => {
    const conf = `vrrp_instance VI_6 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 61\n  version 2\n  authentication {\n    auth_type PASS\n    auth_pass abc\n  }\n  virtual_ipaddress {\n    2001:db8:100::1/64\n  }\n}\n`;
    const f = run(snap({ conf }), 'keepalived-config-invalid');
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('warning');
    expect(f[0]!.title).toBe('VI_6 (IPv6): version 2 and authentication are ignored');
    expect(run(snap({ conf: conf.replace('  version 2\n', '').replace(/  authentication \{[^}]*\}\n/, '') }), 'keepalived-config-invalid')).toEqual([]);
  });
});

describe('vrrp-version-mismatch from the wire and from a v3 checksum line', () => {
  it('VRRPv3 adverts for our VRID while this node speaks v2', () => {
    const wire = [
      'tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
      '02:41:05.000000 d2:00:00:00:00:03 > d2:00:00:00:00:02, ethertype IPv4 (0x0800), length 54: (tos 0xc0, ttl 255, id 3, offset 0, flags [none], proto VRRP (112), length 40)',
      '    192.168.100.3 > 192.168.100.2: VRRPv3, Advertisement, vrid 51, prio 100, intvl 100cs, length 12, addrs: 192.168.100.1',
      '',
    ].join('\n');
    const rec = cmd('vrrp-wire:eth0', wireArgv('eth0', 3), wire, 124);
    const s = snap({ log: 'x\n', extra: [rec] });
    s.options = { wire: true };
    const f = run(s, 'vrrp-version-mismatch');
    expect(f.map((x) => x.subject)).toEqual(['VI_LAN']);
    expect(f[0]!.detail).toMatch(/on the wire 192\.168\.100\.3 sends VRRPv3 for VRID 51/);
  });

  it('"Invalid VRRPv3 checksum" is a version problem in the timeline\'s words', () => {
    const log = 'Wed Dec  2 07:27:50 2026: (VI_LAN) Invalid VRRPv3 checksum\n';
    const peer = fx('keepalived-gw1.conf').replace('router_id gw1', 'router_id gw2\n    vrrp_version 3');
    const f = run(snap({ log, extra: [file('peer-config', '/tmp/gw2.conf', peer)] }), 'vrrp-version-mismatch');
    expect(f.find((x) => x.subject === 'VI_LAN')!.detail).toMatch(/Invalid VRRPv3 checksum/);
  });
});
