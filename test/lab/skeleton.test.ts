// Issue 2's proof: `hagw-doctor check` on real keepalived nodes in network namespaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, requireRoot, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';

let lab: Lab;

beforeAll(async () => {
  requireRoot();
  lab = await createLab();
});
afterAll(async () => {
  await lab?.destroy();
});

async function check(node: 'gw1' | 'gw2'): Promise<{ exitCode: number | undefined; report: Report }> {
  const r = await lab.report<Report>(node);
  expect(r.stderr).toBe('');
  return r;
}

const serious = (r: Report) => r.findings.filter((f) => f.severity === 'error' || f.severity === 'critical');

describe('a healthy pair', () => {
  it('reports no error or critical finding on either node, and knows who is master', async () => {
    const m = await check('gw1');
    expect(serious(m.report), JSON.stringify(m.report.findings, null, 2)).toEqual([]);
    expect(m.report.role).toBe('master');
    expect(m.report.instances.map((i) => i.state)).toEqual(['MASTER', 'MASTER']);
    // the addresses decide the state (text cannot forge them); the log only refines it
    expect(m.report.instances[0]!.source).toBe('VIP presence (all VIPs held)');
    expect([0, 1]).toContain(m.exitCode);

    const b = await check('gw2');
    expect(serious(b.report), JSON.stringify(b.report.findings, null, 2)).toEqual([]);
    expect(b.report.role).toBe('backup');
    expect(b.report.instances.map((i) => i.state)).toEqual(['BACKUP', 'BACKUP']);
    // no check broke on real output
    expect(b.report.checks.filter((c) => c.status === 'error')).toEqual([]);
    expect(m.report.checks.filter((c) => c.status === 'error')).toEqual([]);
  });
});

describe('forwarding off on the master', () => {
  it('is ip-forward-off, critical, exit 2; gone once forwarding is back', async () => {
    await lab.scenario('ip-forward-off', 'gw1');
    const { exitCode, report } = await check('gw1');
    const f = report.findings.find((x) => x.code === 'ip-forward-off');
    expect(f?.severity).toBe('critical');
    expect(f?.evidence[0]?.excerpt).toBe('net.ipv4.ip_forward = 0');
    expect(exitCode).toBe(2);
    // the backup is not blamed for the master's problem
    expect((await check('gw2')).report.findings.map((x) => x.code)).not.toContain('ip-forward-off');
    await lab.execOk('gw1', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    expect((await check('gw1')).report.findings.map((x) => x.code)).not.toContain('ip-forward-off');
  });
});

describe('a config error', () => {
  it('a VRID out of range is keepalived-config-invalid with the file and line', async () => {
    const s = await lab.scenario('vrid-out-of-range', 'gw2');
    const { report } = await check('gw2');
    const f = report.findings.find((x) => x.code === 'keepalived-config-invalid' && x.severity === 'error');
    expect(f, JSON.stringify(report.findings, null, 2)).toBeDefined();
    expect(f!.location?.file).toBe('/etc/keepalived/keepalived.conf');
    expect(f!.location?.line).toBe(s.line);
    expect(f!.evidence.map((e) => e.excerpt).join('\n')).toContain("'352'");
  });
});
