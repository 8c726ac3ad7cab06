// The built CLI as an operator meets it: bad input gets one line and exit 3, never a stack trace.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeSnapshot, file, cmd, keepalivedProcess } from '../support/snapshot.js';
import { AS_NOBODY, packageForNobody } from '../support/nobody.js';
import type { Report } from '../../src/types.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/hagw-doctor');

function run(args: string[], opts: { env?: Record<string, string>; prefix?: string[]; bin?: string; cwd?: string } = {}) {
  const argv = [...(opts.prefix ?? []), process.execPath, opts.bin ?? BIN, ...args];
  return execa(argv[0]!, argv.slice(1), { reject: false, timeout: 30_000, env: { NO_COLOR: '1', ...opts.env }, stdin: 'ignore', cwd: opts.cwd });
}

function oneCleanLine(stderr: string) {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^hagw-doctor: /);
  expect(stderr).not.toMatch(/\n\s+at /);
}

let dir: string;
beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/src/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  dir = await mkdtemp(path.join(tmpdir(), 'hagw-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bad input', () => {
  it('an unknown flag', async () => {
    const r = await run(['check', '--bogus']);
    expect(r.exitCode).toBe(3);
    oneCleanLine(r.stderr);
    expect(r.stderr).toContain("unknown option '--bogus'");
  });

  it('--config pointing nowhere', async () => {
    const r = await run(['check', '--config', '/nonexistent/keepalived.conf']);
    expect(r.exitCode).toBe(3);
    oneCleanLine(r.stderr);
    expect(r.stderr).toContain('--config /nonexistent/keepalived.conf: no such file');
    expect(r.stdout).toBe('');
  });

  it.each([
    ['not JSON', 'hello', 'not JSON'],
    ['of another schema', JSON.stringify({ schema: 'something/v9' }), 'schema is "something/v9"'],
    ['broken', JSON.stringify({ ...makeSnapshot([]), probes: { x: { id: 'x' } } }), 'not a valid snapshot'],
    ['absent', undefined, 'no such file'],
  ])('a snapshot that is %s: one line, exit 3', async (what, content, msg) => {
    const f = path.join(dir, `${what.replace(/\W+/g, '-')}.json`);
    if (content !== undefined) await writeFile(f, content);
    const r = await run(['check', '--from', f]);
    expect(r.exitCode).toBe(3);
    oneCleanLine(r.stderr);
    expect(r.stderr).toContain(msg);
  });

  it('unknown finding codes and formats', async () => {
    const a = await run(['check', '--only', 'ip-forward-off,not-a-code']);
    expect(a.exitCode).toBe(3);
    oneCleanLine(a.stderr);
    expect(a.stderr).toContain('not-a-code');
    const b = await run(['check', '--format', 'xml']);
    expect(b.exitCode).toBe(3);
    oneCleanLine(b.stderr);
  });

  it('help and version exit 0', async () => {
    expect((await run(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await run(['--help']);
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toContain('check');
  });
});

describe('check --from', () => {
  it('analyses a snapshot offline with the exit status of the report', async () => {
    const conf = '/etc/keepalived/keepalived.conf';
    const snap = makeSnapshot([
      cmd('keepalived-binary', ['sh'], '/usr/sbin/keepalived\n'),
      keepalivedProcess(),
      // a gateway: notify_master SNATs the clients (a plain VIP host with forwarding off is fine)
      file(
        `kconf:${conf}`,
        conf,
        'vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n  10.0.0.1/24\n }\n notify_master /etc/keepalived/nm.sh\n}\n',
      ),
      file('script:/etc/keepalived/nm.sh', '/etc/keepalived/nm.sh', '#!/bin/sh\niptables -t nat -A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE\n'),
      cmd('keepalived-configtest', ['keepalived', '-t', '-f', conf], '', 0),
      cmd('ip-addr', ['ip', '-j', 'addr'], JSON.stringify([{ ifname: 'eth0', addr_info: [{ family: 'inet', local: '10.0.0.1', prefixlen: 24 }] }])),
      file('sysctl:net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward', '0\n'),
    ]);
    const f = path.join(dir, 'snap.json');
    await writeFile(f, JSON.stringify(snap));
    const r = await run(['check', '--from', f, '--json']);
    expect(r.exitCode).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report.schema).toBe('hagw-doctor.report/v1');
    expect(report.source).toBe(f);
    expect(report.findings.map((x: { code: string }) => x.code)).toContain('ip-forward-off');
    const only = await run(['check', '--from', f, '--json', '--only', 'vip-state-mismatch']);
    expect(JSON.parse(only.stdout).findings).toEqual([]);
    expect(only.exitCode).toBe(0);
    const prom = await run(['check', '--from', f, '--format', 'prometheus']);
    expect(prom.stdout).toMatch(/hagw_doctor_finding\{node="gw1",netns="[^"]+",code="ip-forward-off",severity="critical"\} 1/);
    // -o: the same text, into a file (replaced atomically), nothing on standard output
    const out = path.join(dir, 'textfile.prom');
    const toFile = await run(['check', '--from', f, '--format', 'prometheus', '-o', out]);
    expect(toFile.exitCode).toBe(prom.exitCode);
    expect(toFile.stdout).toBe('');
    // the same lines but for the run's time and the checks' durations
    const stable = (t: string) => t.split('\n').filter((l) => l && !/^hagw_doctor_(last_run_timestamp|check_duration)_seconds\{/.test(l));
    expect(stable(await readFile(out, 'utf8'))).toEqual(stable(prom.stdout));
    const nowhere = await run(['check', '--from', f, '--format', 'prometheus', '-o', path.join(dir, 'no-such-dir', 'x.prom')]);
    expect(nowhere.exitCode).toBe(3);
    expect(nowhere.stderr).toMatch(/^hagw-doctor: cannot write .*no-such-dir.*ENOENT/);
    const junit = await run(['check', '--from', f, '--format', 'junit']);
    expect(junit.stdout).toContain('<failure type="critical"');
  });
});

describe('snapshot', () => {
  it('records probes that check --from analyses the same way as live', async () => {
    const f = path.join(dir, 'live.json');
    const s = await run(['snapshot', '-o', f]);
    expect(s.exitCode).toBe(0);
    const live = await run(['check', '--json']);
    const offline = await run(['check', '--json', '--from', f]);
    const codes = (o: string) => (JSON.parse(o).findings as Array<{ code: string }>).map((x) => x.code).sort();
    expect(codes(offline.stdout)).toEqual(codes(live.stdout));
    expect(offline.exitCode).toBe(live.exitCode);
  });

  it('as a user who is not root: root-only probes say so, the report is still valid JSON', async () => {
    const pkg = await packageForNobody();
    try {
      const nobody = { prefix: AS_NOBODY, bin: pkg.bin, cwd: pkg.dir };
      const snap = await run(['snapshot'], nobody);
      expect(snap.stderr).toBe('');
      expect(snap.exitCode).toBe(0);
      const records = Object.values(JSON.parse(snap.stdout).probes) as Array<{ status: string; reason?: string }>;
      expect(records.some((p) => p.status === 'skipped' && p.reason === 'needs root')).toBe(true);
      const r = await run(['check', '--json'], nobody);
      expect(r.stderr).toBe('');
      const report = JSON.parse(r.stdout) as Report;
      expect(report.schema).toBe('hagw-doctor.report/v1');
      expect(r.exitCode).toBe({ ok: 0, warning: 1, critical: 2, unknown: 3 }[report.summary.status]);
      // keepalived processes of other namespaces (labs) cannot be verified as nobody: UNKNOWN exactly
      // when a core check could not judge, and then one of them says it needs root
      const coreBlind = (report.summary.notJudged ?? []).filter((n) => n.core);
      expect(report.summary.status === 'unknown').toBe(coreBlind.length > 0);
      expect(coreBlind.some((n) => /needs root/.test(n.reason))).toBe(coreBlind.length > 0);
      expect(report.summary.status).not.toBe('critical');
      expect(report.findings.map((f) => f.code)).not.toContain('keepalived-not-running');
    } finally {
      await rm(pkg.dir, { recursive: true, force: true });
    }
  });
});
