// Issue 11 on real keepalived: healthy pairs are quiet, the role cannot be forged by text or by a
// process named keepalived, a non-root run is not an incident, and the daemon itself is judged
// (a second daemon, missing capabilities).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, copyFile, mkdir, readFile, readdir, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { createLab, requireRoot, ADDR, type Lab, type GatewayNode } from './harness.js';
import type { Report } from '../../src/types.js';
import { SNAT_RULES, healthyGatewayConf } from './keepalived-files.js';
import { AS_NOBODY, packageForNobody } from '../support/nobody.js';

const aboveInfo = (r: Report) => r.findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity} ${f.code}: ${f.title}`);
const codes = (r: Report) => r.findings.map((f) => f.code).sort();
const SNAT = SNAT_RULES.at(-1)!;

/** The console log line keepalived 2.2.7 -l writes, with the current local time. */
function consoleLine(msg: string): string {
  const d = new Date();
  const day = d.toLocaleString('en-US', { weekday: 'short' });
  const mon = d.toLocaleString('en-US', { month: 'short' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${d.getFullYear()}: ${msg}\n`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Start argv in the node in the background (stdio closed); resolves with its pid. */
async function background(lab: Lab, node: GatewayNode, argv: string[]): Promise<number> {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = await lab.execOk(node, ['sh', '-c', `${quoted} >/dev/null 2>&1 </dev/null & echo $!`]);
  return Number(r.stdout.trim());
}

async function stop(pid: number | undefined): Promise<void> {
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 15_000;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

describe('a healthy SNAT gateway pair (unicast, notify scripts add SNAT)', () => {
  let lab: Lab;
  const started: number[] = [];
  beforeAll(async () => {
    requireRoot();
    lab = await createLab({ keepalivedConf: healthyGatewayConf });
  });
  afterAll(async () => {
    for (const pid of started) await stop(pid);
    await lab?.destroy();
  });

  it('is quiet on both nodes, and knows it is a gateway and why', async () => {
    for (const node of ['gw1', 'gw2'] as const) {
      const { exitCode, report } = await lab.report<Report>(node);
      expect(aboveInfo(report), `${node}: ${JSON.stringify(report.summary)}`).toEqual([]);
      expect(report.summary.notJudged ?? []).toEqual([]);
      expect(exitCode).toBe(0);
      expect(report.kind).toBe('gateway');
      expect(report.kindEvidence!.join('\n')).toMatch(
        new RegExp(`notify_master /etc/keepalived/scripts/notify_master.sh adds SNAT for ${ADDR.lanNet.replace(/\./g, '\\.')}`),
      );
      expect(report.role).toBe(node === 'gw1' ? 'master' : 'backup');
      // the addresses decide, not the log
      const want = node === 'gw1' ? 'VIP presence (all VIPs held)' : 'VIP presence (no VIP held)';
      expect(report.instances.map((i) => i.source.slice(0, want.length))).toEqual([want, want]);
      expect(report.instances.map((i) => i.contested)).toEqual([undefined, undefined]);
    }
    const text = await lab.doctor('gw1', ['check']);
    expect(text.stdout).toContain(`Kind: gateway (notify_master /etc/keepalived/scripts/notify_master.sh adds SNAT for ${ADDR.lanNet}`);
  });

  it('forged "Entering BACKUP STATE" lines in the master\'s log change nothing, and no fix strips its SNAT', async () => {
    const before = await lab.report<Report>('gw1');
    await appendFile(lab.keepalivedLogPath('gw1'), consoleLine('(VI_LAN) Entering BACKUP STATE') + consoleLine('(VI_WAN) Entering BACKUP STATE'));
    const after = await lab.report<Report>('gw1');
    expect(after.report.role).toBe('master');
    expect(codes(after.report)).toEqual(codes(before.report));
    expect(after.exitCode).toBe(before.exitCode);
    expect(after.report.instances.map((i) => i.state)).toEqual(['MASTER', 'MASTER']);
    // the disagreement is said, not acted on
    expect(after.report.instances[0]!.contested).toMatch(/says BACKUP/);

    const fix = await lab.doctor('gw1', ['fix', 'snat-on-backup', '--yes']);
    // the master is not a BACKUP: nothing to fix, nothing done (exit 0 by the fix command's contract)
    expect(fix.stdout + fix.stderr).toMatch(/snat-on-backup is not reported on this host: nothing to fix/);
    expect(await lab.hasRule('gw1', 'nat', 'POSTROUTING', SNAT)).toBe(true);
    expect(await lab.ping('client', ADDR.upstream)).toBe(true);
  });

  it('a copy of sh named keepalived is not taken as the daemon, and its -f is never read', async () => {
    const fakeDir = path.join(lab.runDir, 'fake');
    await mkdir(fakeDir, { recursive: true });
    const fake = path.join(fakeDir, 'keepalived');
    await copyFile('/bin/sh', fake);
    await chmod(fake, 0o755);
    const evil = path.join(fakeDir, 'evil.conf');
    await writeFile(evil, 'vrrp_instance EVIL {\n  interface eth0\n  virtual_router_id 99\n  virtual_ipaddress {\n    192.168.100.99/24\n  }\n}\n');
    // beside the real daemon on gw1: not a second daemon, not the config source
    const evilLog = path.join(fakeDir, 'evil.log');
    await writeFile(evilLog, consoleLine('(VI_LAN) Entering BACKUP STATE') + consoleLine('(VI_WAN) Entering BACKUP STATE'));
    const pid = await background(lab, 'gw1', [fake, '-c', 'sleep 600; :', 'keepalived', '-f', evil, `-g${evilLog}`]);
    started.push(pid);
    await lab.waitFor(async () => (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() === 'keepalived', {
      what: 'the fake keepalived to run',
    });
    const { exitCode, report } = await lab.report<Report>('gw1');
    expect(aboveInfo(report)).toEqual([]);
    expect(exitCode).toBe(0);
    const snap = await lab.doctor('gw1', ['snapshot']);
    const probes = JSON.parse(snap.stdout).probes as Record<string, { path?: string; stdout: string }>;
    expect(Object.values(probes).some((p) => p.path === evil || p.path === evilLog)).toBe(false);
    expect(report.instances.map((i) => i.state)).toEqual(['MASTER', 'MASTER']);
    const procs = (
      JSON.parse(probes['keepalived-processes']!.stdout) as Array<{ pid: number; ours: boolean; verified: boolean; notVerified?: string; daemon?: string }>
    ).filter((p) => p.ours);
    expect(procs.find((p) => p.pid === pid)).toMatchObject({ verified: false, notVerified: expect.stringMatching(/not root-owned or is writable by others/) });
    expect(procs.filter((p) => p.verified && p.daemon === 'parent').map((p) => p.pid)).toEqual([lab.keepalivedPid('gw1')]);
    expect(procs.some((p) => p.verified && p.daemon === 'vrrp')).toBe(true);

    // on gw2 with keepalived stopped, the fake does not make it "running", and its config is not read
    await lab.stopKeepalived('gw2');
    const pid2 = await background(lab, 'gw2', [fake, '-c', 'sleep 600; :', 'keepalived', '-f', evil]);
    started.push(pid2);
    await lab.waitFor(async () => (await readFile(`/proc/${pid2}/comm`, 'utf8').catch(() => '')).trim() === 'keepalived', {
      what: 'the fake keepalived to run on gw2',
    });
    const down = await lab.report<Report>('gw2');
    const f = down.report.findings.find((x) => x.code === 'keepalived-not-running');
    expect(f, JSON.stringify(down.report.findings)).toBeDefined();
    expect(f!.evidence.map((e) => e.excerpt).join('\n')).toContain(`pid ${pid2} is named keepalived but is not the daemon`);
    expect(down.report.instances.every((i) => !i.name.includes('EVIL'))).toBe(true);
    await stop(pid2);
    await lab.startKeepalived('gw2');
    await lab.waitForSteadyState();
  });

  it('a real keepalived -t that is still running is not the daemon, and its -f is never read by the doctor', async () => {
    await lab.stopKeepalived('gw2');
    // 3000 unknown keywords: keepalived -t writes ~140 KB of complaints into a pipe nobody reads, so it stays
    const big = path.join(lab.runDir, 'gw2-test.conf');
    await writeFile(big, `global_defs {\n${Array.from({ length: 3000 }, (_, i) => `  bogus_keyword_${i} yes`).join('\n')}\n}\n`);
    const sh = await background(lab, 'gw2', ['sh', '-c', `keepalived -t -f '${big}' 2>&1 | sleep 300`]);
    started.push(sh);
    const pids = async () => {
      const out: Array<{ pid: number; comm: string; ppid: number }> = [];
      for (const d of await readdir('/proc')) {
        if (!/^\d+$/.test(d)) continue;
        const stat = await readFile(`/proc/${d}/stat`, 'utf8').catch(() => '');
        const m = /^\d+ \((.*)\) \S (\d+)/.exec(stat);
        if (m && Number(m[2]) === sh) out.push({ pid: Number(d), comm: m[1]!, ppid: sh });
      }
      return out;
    };
    try {
      const kt = await lab.waitFor(async () => (await pids()).find((p) => p.comm === 'keepalived'), { what: 'keepalived -t to block on its output' });
      await lab.waitFor(async () => (await readFile(`/proc/${kt.pid}/wchan`, 'utf8').catch(() => '')).includes('pipe'), {
        what: 'keepalived -t to wait on the full pipe',
      });
      const { report } = await lab.report<Report>('gw2');
      const f = report.findings.find((x) => x.code === 'keepalived-not-running');
      expect(f, JSON.stringify(report.findings.map((x) => x.code))).toBeDefined();
      expect(f!.evidence.map((e) => e.excerpt).join('\n')).toContain(`pid ${kt.pid} is named keepalived but is not the daemon: a one-shot \`keepalived -t\``);
      const snap = JSON.parse((await lab.doctor('gw2', ['snapshot'])).stdout) as { probes: Record<string, { path?: string; argv?: string[] }> };
      expect(Object.values(snap.probes).some((p) => p.path === big || p.argv?.includes(big))).toBe(false);
    } finally {
      for (const p of await pids()) await stop(p.pid);
      await stop(sh);
      await lab.startKeepalived('gw2');
      await lab.waitForSteadyState();
    }
  });

  it('run as nobody on the healthy master: not CRITICAL, and it says what needs root', async () => {
    // the built package copied where nobody can read it (the checkout may be root's alone)
    const cli = (await packageForNobody(lab.runDir)).bin;
    const nobody = AS_NOBODY;
    const json = await lab.exec('gw1', [...nobody, process.execPath, cli, 'check', '--json'], { env: { NO_COLOR: '1' }, timeoutMs: 120_000, cwd: '/' });
    const report = JSON.parse(json.stdout) as Report;
    expect(json.stderr).toBe('');
    expect(report.summary.status).not.toBe('critical');
    expect(json.exitCode).not.toBe(2);
    expect(codes(report)).not.toContain('keepalived-not-running');
    expect(codes(report)).not.toContain('vip-stray-local');
    expect(report.findings.filter((x) => x.severity === 'critical' || x.severity === 'error')).toEqual([]);
    // the checks that decide could not run: UNKNOWN, and why
    expect(json.exitCode).toBe(3);
    expect(report.summary.status).toBe('unknown');
    expect(report.summary.notJudged!.find((n) => n.check === 'keepalived-running')).toMatchObject({ core: true, reason: expect.stringMatching(/^needs root/) });
    const text = await lab.exec('gw1', [...nobody, process.execPath, cli, 'check'], { env: { NO_COLOR: '1' }, timeoutMs: 120_000, cwd: '/' });
    expect(text.exitCode).toBe(3);
    expect(text.stdout).toMatch(/UNKNOWN: needs root: /);
  });

  it('every firewall probe hangs: not OK but UNKNOWN, naming what could not be judged', async () => {
    const bin = path.join(lab.runDir, 'hang-bin');
    await mkdir(bin, { recursive: true });
    for (const tool of ['iptables-save', 'iptables-nft-save', 'iptables-legacy-save', 'ip6tables-save', 'ip6tables-nft-save', 'ip6tables-legacy-save', 'nft']) {
      await writeFile(path.join(bin, tool), '#!/bin/sh\nexec sleep 120\n', { mode: 0o755 });
    }
    const { exitCode, report } = await lab.report<Report>('gw1', [], { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` });
    expect(
      report.summary.status,
      JSON.stringify(report.findings.filter((f) => f.severity === 'critical' || f.severity === 'error').map((f) => [f.code, f.title])),
    ).toBe('unknown');
    expect(exitCode).toBe(3);
    expect(report.summary.notJudged!.find((n) => n.check === 'netfilter-vrrp-filter')).toMatchObject({
      core: true,
      reason: expect.stringMatching(/did not finish within/),
    });
  });

  it('a check that errors on a malformed snapshot leaves the summary at WARNING, not OK', async () => {
    const file = path.join(lab.runDir, 'gw1-snapshot.json');
    const snap = await lab.doctor('gw1', ['snapshot', '-o', file]);
    expect(snap.exitCode, snap.stderr).toBe(0);
    const clean = await lab.report<Report>('gw1', ['--from', file]);
    expect(clean.exitCode).toBe(0);
    const s = JSON.parse(await readFile(file, 'utf8')) as { probes: Record<string, { stdout: string }> };
    s.probes['dir:/etc/sysctl.d']!.stdout = '["90-hagw';
    await writeFile(file, JSON.stringify(s));
    const { exitCode, report } = await lab.report<Report>('gw1', ['--from', file]);
    expect(report.checks.find((c) => c.id === 'ip-forward')).toMatchObject({ status: 'error' });
    expect(report.summary.status).toBe('warning');
    expect(exitCode).toBe(1);
    expect(report.summary.notJudged).toEqual([expect.objectContaining({ check: 'ip-forward', reason: expect.stringMatching(/^the check failed: /) })]);
  });

  it('a second keepalived daemon in the namespace is keepalived-duplicate', async () => {
    const dir = lab.nodeDir('gw1');
    const argv = ['keepalived', '-f', '/etc/keepalived/keepalived.conf', '-p', `${dir}/dup.pid`, '-r', `${dir}/dup-vrrp.pid`, '-c', `${dir}/dup-checkers.pid`];
    await lab.execOk('gw1', argv);
    const pid = Number(
      await lab.waitFor(async () => (await readFile(`${dir}/dup.pid`, 'utf8').catch(() => '')).trim(), { what: 'the second keepalived to write its pid file' }),
    );
    started.push(pid);
    try {
      await lab.waitFor(async () => (await readFile(`${dir}/dup-vrrp.pid`, 'utf8').catch(() => '')).trim(), { what: "the second keepalived's VRRP child" });
      // both daemons must have their VRRP child up (a daemon respawns a child that dies)
      const { exitCode, report } = await lab.waitFor(
        async () => {
          const r = await lab.report<Report>('gw1');
          return r.report.findings.some((x) => x.code === 'keepalived-duplicate') ? r : undefined;
        },
        { what: 'keepalived-duplicate on gw1', timeoutMs: 30_000, intervalMs: 500 },
      );
      const f = report.findings.find((x) => x.code === 'keepalived-duplicate');
      expect(f, JSON.stringify(report.findings.map((x) => x.code))).toMatchObject({
        severity: 'critical',
        title: '2 keepalived daemons run in this network namespace',
      });
      expect(f!.evidence.map((e) => e.excerpt).join('\n')).toContain(`pid ${pid}`);
      expect(exitCode).toBe(2);
    } finally {
      await stop(pid);
    }
  });

  it('keepalived started without CAP_NET_ADMIN is keepalived-capabilities-missing', async () => {
    await lab.stopKeepalived('gw2');
    const dir = lab.nodeDir('gw2');
    await lab.execOk('gw2', [
      'setpriv',
      '--bounding-set',
      '-net_admin',
      '--inh-caps',
      '-net_admin',
      'keepalived',
      '-f',
      '/etc/keepalived/keepalived.conf',
      '-p',
      `${dir}/cap.pid`,
      '-r',
      `${dir}/cap-vrrp.pid`,
      '-c',
      `${dir}/cap-checkers.pid`,
    ]);
    const pid = Number(
      await lab.waitFor(async () => (await readFile(`${dir}/cap.pid`, 'utf8').catch(() => '')).trim(), {
        what: 'keepalived without CAP_NET_ADMIN to write its pid file',
      }),
    );
    started.push(pid);
    try {
      await lab.waitFor(async () => (await readFile(`${dir}/cap-vrrp.pid`, 'utf8').catch(() => '')).trim(), { what: 'its VRRP child' });
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      expect(BigInt(`0x${/^CapEff:\s+(\w+)/m.exec(status)![1]}`) & (1n << 12n)).toBe(0n);
      const { exitCode, report } = await lab.report<Report>('gw2');
      const f = report.findings.find((x) => x.code === 'keepalived-capabilities-missing');
      expect(f, JSON.stringify(report.findings.map((x) => x.code))).toMatchObject({ severity: 'critical', title: 'keepalived runs without CAP_NET_ADMIN' });
      expect(exitCode).toBe(2);
    } finally {
      await stop(pid);
    }
  });
});

/** A plain floating service VIP: one instance, unicast, no notify scripts, nothing routed. */
function vipConf(node: GatewayNode): string {
  const self = node === 'gw1' ? ADDR.gw1 : ADDR.gw2;
  const peer = node === 'gw1' ? ADDR.gw2 : ADDR.gw1;
  return `global_defs {
    router_id ${node}
}
vrrp_instance VI_SVC {
    state ${node === 'gw1' ? 'MASTER' : 'BACKUP'}
    interface eth0
    virtual_router_id ${ADDR.vridLan}
    priority ${node === 'gw1' ? 150 : 100}
    advert_int 1
    unicast_src_ip ${self.lan}
    unicast_peer {
        ${peer.lan}
    }
    virtual_ipaddress {
        ${ADDR.lanVip}/${ADDR.prefixLen} dev eth0
    }
}
`;
}

describe('a healthy floating-VIP pair with forwarding off (no SNAT, no routing)', () => {
  let lab: Lab;
  beforeAll(async () => {
    requireRoot();
    lab = await createLab({ start: false, keepalivedConf: vipConf });
    for (const gw of ['gw1', 'gw2'] as const) await lab.execOk(gw, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    await Promise.all((['gw1', 'gw2'] as const).map((gw) => lab.startKeepalived(gw)));
    await lab.waitFor(async () => (await lab.holdsVip('gw1', ADDR.lanVip)) && !(await lab.holdsVip('gw2', ADDR.lanVip)), {
      what: 'gw1 to hold the service VIP alone',
      timeoutMs: 30_000,
    });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('is quiet on both nodes and reports kind vip; forwarding off is no finding', async () => {
    for (const node of ['gw1', 'gw2'] as const) {
      expect((await lab.exec(node, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('0');
      const { exitCode, report } = await lab.report<Report>(node);
      expect(aboveInfo(report), node).toEqual([]);
      expect(codes(report)).not.toContain('ip-forward-off');
      expect(exitCode).toBe(0);
      expect(report.kind).toBe('vip');
      expect(report.role).toBe(node === 'gw1' ? 'master' : 'backup');
      const fwd = report.checks.find((c) => c.id === 'ip-forward')!;
      expect(fwd).toMatchObject({ status: 'skip', reason: expect.stringMatching(/^not a gateway \(kind vip: /) });
      expect(fwd.blind).toBeUndefined();
    }
    // --kind gateway overrides: then forwarding off on the master is the critical it would be on a gateway
    const forced = await lab.report<Report>('gw1', ['--kind', 'gateway']);
    expect(forced.report.kind).toBe('gateway');
    expect(codes(forced.report)).toContain('ip-forward-off');
    const text = await lab.doctor('gw2', ['check']);
    expect(text.stdout).toMatch(/Kind: vip \(no SNAT\/MASQUERADE/);
  });
});
