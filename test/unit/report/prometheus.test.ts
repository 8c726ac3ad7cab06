import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labelValue, netnsLabel, renderPrometheus } from '../../../src/report/prometheus.js';
import { writeFileAtomic } from '../../../src/report/write-file.js';
import type { Report } from '../../../src/types.js';
import { CODES } from '../../../src/codes.js';

function report(over: Partial<Report> = {}): Report {
  return {
    schema: 'hagw-doctor.report/v1',
    host: { hostname: 'gw1', kernel: '6.1.0', keepalived: '2.2.7', netns: 'lab-gw1 (net:[4026532311])' },
    role: 'master',
    instances: [
      { name: 'VI_LAN', vrid: 51, interface: 'eth0', state: 'MASTER', source: 'log', vips: ['192.168.100.1', '192.168.100.2'], vipsHeld: ['192.168.100.1'] },
    ],
    summary: { status: 'critical', critical: 1, error: 0, warning: 0, info: 0 },
    findings: [{ code: 'ip-forward-off', severity: 'critical', title: 't', detail: 'd', evidence: [] }],
    checks: [
      { id: 'ip-forward', status: 'fail', ms: 1.5 },
      { id: 'conntrack-vrrp', status: 'skip', ms: 0, reason: 'needs root' },
    ],
    source: 'live',
    ...over,
  };
}

/** name{labels} value -> the parsed sample lines, by metric name */
function samples(text: string) {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of m[2]!.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

describe('prometheus exposition', () => {
  it('escapes label values and drops control characters', () => {
    expect(labelValue('a\\b"c\nd\u0000e\u001bf\te')).toBe('a\\\\b\\"c\\nd' + 'ef' + 'e');
  });

  it('names the network namespace, else keeps its inode', () => {
    expect(netnsLabel('lab-gw1 (net:[4026532311])')).toBe('lab-gw1');
    expect(netnsLabel('net:[4026531840]')).toBe('net:[4026531840]');
  });

  it('every sample carries node and netns; a hostile hostname cannot break a line', () => {
    const text = renderPrometheus(report({ host: { hostname: 'gw"1\n} 9\\', kernel: 'k', keepalived: null, netns: 'net:[1]' } }));
    const all = samples(text);
    expect(all.length).toBeGreaterThan(10);
    for (const s of all) {
      expect(s.labels.node).toBe('gw\\"1\\n} 9\\\\');
      expect(s.labels.netns).toBe('net:[1]');
    }
    for (const line of text.split('\n').filter(Boolean)) expect(line).toMatch(/^(# (HELP|TYPE) hagw_doctor_[a-z_]+ .+|hagw_doctor_[a-z_]+\{.*\} -?[0-9.e+]+)$/);
  });

  it('one finding series per registry code, 1 only for the reported ones, with the reported severity', () => {
    const all = samples(renderPrometheus(report({ findings: [{ code: 'vrrp-flapping', severity: 'critical', title: '', detail: '', evidence: [] }] })));
    const findings = all.filter((s) => s.name === 'hagw_doctor_finding');
    expect(findings.map((f) => f.labels.code).sort()).toEqual(Object.keys(CODES).sort());
    expect(findings.filter((f) => f.value === 1).map((f) => [f.labels.code, f.labels.severity])).toEqual([['vrrp-flapping', 'critical']]);
  });

  it('states, role, VIPs held (with vrid and vip to find the pair), severities, last run', () => {
    const now = new Date('2026-12-01T10:00:00Z');
    const all = samples(renderPrometheus(report(), { now, version: '9.9.9' }));
    const one = (name: string, match: Record<string, string> = {}) =>
      all.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
    expect(one('hagw_doctor_last_run_timestamp_seconds')[0]!.value).toBe(now.getTime() / 1000);
    expect(one('hagw_doctor_status')[0]!.value).toBe(2);
    expect(one('hagw_doctor_role', { role: 'master' })[0]!.value).toBe(1);
    expect(one('hagw_doctor_role', { role: 'backup' })[0]!.value).toBe(0);
    expect(one('hagw_doctor_vrrp_state', { state: 'MASTER', vrrp_instance: 'VI_LAN', vrid: '51' })[0]!.value).toBe(1);
    expect(one('hagw_doctor_vrrp_state', { state: 'BACKUP' })[0]!.value).toBe(0);
    expect(one('hagw_doctor_vip_held').map((s) => [s.labels.vip, s.labels.vrid, s.value])).toEqual([
      ['192.168.100.1', '51', 1],
      ['192.168.100.2', '51', 0],
    ]);
    expect(one('hagw_doctor_findings', { severity: 'critical' })[0]!.value).toBe(1);
    expect(one('hagw_doctor_checks', { status: 'skip' })[0]!.value).toBe(1);
    expect(one('hagw_doctor_check_duration_seconds', { check: 'ip-forward' })[0]!.value).toBe(0.0015);
    expect(one('hagw_doctor_info')[0]!.labels.version).toBe('9.9.9');
    // the target's own "instance" label is never used by the doctor
    expect(all.some((s) => 'instance' in s.labels)).toBe(false);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file through a new file in the same directory, mode 0644, and leaves no temporary file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hagw-prom-'));
    const file = path.join(dir, 'hagw-doctor.prom');
    await writeFile(file, 'old\n', { mode: 0o600 });
    const before = (await stat(file)).ino;
    const umask = process.umask(0o077);
    try {
      await writeFileAtomic(file, 'new\n');
    } finally {
      process.umask(umask);
    }
    expect(await readFile(file, 'utf8')).toBe('new\n');
    const st = await stat(file);
    expect(st.mode & 0o777).toBe(0o644);
    expect(st.ino).not.toBe(before); // renamed over, not rewritten in place
    expect(await readdir(dir)).toEqual(['hagw-doctor.prom']);
  });

  it('fails without touching the target when the directory is missing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hagw-prom-'));
    await expect(writeFileAtomic(path.join(dir, 'nope', 'x.prom'), 'x')).rejects.toThrow(/ENOENT/);
  });

  it('never writes through a symlink planted at a temporary name: the target is a fresh file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hagw-prom-'));
    const victim = path.join(dir, 'victim');
    await writeFile(victim, 'keep\n');
    await symlink(victim, path.join(dir, 'hagw-doctor.prom'));
    await writeFileAtomic(path.join(dir, 'hagw-doctor.prom'), 'metrics\n');
    expect(await readFile(victim, 'utf8')).toBe('keep\n');
    expect(await readFile(path.join(dir, 'hagw-doctor.prom'), 'utf8')).toBe('metrics\n');
  });
});
