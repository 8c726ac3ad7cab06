// The two nodes judged together: gw2's snapshot given to gw1's check (--peer-snapshot).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
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

describe('--peer-snapshot', () => {
  it("judges the pair from the peer's own snapshot: consistent configs pass, an MTU mismatch is found", async () => {
    const peerFile = path.join(lab.runDir, 'gw2.json');
    const snap = await lab.doctor('gw2', ['snapshot', '-o', peerFile]);
    expect(snap.exitCode, snap.stderr).toBe(0);

    const same = await lab.report<Report>('gw1', ['--peer-snapshot', peerFile]);
    expect(same.report.checks.find((c) => c.id === 'keepalived-pair')?.status).toBe('pass');
    expect(same.report.checks.find((c) => c.id === 'vip-mtu')?.status).toBe('pass');

    await lab.execOk('gw1', ['ip', 'link', 'set', 'eth0', 'mtu', '1400']);
    const off = await lab.report<Report>('gw1', ['--peer-snapshot', peerFile]);
    const f = off.report.findings.filter((x) => x.code === 'vip-mtu-mismatch');
    expect(
      f.map((x) => x.title),
      JSON.stringify(off.report.findings),
    ).toEqual([expect.stringMatching(/^eth0 here has MTU 1400, eth0 on \S+ has 1500$/)]);
    await lab.execOk('gw1', ['ip', 'link', 'set', 'eth0', 'mtu', '1500']);
  });

  it('a --peer-snapshot that does not exist is one line and exit 3', async () => {
    const r = await lab.doctor('gw1', ['check', '--peer-snapshot', '/nonexistent.json']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr.trim()).toBe('hagw-doctor: --peer-snapshot /nonexistent.json: no such file');
  });
});
