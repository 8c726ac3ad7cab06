// `check --peer HOST`: the other node probed live over real SSH (test/lab/sshd.ts), with real
// keepalived on both. A healthy pair is quiet from both sides; a split brain caused by the peer's
// firewall is attributed to the right node from either side; a config drift on the peer is found;
// a peer whose sshd is gone leaves the local check whole, reachable: false with one reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { healthyGatewayConf } from './keepalived-files.js';
import { createLab, requireRoot, ADDR, type Lab } from './harness.js';
import { startLabSsh, SUDO_USER, type LabSsh } from './sshd.js';
import type { Report } from '../../src/types.js';

let lab: Lab;
let ssh: LabSsh;

beforeAll(async () => {
  requireRoot();
  lab = await createLab({ keepalivedConf: healthyGatewayConf });
  ssh = await startLabSsh(lab);
});
afterAll(async () => {
  await lab?.destroy();
});

const peerArgs = (peer: 'gw1' | 'gw2') => ['--peer', peer, '--ssh-config', ssh.configPath];

/**
 * gw1's own report as a baseline to compare a later one with: taken once the split brain an
 * earlier test healed has aged out of gw1's log window (a log-based episode counts for 5 advert
 * intervals + 5 s), so it cannot be in the baseline and gone from the next report.
 */
const settledAlone = () =>
  lab.waitFor(
    async () => {
      const r = await lab.report<Report>('gw1');
      return r.report.findings.some((f) => f.code === 'vrrp-split-brain') ? undefined : r;
    },
    { what: "gw1's own report without the healed split brain", timeoutMs: 30_000, intervalMs: 1000 },
  );

describe('check --peer over ssh', () => {
  it('a healthy pair judged from both sides is quiet, with the peer reachable', async () => {
    for (const [here, there] of [
      ['gw1', 'gw2'],
      ['gw2', 'gw1'],
    ] as const) {
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

  it('a config drift on the peer (another auth_pass written, not reloaded) is found and put on the peer', async () => {
    const conf = await lab.readEtc('gw2', 'keepalived/keepalived.conf');
    await lab.writeEtc('gw2', 'keepalived/keepalived.conf', conf.replace(/auth_pass \S+/g, 'auth_pass drifted1'));
    try {
      const r = await lab.report<Report>('gw1', peerArgs('gw2'));
      expect(r.report.peer?.reachable).toBe(true);
      const auth = r.report.findings.filter((f) => f.code === 'vrrp-auth-mismatch');
      expect(auth.length, JSON.stringify(r.report.findings, null, 1)).toBe(2);
      for (const f of auth) {
        expect(f.node).toBe('gw2');
        expect(f.detail).toMatch(/on gw2 changed at .* after its keepalived started at .*: gw2 has not loaded it yet/);
      }
      // not loaded: the running pair still agrees, nobody holds a VIP twice
      expect(r.report.findings.filter((f) => f.code === 'vrrp-split-brain')).toEqual([]);
      expect(await lab.holdsVip('gw2', ADDR.lanVip)).toBe(false);
    } finally {
      await lab.writeEtc('gw2', 'keepalived/keepalived.conf', conf);
    }
  });

  it("a split brain caused by the peer's nft firewall is reported from either node, the cause on the right node", async () => {
    const ruleset = `table inet filter {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    ip saddr { ${ADDR.gw1.lan}, ${ADDR.gw1.wan} } ip protocol vrrp drop\n  }\n}\n`;
    await lab.execOk('gw2', ['nft', '-f', '-'], { input: ruleset });
    await lab.waitForMaster('gw2');
    await lab.waitForMaster('gw1');

    // from gw1: the split brain is here and there; the cause is the peer's
    const one = await lab.report<Report>('gw1', peerArgs('gw2'));
    expect(one.exitCode).toBe(2);
    const sb = one.report.findings.filter((f) => f.code === 'vrrp-split-brain');
    expect(sb.map((f) => f.title).sort()).toEqual([
      `VI_LAN (VRID ${ADDR.vridLan}): both nodes hold ${ADDR.lanVip}`,
      `VI_WAN (VRID ${ADDR.vridWan}): both nodes hold ${ADDR.wanVip}`,
    ]);
    expect(sb.find((f) => f.title.startsWith('VI_LAN'))?.detail).toContain(
      `Cause: on the peer gw2, nft table inet filter would drop VI_LAN's adverts from ${ADDR.gw1.lan} (vrrp-input-blocked)`,
    );
    const blocked = one.report.findings.filter((f) => f.code === 'vrrp-input-blocked');
    expect(blocked.map((f) => f.node)).toEqual(['gw2', 'gw2']);
    // a peer finding never carries a fix for this node; it says what to run there
    expect(blocked.every((f) => f.fix === undefined && f.detail.includes('hagw-doctor fix --on-peer gw2 vrrp-input-blocked'))).toBe(true);
    expect(blocked[0]!.detail).toMatch(/On gw2, the fix is: nft insert rule inet filter input ip protocol vrrp ip saddr \S+ accept/);
    expect(one.report.peer).toMatchObject({ host: 'gw2', reachable: true, role: 'master' });

    // from gw2: the same split brain, the cause on this node
    const two = await lab.report<Report>('gw2', peerArgs('gw1'));
    const here = two.report.findings.filter((f) => f.code === 'vrrp-input-blocked');
    expect(here.map((f) => f.node)).toEqual(['local', 'local']);
    expect(here.every((f) => f.fix !== undefined)).toBe(true);
    expect(two.report.findings.find((f) => f.code === 'vrrp-split-brain' && f.title.startsWith('VI_LAN'))?.detail).toContain(
      'Cause: on this node, nft table inet filter would drop',
    );
    expect(two.report.findings.filter((f) => f.node === 'gw1' && f.severity === 'critical')).toEqual([]);

    // the text report puts the nodes side by side
    const text = await lab.doctor('gw1', ['check', ...peerArgs('gw2')]);
    expect(text.stdout).toMatch(/Pair\s+this node \(\S+\)\s+peer gw2/);
    expect(text.stdout).toMatch(/role\s+MASTER\s+MASTER/);
    expect(text.stdout).toMatch(/CRITICAL \[gw2\] vrrp-input-blocked/);

    // fix --on-peer: the peer's own hagw-doctor applies its fix there (preview, backup, re-check)
    await ssh.installDoctor('gw2');
    const fixed = await lab.doctor('gw1', ['fix', '--on-peer', 'gw2', '--ssh-config', ssh.configPath, 'vrrp-input-blocked', '--yes']);
    expect(fixed.exitCode, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain('Running on gw2: hagw-doctor fix vrrp-input-blocked --yes');
    expect(fixed.stdout).toMatch(/re-check: cleared/);
    await lab.waitForNoVip('gw2');
    const after = await lab.report<Report>('gw1', peerArgs('gw2'));
    expect(
      after.report.findings.filter((f) => f.code === 'vrrp-input-blocked' || (f.code === 'vrrp-split-brain' && / both nodes hold /.test(f.title))),
    ).toEqual([]);
    await lab.execOk('gw2', ['nft', 'flush', 'ruleset']);
    // the pair settles before the next test: gw2 back to BACKUP
    await lab.waitForNoVip('gw2');
  });

  it.each([
    ['through its sh (no hagw-doctor there)', false],
    ['through its own hagw-doctor', true],
  ])('no root on the peer, read %s: what could be read is used, and the report says what could not', async (_how, withDoctor) => {
    if (withDoctor) await ssh.installDoctor('gw2');
    else await ssh.uninstallDoctor('gw2');
    const r = await lab.report<Report>('gw1', ['--peer', 'nobody@gw2', '--ssh-config', ssh.configPath]);
    expect(r.report.peer, r.stderr).toMatchObject({ host: 'nobody@gw2', reachable: true, via: 'ssh' });
    // the root-only dumps (rulesets, conntrack, keepalived's processes) are named, the first few of them
    expect(r.report.peer?.reason).toMatch(
      /^no root on nobody@gw2 \(the SSH user is not root and sudo -n is refused\): [1-9]\d* probes were not read \((iptables|nft|conntrack|keepalived)/,
    );
    // its addresses and config are readable without root: the pair is still judged; which
    // keepalived is its own (/proc/PID/exe, /proc/PID/ns/net) is not, so neither its role nor
    // "no keepalived runs" is claimed
    expect(r.report.peer?.role).toBe('unknown');
    expect(r.report.peer?.instances?.map((i) => i.state)).toEqual(['UNKNOWN', 'UNKNOWN']);
    expect(r.report.peer?.instances?.[0]?.source).toMatch(/keepalived could not be verified \(needs root/);
    expect(r.report.checks.find((c) => c.id === 'keepalived-pair')?.status).toBe('pass');
    expect(r.report.checks.find((c) => c.id === 'keepalived-pair-live')?.status).toBe('pass');
    // no split brain judged from the two nodes' VIPs (gw1's own log still tells of the episode the
    // test before healed: that is this node's log, not the pair judgement under test here)
    expect(r.report.findings.filter((f) => f.code === 'vrrp-split-brain' && / both nodes hold /.test(f.title))).toEqual([]);
    // what root alone could show is not turned into a finding about the peer
    expect(r.report.findings.filter((f) => f.node !== 'local' && f.severity !== 'info').map((f) => `${f.code}: ${f.title}`)).toEqual([]);
  });

  it.each([
    ['through its sh (no hagw-doctor there)', false],
    ['through its own hagw-doctor', true],
  ])('root on the peer through sudo -n (a NOPASSWD user), read %s: the whole pair is judged, nothing said missing', async (_how, withDoctor) => {
    if (withDoctor) await ssh.installDoctor('gw2');
    else await ssh.uninstallDoctor('gw2');
    // the pair settled (gw1 master, gw2 backup) before it is judged
    await lab.waitForMaster('gw1');
    await lab.waitForNoVip('gw2');
    // the login is not root, and sudo -n works for it
    const who = await lab.exec('gw1', ['ssh', '-F', ssh.configPath, `${SUDO_USER}@gw2`, 'id -u; sudo -n id -u']);
    expect(who.stdout.trim().split('\n'), who.stderr).toEqual(['1', '0']);
    const logged = (await readFile(ssh.logPath('gw2'), 'utf8')).length;
    const r = await lab.report<Report>('gw1', ['--peer', `${SUDO_USER}@gw2`, '--ssh-config', ssh.configPath], { HAGW_DOCTOR_TRACE: '1' });
    expect(r.report.peer, r.stderr).toMatchObject({ host: `${SUDO_USER}@gw2`, reachable: true, via: 'ssh', role: 'backup' });
    // one login and one session for the whole check: every round (or its doctor's snapshot) went
    // to the one shell kept open, made root's by sudo -n once
    const sshd = (await readFile(ssh.logPath('gw2'), 'utf8')).slice(logged);
    expect(sshd.match(/Accepted publickey for daemon /g)?.length, sshd).toBe(1);
    expect(sshd.match(/Starting session: /g)?.length, `${sshd}\n${r.stderr}`).toBe(1);
    const rounds = r.stderr.split('\n').filter((l) => /peer (shell|sh -s): /.test(l));
    if (withDoctor) {
      expect(rounds).toEqual([]);
      expect(r.stderr).toMatch(/peer: its hagw-doctor snapshot in \d+ ms \(exit 0,/);
    } else {
      expect(rounds.length).toBeGreaterThanOrEqual(3);
      expect(
        rounds.every((l) => / peer shell: \d+ probes .*\(exit 0,/.test(l)),
        rounds.join('\n'),
      ).toBe(true);
    }
    expect(r.report.peer?.reason).toBeUndefined();
    // what needs root (keepalived's own process, /proc/PID/exe) was read: its state is known, and
    // no probe is said to be missing for want of root (peer.reason is unset)
    expect(r.report.peer?.instances?.map((i) => i.state)).toEqual(['BACKUP', 'BACKUP']);
    expect(r.report.checks.find((c) => c.id === 'keepalived-pair-live')?.status).toBe('pass');
    expect(r.report.checks.find((c) => c.id === 'keepalived-pair')?.status).toBe('pass');
    // nothing loud about the peer, and no split brain from the two nodes' VIPs (gw1's own log may
    // still tell of the episode an earlier test healed: this node's log, not under test here)
    expect(r.report.findings.filter((f) => f.node !== 'local' && f.severity !== 'info').map((f) => `${f.code}: ${f.title}`)).toEqual([]);
    expect(r.report.findings.filter((f) => f.code === 'vrrp-split-brain' && / both nodes hold /.test(f.title))).toEqual([]);
    // a snapshot taken this way holds neither node's auth_pass, whichever way the peer was read
    // (its own doctor hands it over inside the SSH channel: --include-secrets there)
    const file = path.join(lab.runDir, `snapshot-sudo-${withDoctor ? 'doctor' : 'sh'}.json`);
    expect((await lab.doctor('gw1', ['snapshot', '-o', file, '--peer', `${SUDO_USER}@gw2`, '--ssh-config', ssh.configPath])).exitCode).toBe(0);
    const written = await readFile(file, 'utf8');
    expect(written).toContain('peer-snapshot');
    expect(written).not.toMatch(/hagwlan|hagwwan/);
    expect(written).toMatch(/auth_pass REDACTED:7:/);
  });

  it('a peer that is not a keepalived node (not installed, not running): reachable: false with the reason; the local check stands', async () => {
    await ssh.uninstallDoctor('gw2');
    const alone = await settledAlone();
    await lab.stopKeepalived('gw2');
    await ssh.stop('gw2');
    await ssh.start('gw2', { hide: ['/usr/sbin/keepalived'] });
    try {
      const probe = await ssh.ssh('gw1', 'gw2', ['sh', '-c', 'keepalived --version; echo rc=$?']);
      expect(probe.stdout).toMatch(/rc=12[67]/);
      const r = await lab.report<Report>('gw1', peerArgs('gw2'));
      expect(r.report.peer, r.stderr).toMatchObject({ host: 'gw2', reachable: false, via: 'ssh' });
      expect(r.report.peer?.reason).toBe('gw2 is not a keepalived node (keepalived is neither installed nor running there)');
      expect(r.report.findings.every((f) => f.node === 'local')).toBe(true);
      expect(r.report.findings.map((f) => f.code).sort()).toEqual(alone.report.findings.map((f) => f.code).sort());
      expect(r.exitCode).toBe(alone.exitCode);
      expect(r.stderr).not.toMatch(/at \S+\.js:\d+|internal error/);
    } finally {
      await ssh.stop('gw2');
      await ssh.start('gw2');
      await lab.startKeepalived('gw2');
      await lab.waitForNoVip('gw2');
    }
  });

  it('--from with --peer-snapshot judges the pair (it used to be ignored)', async () => {
    const a = path.join(lab.runDir, 'from-gw1.json');
    const b = path.join(lab.runDir, 'from-gw2.json');
    expect((await lab.doctor('gw1', ['snapshot', '-o', a])).exitCode).toBe(0);
    expect((await lab.doctor('gw2', ['snapshot', '-o', b])).exitCode).toBe(0);
    const r = await lab.report<Report>('gw1', ['--from', a, '--peer-snapshot', b]);
    expect(r.report.checks.find((c) => c.id === 'keepalived-pair')?.status).toBe('pass');
    expect(r.report.peer).toMatchObject({ reachable: true, via: 'snapshot' });
    // a snapshot taken with --peer holds the peer: --from reproduces the pair judgement
    const withPeer = path.join(lab.runDir, 'with-peer.json');
    expect((await lab.doctor('gw1', ['snapshot', '-o', withPeer, ...peerArgs('gw2')])).exitCode).toBe(0);
    // neither node's auth_pass is in it (this node's part, the peer's embedded part)
    const written = await readFile(withPeer, 'utf8');
    expect(written).toContain('peer-snapshot');
    expect(written).not.toMatch(/hagwlan|hagwwan/);
    expect(written).toMatch(/auth_pass REDACTED:7:/);
    const again = await lab.report<Report>('gw1', ['--from', withPeer]);
    expect(again.report.peer).toMatchObject({ host: 'gw2', reachable: true, via: 'ssh' });
    expect(again.report.checks.find((c) => c.id === 'keepalived-pair-live')?.status).toBe('pass');
  });

  it('the peer unreachable (sshd stopped, hung, host key changed): the local check completes, reachable: false with one reason', async () => {
    const alone = await settledAlone();
    const cases: Array<{ what: string; setup: () => Promise<unknown>; undo: () => Promise<unknown>; args?: string[]; reason: RegExp }> = [
      { what: 'sshd stopped', setup: () => ssh.stop('gw2'), undo: () => ssh.start('gw2'), reason: /^gw2 refused the SSH connection/ },
      {
        what: 'sshd hung',
        setup: async () => process.kill(ssh.pid('gw2')!, 'SIGSTOP'),
        undo: async () => process.kill(ssh.pid('gw2')!, 'SIGCONT'),
        reason: /^gw2 did not answer/,
      },
      {
        what: 'host key changed',
        setup: async () => {
          // gw2 presents a key known_hosts holds for gw1 only: a changed host key
          const known = await readFile(ssh.knownHostsPath, 'utf8');
          const gw1Key = known
            .split('\n')
            .find((l) => l.startsWith(`${ADDR.gw1.lan},`))!
            .split(' ')
            .slice(1)
            .join(' ');
          await writeFile(path.join(lab.runDir, 'known_hosts.changed'), `${ADDR.gw2.lan},${ADDR.gw2.wan} ${gw1Key}\n`);
          const cfg = (await readFile(ssh.configPath, 'utf8')).replaceAll(ssh.knownHostsPath, path.join(lab.runDir, 'known_hosts.changed'));
          await writeFile(path.join(lab.runDir, 'ssh_config.changed'), cfg);
        },
        undo: async () => undefined,
        args: ['--peer', 'gw2', '--ssh-config', path.join(lab.runDir, 'ssh_config.changed')],
        reason: /^the host key of gw2 has changed/,
      },
    ];
    for (const c of cases) {
      await c.setup();
      try {
        const r = await lab.report<Report>('gw1', c.args ?? peerArgs('gw2'));
        expect(r.report.peer, c.what).toMatchObject({ host: 'gw2', reachable: false, via: 'ssh' });
        expect(r.report.peer?.reason, c.what).toMatch(c.reason);
        expect(r.report.peer?.reason?.split('\n').length).toBe(1);
        expect(r.stderr, c.what).not.toMatch(/at \S+\.js:\d+|internal error/);
        // exit status and findings from the local node alone
        expect(r.exitCode, c.what).toBe(alone.exitCode);
        expect(r.report.findings.map((f) => f.code).sort(), c.what).toEqual(alone.report.findings.map((f) => f.code).sort());
        expect(r.report.findings.every((f) => f.node === 'local')).toBe(true);
      } finally {
        await c.undo();
      }
    }
    const text = await lab.doctor('gw1', ['check', ...peerArgs('gw2')]);
    expect(text.stdout).not.toMatch(/not reachable/);
  });

  it('a bad option after --peer: one line, exit 3, and no ssh left running (the handshake started before the arguments were read)', async () => {
    // the ssh clients in gw1's namespace (`ip netns pids`: ps would list the whole host's)
    const sshInGw1 = async () => {
      const pids = (await execa('ip', ['netns', 'pids', lab.nodes.gw1])).stdout.split('\n').filter(Boolean);
      const comms = await Promise.all(
        pids.map((p) =>
          readFile(`/proc/${p}/comm`, 'utf8').then(
            (c) => [p, c.trim()] as const,
            () => [p, ''] as const,
          ),
        ),
      );
      return comms.filter(([, c]) => c === 'ssh').map(([p]) => p);
    };
    expect(await sshInGw1()).toEqual([]);
    const r = await lab.doctor('gw1', ['check', ...peerArgs('gw2'), '--no-such-option']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/unknown option '--no-such-option'/)]);
    await expect.poll(sshInGw1, { timeout: 5000 }).toEqual([]);
  });
});
