import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { lineTimestamp, parseLog, parseLogLine, parseVrrpLog, parseVrrpLogLine } from '../../../src/vrrp/log.js';

const fx = (name: string) => readFileSync(new URL(`../../fixtures/vrrp/${name}`, import.meta.url), 'utf8');
const NOW = new Date(2026, 10, 22, 3, 0, 0).getTime();

describe('parseLogLine (state changes, as src/state.ts reads them)', () => {
  it('reads 2.x and 1.x state lines and nothing else', () => {
    expect(parseLogLine('Sun Nov 22 02:40:50 2026: (VI_1) Entering MASTER STATE', 3)).toMatchObject({
      kind: 'state',
      instance: 'VI_1',
      state: 'MASTER',
      line: 3,
      time: 'Sun Nov 22 02:40:50 2026',
    });
    expect(parseLogLine('Nov 21 22:31:17 gw2 Keepalived_vrrp[2203]: VRRP_Instance(VI_1) Transition to MASTER STATE')).toMatchObject({
      state: 'MASTER',
      pid: 2203,
      intent: true,
    });
    expect(parseLogLine('(VI_1) Entering BACKUP STATE (init)')).toMatchObject({ state: 'BACKUP', init: true });
    expect(parseLogLine('Sun Nov 22 02:40:50 2026: (VI_1) Backup received priority 0 advertisement')).toBeNull();
    expect(parseLogLine('')).toBeNull();
  });

  it('parseLog keeps only our pids in a shared syslog file', () => {
    const ev = parseLog(fx('keepalived-1.3-syslog-failover.log'), { pids: [2203] });
    expect(ev.every((e) => e.pid === 2203)).toBe(true);
    expect(ev.map((e) => e.state)).toContain('FAULT');
    expect(parseLog(fx('keepalived-1.3-syslog-failover.log')).at(-1)!.instance).toBe('OTHER_NS');
  });
});

describe('timestamps', () => {
  it('reads console ctime, syslog (year from now) and short-iso', () => {
    expect(lineTimestamp('Sun Nov 22 02:40:50 2026: x')!.ts).toBe(new Date(2026, 10, 22, 2, 40, 50).getTime());
    expect(lineTimestamp('Nov 22 02:40:50 gw2 x', { now: NOW })!.ts).toBe(new Date(2026, 10, 22, 2, 40, 50).getTime());
    // a December line read in January is last year's
    expect(new Date(lineTimestamp('Dec 31 23:59:59 gw2 x', { now: new Date(2027, 0, 1, 0, 5).getTime() })!.ts!).getFullYear()).toBe(2026);
    expect(lineTimestamp('2026-11-22T02:40:50+0000 gw2 x')!.ts).toBe(Date.UTC(2026, 10, 22, 2, 40, 50));
    expect(lineTimestamp('2026-11-22T02:40:50.123456+01:00 gw2 x')!.ts).toBe(Date.UTC(2026, 10, 22, 1, 40, 50, 123));
    expect(lineTimestamp('(VI_1) Entering MASTER STATE')).toBeUndefined();
  });
});

describe('parseVrrpLogLine: triggers, advert errors, scripts (captured 2.2.7 lines)', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['Sun Nov 22 02:40:50 2026: (VI_1) Backup received priority 0 advertisement', { kind: 'trigger', trigger: 'priority-zero', instance: 'VI_1' }],
    [
      'Sun Nov 22 02:40:59 2026: (VI_1) Master received advert from 10.9.0.1 with higher priority 150, ours 100',
      { trigger: 'higher-priority', peer: '10.9.0.1', priority: 150, ours: 100 },
    ],
    [
      'Sun Nov 22 02:41:05 2026: (VI_1) Received advert from 10.9.0.2 with lower priority 100, ours 150, forcing new election',
      { trigger: 'lower-priority-election', peer: '10.9.0.2' },
    ],
    ['Sun Nov 22 02:41:04 2026: (VI_1) Receive advertisement timeout', { trigger: 'advert-timeout' }],
    ['Sun Nov 22 02:42:40 2026: VRRP_Script(chk_fail) failed (exited with status 1)', { trigger: 'track-script-failed', script: 'chk_fail' }],
    ['Sun Nov 22 02:42:49 2026: Netlink reports eth0 down', { trigger: 'interface-down', iface: 'eth0' }],
    ['Sun Nov 22 02:40:50 2026: Stopping', { trigger: 'stopping' }],
    ['Sun Nov 22 02:40:50 2026: (VI_1) sent 0 priority', { trigger: 'sent-priority-zero' }],
    ['Sun Nov 22 02:41:13 2026: (VI_1): send advert error 1 (Operation not permitted)', { kind: 'problem', problem: 'send', instance: 'VI_1' }],
    ['Sun Nov 22 02:41:25 2026: (VI_1) received an invalid passwd!', { problem: 'auth' }],
    ['Sun Nov 22 02:41:48 2026: (VI_1) received a 0 auth, expecting 1!', { problem: 'auth' }],
    ["Sun Nov 22 02:41:31 2026: (VI_1) advertisement interval mismatch mine=2 sec rcv'd=1 sec", { problem: 'advert-int' }],
    ['Sun Nov 22 02:42:08 2026: (OTHER) ip address associated with VRID 51 not present in MASTER advert: 10.9.0.200', { problem: 'vrid', instance: 'OTHER' }],
    ['Sun Nov 22 02:41:59 2026: (VI_1) received an unexpected ip number count 1, expected 2!', { problem: 'vrid' }],
    ['(VI_1) unicast source address 10.0.0.254 not a unicast peer', { problem: 'unicast-peer', peer: '10.0.0.254' }],
    [
      "Sun Nov 22 02:42:18 2026: WARNING - script '/tmp/vr/scripts/noexec.sh' is not executable for uid:gid 0:0 - disabling.",
      { kind: 'script', script: 'not-executable', path: '/tmp/vr/scripts/noexec.sh' },
    ],
    ["Sun Nov 22 02:43:02 2026: Unsafe permissions found for script '/tmp/vr/gw/bad.sh' - disabling.", { script: 'unsafe', path: '/tmp/vr/gw/bad.sh' }],
    // 1.x
    ['Nov 21 22:31:17 gw2 Keepalived_vrrp[2203]: VRRP_Instance(VI_1) Received higher prio advert', { trigger: 'higher-priority', instance: 'VI_1', pid: 2203 }],
    ['Nov 21 23:02:40 gw2 Keepalived_vrrp[2203]: receive an invalid passwd!', { problem: 'auth' }],
    ['Nov 22 00:05:12 gw2 Keepalived_vrrp[2203]: advertissement interval mismatch mine=1 rcved=2', { problem: 'advert-int' }],
    ['Nov 21 23:55:30 gw2 Keepalived_vrrp[2203]: Kernel is reporting: interface eth0 DOWN', { trigger: 'interface-down', iface: 'eth0' }],
    [
      'Nov 22 00:09:01 gw2 Keepalived_vrrp[2203]: VRRP_Instance(VI_1) Cant send advert to 10.0.0.1 (Operation not permitted)',
      { problem: 'send', peer: '10.0.0.1' },
    ],
    [
      'Nov 21 23:02:45 gw2 Keepalived_vrrp[2203]: Opening script file /etc/keepalived/notify_master.sh',
      { script: 'notify-run', path: '/etc/keepalived/notify_master.sh' },
    ],
    ['Nov 21 23:40:04 gw2 Keepalived_vrrp[2203]: VRRP_Instance(VI_1) Now in FAULT state', { kind: 'state', state: 'FAULT' }],
  ];
  it.each(cases)('%s', (line, want) => {
    expect(parseVrrpLogLine(line, 1, { now: NOW })).toMatchObject(want);
  });

  it.each([
    'Sun Nov 22 02:40:43 2026: Sending gratuitous ARP on eth0 for 10.9.0.254',
    'VRRP sockpool: [ifindex(  2), family(IPv4), proto(112), fd(13,14) multicast, address(224.0.0.18)]',
    'garbage (((',
    '\u0000\u0001',
  ])('ignores the noise: %j', (l) => {
    expect(parseVrrpLogLine(l)).toBeNull();
  });
});

describe('parseVrrpLog', () => {
  it('reads the same events from the console, syslog and journald renderings of one log', () => {
    const kinds = (t: string) => parseVrrpLog(t, { now: NOW }).map((e) => `${e.kind}:${'state' in e ? e.state : 'trigger' in e ? e.trigger : ''}`);
    const console = kinds(fx('keepalived-2.2.7-console-backup.log'));
    expect(console).toContain('state:MASTER');
    expect(kinds(fx('keepalived-2.2.7-syslog-backup.log'))).toEqual(console);
    expect(kinds(fx('keepalived-2.2.7-journal-short-iso-backup.log'))).toEqual(console);
  });

  it('stops at since, reading from the end, and keeps order and line numbers', () => {
    const text = fx('keepalived-1.3-syslog-failover.log');
    const all = parseVrrpLog(text, { now: NOW });
    const since = new Date(2026, 10, 21, 23, 50).getTime();
    const recent = parseVrrpLog(text, { now: NOW, since });
    expect(recent.length).toBeLessThan(all.length);
    expect(recent.every((e) => e.ts! >= since)).toBe(true);
    expect(recent[0]!.raw).toContain('Kernel is reporting: interface eth0 DOWN');
    expect(recent[0]!.line).toBe(text.split('\n').findIndex((l) => l.includes('interface eth0 DOWN')) + 1);
    expect(all.map((e) => e.line)).toEqual([...all.map((e) => e.line)].sort((a, b) => a - b));
  });
});
