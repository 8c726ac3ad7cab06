// `generate --install-peer HOST`: this node writes its member, and the other member is installed by
// the other node's own hagw-doctor over real SSH (test/lab/sshd.ts): its preview, then with
// consent the same plan, its backup and re-check; its keepalived reloads the new config (same
// process, SIGHUP), and `check --peer` of the pair is quiet. The pair starts as generated members
// installed by hand (INSTALL.md), gw2's an older one (another priority). Without consent or without a doctor
// there, nothing changes there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { validateGenerateInput } from '../../src/generate/validate.js';
import { writeGeneratedPair } from '../../src/generate/cli.js';
import { createLab, requireRoot, ADDR, type GatewayNode, type Lab } from './harness.js';
import { startLabSsh, type LabSsh } from './sshd.js';
import type { Report } from '../../src/types.js';
import { installGeneratedMember } from './install-generated.js';

let lab: Lab;
let ssh: LabSsh;

beforeAll(async () => {
  requireRoot();
  lab = await createLab({ start: false });
  // both nodes run generated members, as INSTALL.md installs them; gw2's an older one (priority 90)
  for (const gw of ['gw1', 'gw2'] as const) {
    const out = path.join(lab.runDir, 'pre', gw);
    const v = validateGenerateInput(memberOpts(gw, out, gw === 'gw2' ? { priority: '90' } : {}));
    if (!v.ok) throw new Error(v.error);
    await writeGeneratedPair(v.value);
    await installGeneratedMember(lab, gw, out);
  }
  await lab.startKeepalived('gw1');
  await lab.waitForMaster('gw1');
  await lab.startKeepalived('gw2');
  ssh = await startLabSsh(lab);
});
afterAll(async () => {
  await lab?.destroy();
});

const other = (gw: GatewayNode): GatewayNode => (gw === 'gw1' ? 'gw2' : 'gw1');
/** generate's options for one member of the lab pair (commander's names) */
const memberOpts = (gw: GatewayNode, out: string, extra: Record<string, string> = {}): Record<string, string> => ({
  role: gw === 'gw1' ? 'master' : 'backup',
  interface: 'eth0',
  vip: `${ADDR.lanVip}/${ADDR.prefixLen}`,
  self: ADDR[gw].lan,
  peer: ADDR[other(gw)].lan,
  wanInterface: 'eth1',
  wanVip: `${ADDR.wanVip}/${ADDR.prefixLen}`,
  vrid: String(ADDR.vridLan),
  authPass: 'labpass',
  out,
  ...extra,
});
const generateArgs = (gw: GatewayNode, out: string) => [
  'generate',
  ...Object.entries(memberOpts(gw, out)).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]),
  '--install-peer',
  other(gw),
  '--ssh-config',
  ssh.configPath,
];

/** The log of the node's keepalived from `from` characters on. */
const logSince = async (gw: GatewayNode, from: number) => (await lab.keepalivedLog(gw)).slice(from);

describe('generate --install-peer over ssh', () => {
  it('without a hagw-doctor on the peer, or without consent, nothing changes there', async () => {
    const before = await lab.readEtc('gw2', 'keepalived/keepalived.conf');
    await ssh.uninstallDoctor('gw2');
    const none = await lab.doctor('gw1', generateArgs('gw1', path.join(lab.runDir, 'out-none')));
    expect(none.exitCode).toBe(3);
    expect(none.stderr).toMatch(/gw2 has no hagw-doctor on its PATH, so it cannot install its member itself/);
    // this node's member is written all the same
    expect(none.stdout).toMatch(/Wrote the master \(192\.168\.100\.2\)/);

    await ssh.installDoctor('gw2');
    const asked = await lab.doctor('gw1', generateArgs('gw1', path.join(lab.runDir, 'out-asked')));
    expect(asked.exitCode, asked.stderr).toBe(3);
    // the peer's own preview is shown: its files, its reload
    expect(asked.stdout).toContain("gw2's own hagw-doctor would install its member (backup, 192.168.100.3)");
    expect(asked.stdout).toMatch(/replace \/etc\/keepalived\/keepalived\.conf \(mode 0644\)/);
    expect(asked.stdout).not.toMatch(/systemctl|service keepalived/);
    expect(asked.stdout).toMatch(/kill -HUP \d+/);
    expect(asked.stderr).toMatch(/installing on gw2 needs consent: run on a terminal, or give --yes; nothing installed there/);
    expect(await lab.readEtc('gw2', 'keepalived/keepalived.conf')).toBe(before);

    // a member whose --self is not the node's own address is refused there (the wrong machine)
    const wrong = await ssh.ssh('gw1', 'gw2', ['hagw-doctor', 'install-generated', '--dry-run'], {
      input: JSON.stringify({ role: 'backup', interface: 'eth0', vip: `${ADDR.lanVip}/24`, self: ADDR.gw1.lan, peer: ADDR.gw2.lan }),
    });
    expect(wrong.exitCode).toBe(3);
    expect(wrong.stderr).toContain(`${ADDR.gw1.lan} is not an address of this node: this member is for another machine; nothing changed`);
    expect(await lab.readEtc('gw2', 'keepalived/keepalived.conf')).toBe(before);
  });

  it("installs the peer's member through its own doctor: keepalived reloads there, and check --peer is quiet from both nodes", async () => {
    await ssh.installDoctor('gw2');
    const pid = lab.keepalivedPid('gw2');
    const logAt = (await lab.keepalivedLog('gw2')).length;
    expect(await lab.readEtc('gw2', 'keepalived/keepalived.conf')).toMatch(/priority 90\n/);
    const r = await lab.doctor('gw1', [...generateArgs('gw1', path.join(lab.runDir, 'out-gw1')), '--yes']);
    const loudLines = r.stdout.split('\n').filter((l) => /^(CRITICAL|ERROR|WARN)/.test(l));
    expect(r.exitCode, `${r.stderr}\n${loudLines.join('\n')}`).toBe(0);
    expect(r.stdout).toContain('Installing on gw2: hagw-doctor install-generated --yes --expect-plan sha256:');
    expect(r.stdout).toMatch(/re-check: cleared/);
    expect(r.stdout).toContain('Both nodes now (hagw-doctor check --peer gw2)');
    expect(r.stdout).toMatch(/Pair\s+this node \(\S+\)\s+peer gw2/);
    // the member gw2 rendered itself: the backup, its own address, priority 100
    const conf = await lab.readEtc('gw2', 'keepalived/keepalived.conf');
    expect(conf).toContain('router_id hagw_backup');
    expect(conf).toContain(`unicast_src_ip ${ADDR.gw2.lan}`);
    expect(conf).toMatch(/priority 100\n/);
    // reloaded, not restarted: the same process read the new file
    expect(lab.keepalivedPid('gw2')).toBe(pid);
    await lab.waitFor(async () => /Reloading|Got SIGHUP/.test(await logSince('gw2', logAt)), { what: 'keepalived on gw2 to reload', timeoutMs: 15_000 });
    // the change is in gw2's own change log, to undo there
    const changes = await lab.doctor('gw2', ['changes', '--json']);
    expect(JSON.stringify(changes.json)).toContain('install the generated pair member');
    await lab.waitForMaster('gw1');
    expect(await lab.holdsVip('gw2', ADDR.lanVip)).toBe(false);
    for (const [here, there] of [
      ['gw1', 'gw2'],
      ['gw2', 'gw1'],
    ] as const) {
      const c = await lab.report<Report>(here, ['--peer', there, '--ssh-config', ssh.configPath]);
      expect(c.report.peer, c.stderr).toMatchObject({ host: there, reachable: true, via: 'ssh' });
      const loud = c.report.findings.filter((f) => f.severity !== 'info');
      expect(loud, JSON.stringify(loud, null, 1)).toEqual([]);
      expect(c.exitCode).toBe(0);
    }
  });
});
