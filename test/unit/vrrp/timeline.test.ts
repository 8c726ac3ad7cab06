import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseVrrpLog } from '../../../src/vrrp/log.js';
import { buildTimeline, detectFlapping, parseSince, renderTimeline, timelineLines, type Transition } from '../../../src/vrrp/timeline.js';

const fx = (name: string) => readFileSync(new URL(`../../fixtures/vrrp/${name}`, import.meta.url), 'utf8');
const NOW = new Date(2026, 10, 22, 3, 0, 0).getTime();
const tl = (name: string, since?: number) => buildTimeline(parseVrrpLog(fx(name), { now: NOW }), { now: NOW, ...(since !== undefined ? { since } : {}) });

describe('buildTimeline on captured 2.2.7 logs', () => {
  it('backup: master stopped (priority 0), then preempted by the higher-priority master', () => {
    const t = tl('keepalived-2.2.7-console-backup.log');
    const [init, toMaster, toBackup] = t.transitions;
    expect(init).toMatchObject({ instance: 'VI_1', to: 'BACKUP', init: true });
    expect(toMaster).toMatchObject({ from: 'BACKUP', to: 'MASTER', init: false });
    expect(toMaster!.causes.map((c) => c.summary).join(' | ')).toMatch(/sent priority 0/);
    expect(toBackup).toMatchObject({ from: 'MASTER', to: 'BACKUP' });
    expect(toBackup!.causes.at(-1)!.summary).toMatch(/higher-priority advert arrived from 10\.9\.0\.1 \(priority 150 > ours 100\)/);
    expect(t.current).toEqual({ VI_1: 'BACKUP' });
    const text = renderTimeline(t);
    expect(text).toContain('BACKUP -> MASTER');
    expect(text).toContain('because: the master sent priority 0');
  });

  it('advert timeout without priority 0: says what can stop adverts', () => {
    const t = tl('keepalived-2.2.7-console-auth-mismatch.log');
    const m = t.transitions.find((x) => x.to === 'MASTER')!;
    const words = m.causes.map((c) => c.summary).join(' | ');
    expect(words).toMatch(/no advert from a master within 3 advert intervals/);
    expect(words).toMatch(/discarded the peer's adverts \(auth mismatch\)/);
    expect(t.problems.find((p) => p.problem === 'auth')!.count).toBeGreaterThan(1);
    // one entry per run of identical errors, not one per advert
    expect(t.entries.filter((e) => e.type === 'problem').length).toBeLessThan(t.problems[0]!.count);
  });

  it('track script failure and interface down lead to FAULT', () => {
    const fault = tl('keepalived-2.2.7-console-unicast-track-fault.log').transitions.find((x) => x.to === 'FAULT')!;
    expect(fault.causes.map((c) => c.summary)).toContain('track script chk_fail failed');
    const ifd = tl('keepalived-2.2.7-console-unicast-iface-down.log').transitions.find((x) => x.to === 'FAULT')!;
    expect(ifd.causes.map((c) => c.summary)).toContain('interface eth0 went down');
  });

  it('script-security warnings appear in the timeline', () => {
    const text = renderTimeline(tl('keepalived-2.2.7-console-script-security.log'));
    expect(text).toContain('script not executable, disabled: /tmp/vr/scripts/noexec.sh');
    expect(text).toContain('script has unsafe permissions, disabled: /tmp/vr/gw/bad.sh');
  });
});

describe('buildTimeline on 1.x syslog', () => {
  it('merges "Transition to" with "Entering", explains FAULT, honours since', () => {
    const t = tl('keepalived-1.3-syslog-failover.log');
    const vi1 = t.transitions.filter((x) => x.instance === 'VI_1');
    expect(vi1.map((x) => x.to)).toEqual(['BACKUP', 'MASTER', 'BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'FAULT', 'BACKUP']);
    // the 22:31 "Transition to MASTER" was cut short by a higher-priority advert
    expect(vi1[1]!.causes.at(-1)!.summary).toMatch(/wanted MASTER/);
    expect(vi1[2]!.causes[0]!.summary).toMatch(/higher-priority advert/);
    expect(vi1[4]!.causes.map((c) => c.summary)).toContain('track script chk_haproxy failed');
    const since = new Date(2026, 10, 21, 23, 50).getTime();
    const recent = tl('keepalived-1.3-syslog-failover.log', since);
    expect(recent.transitions.every((x) => x.ts! >= since)).toBe(true);
    expect(recent.transitions[0]!.from).toBe('BACKUP');
  });

  it('console lines without timestamps are kept, with a note', () => {
    const t = buildTimeline(
      parseVrrpLog('VRRP_Instance(VI_1) Entering BACKUP STATE\nVRRP_Instance(VI_1) Received higher prio advert\nVRRP_Instance(VI_1) Entering MASTER STATE\n'),
      { now: NOW, since: NOW - 3600_000 },
    );
    expect(t.transitions).toHaveLength(2);
    expect(t.notes[0]).toMatch(/no timestamps/);
    expect(renderTimeline(t)).toContain('(no time)');
  });

  it('an empty log renders a sentence, not nothing', () => {
    expect(renderTimeline(buildTimeline([], { now: NOW }))).toContain('no state change');
  });
});

describe('flapping', () => {
  const tr = (min: number, to: 'MASTER' | 'BACKUP'): Transition => ({
    instance: 'VI_1',
    to,
    init: false,
    causes: [],
    line: min,
    raw: '',
    ts: NOW + min * 60_000,
    time: `t${min}`,
  });
  it('flags N transitions in M minutes and not fewer', () => {
    expect(detectFlapping([tr(0, 'MASTER'), tr(2, 'BACKUP'), tr(4, 'MASTER'), tr(6, 'BACKUP')], 4, 10)).toEqual([
      { instance: 'VI_1', count: 4, fromTime: 't0', toTime: 't6', minutes: 6 },
    ]);
    expect(detectFlapping([tr(0, 'MASTER'), tr(20, 'BACKUP'), tr(40, 'MASTER'), tr(60, 'BACKUP')], 4, 10)).toEqual([]);
    expect(detectFlapping([tr(0, 'MASTER'), tr(2, 'BACKUP'), tr(4, 'MASTER')], 4, 10)).toEqual([]);
  });
  it('is reported in the rendered timeline', () => {
    const lines = Array.from(
      { length: 6 },
      (_, i) => `Sun Nov 22 02:${String(10 + i).padStart(2, '0')}:00 2026: (VI_1) Entering ${i % 2 ? 'BACKUP' : 'MASTER'} STATE`,
    );
    const t = buildTimeline(parseVrrpLog(lines.join('\n')), { now: NOW });
    expect(t.flapping[0]).toMatchObject({ instance: 'VI_1', count: 6 });
    expect(renderTimeline(t)).toMatch(/FLAPPING: VI_1 changed state 6 times in 5 min/);
  });
});

describe('parseSince', () => {
  it('reads durations and dates', () => {
    expect(parseSince('24h', NOW)).toBe(NOW - 86_400_000);
    expect(parseSince('30m', NOW)).toBe(NOW - 1_800_000);
    expect(parseSince('2026-11-21T00:00:00Z', NOW)).toBe(Date.UTC(2026, 10, 21));
    expect(parseSince('soon', NOW)).toBeUndefined();
  });
});

describe('one timeline for the CLI and the app', () => {
  it.each(['keepalived-2.2.7-console-backup.log', 'keepalived-2.2.7-console-auth-mismatch.log'])(
    "%s: every transition line of the app's brief view is a line of the CLI's",
    (name) => {
      const t = tl(name);
      const whole = renderTimeline(t).split('\n');
      const brief = timelineLines(t, { brief: { last: 8, source: name } });
      const transitions = brief.filter((l) => / -> |starts as |because: |cause: /.test(l.text));
      expect(transitions.length).toBeGreaterThan(0);
      for (const l of transitions) expect(whole).toContain(l.text.slice(2));
      // newest first in the brief view, oldest first in the whole one
      const arrows = (lines: string[]) => lines.filter((x) => / -> /.test(x));
      expect(arrows(brief.map((l) => l.text.slice(2)))).toEqual(arrows(whole).slice(-8).reverse());
    },
  );
});

describe('timeline --from', () => {
  it.each([
    ['not JSON', 'not json', 'is not a snapshot: not JSON'],
    ['JSON of another shape', '{"schema":"hagw-doctor.snapshot/v1","probes":{}}', 'is not a valid snapshot'],
  ])('a file that is %s: exit 3 and the validating loader’s one line', async (_what, content, says) => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const { timelineCommand } = await import('../../../src/vrrp/cli.js');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hagw-timeline-'));
    const file = path.join(dir, 'snap.json');
    await writeFile(file, content);
    const written: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (written.push(String(s)), true)) as typeof process.stderr.write;
    try {
      expect(await timelineCommand({ from: file })).toBe(3);
    } finally {
      process.stderr.write = orig;
      await rm(dir, { recursive: true, force: true });
    }
    expect(written.join('').startsWith(`hagw-doctor: ${file} ${says}`)).toBe(true);
    expect(written.join('').trim().split('\n')).toHaveLength(1);
  });
});
