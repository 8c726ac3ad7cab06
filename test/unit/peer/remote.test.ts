// The peer's probe script (src/peer/remote.ts) run by a real POSIX sh here, and its decoder fed
// hostile output; the SSH failure wording; the peer's hello parsed as untrusted text.
import { describe, expect, it, vi } from 'vitest';
import { execa } from 'execa';
import { chmod, copyFile, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ProbeSpec } from '../../../src/types.js';
import { buildRound, decodeProcesses, parseBundle } from '../../../src/peer/remote.js';
import { listKeepalivedProcesses } from '../../../src/probes/keepalived.js';
import type { KeepalivedProcess } from '../../../src/keepalived/daemon.js';
import { parseHello } from '../../../src/peer/hello.js';
import { cleanLine, describeSshFailure, validPeerHost } from '../../../src/peer/ssh.js';
import { recordId } from '../../../src/probes/ids.js';

async function runRound(specs: ProbeSpec[], root = true) {
  const round = buildRound(specs, {}, { root, timeout: true });
  const r = await execa('sh', ['-s'], { input: round.script, reject: false, timeout: 20_000 });
  return Object.fromEntries(round.decode(r.stdout, 1).map((x) => [x.id, x]));
}

describe('the peer probe script, run by sh', () => {
  it('reads files, listings, stats and commands, every argument quoted, and reports missing, denied and timeouts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-remote-'));
    const nasty = path.join(dir, `it's $(touch PWNED) \`touch PWNED\` "q".conf`);
    await writeFile(nasty, 'line one\nline two\n');
    await mkdir(path.join(dir, 'd'));
    await writeFile(path.join(dir, 'd', 'b'), '');
    await writeFile(path.join(dir, 'd', 'a'), '');
    await writeFile(path.join(dir, 'big'), 'x'.repeat(5000));
    const recs = await runRound([
      { id: recordId('f'), kind: 'file', path: nasty },
      { id: recordId('gone'), kind: 'file', path: path.join(dir, 'nope') },
      { id: recordId('big'), kind: 'file', path: path.join(dir, 'big'), maxBytes: 100 },
      { id: recordId('ls'), kind: 'dir', path: path.join(dir, 'd') },
      { id: recordId('st'), kind: 'stat', path: nasty },
      { id: recordId('st-none'), kind: 'stat', path: path.join(dir, 'nope') },
      { id: recordId('echo'), kind: 'command', argv: ['printf', '%s|', "a'b", '$HOME', '; rm -rf /'] },
      { id: recordId('exit3'), kind: 'command', argv: ['sh', '-c', 'echo err >&2; exit 3'] },
      { id: recordId('nocmd'), kind: 'command', argv: ['no-such-command-hagw'] },
      { id: recordId('slow'), kind: 'command', argv: ['sleep', '10'], timeoutMs: 1000 },
      { id: recordId('uid'), kind: 'internal', run: async () => 'never run here' },
      { id: recordId('other-internal'), kind: 'internal', run: async () => 'x' },
    ]);
    expect(recs['f']).toMatchObject({ status: 'ok', stdout: 'line one\nline two\n' });
    expect(recs['gone']).toMatchObject({ status: 'missing' });
    expect(recs['big']).toMatchObject({ status: 'ok', truncated: true });
    expect(recs['big']!.stdout).toHaveLength(100);
    expect(JSON.parse(recs['ls']!.stdout)).toEqual(['a', 'b']);
    const st = JSON.parse(recs['st']!.stdout);
    expect(st).toMatchObject({ exists: true, isFile: true, size: 18 });
    expect(st.parents[0].path).toBe(dir);
    expect(JSON.parse(recs['st-none']!.stdout).exists).toBe(false);
    expect(recs['echo']).toMatchObject({ status: 'ok', exitCode: 0, stdout: "a'b|$HOME|; rm -rf /|" });
    expect(recs['exit3']).toMatchObject({ status: 'ok', exitCode: 3, stderr: 'err\n' });
    expect(recs['nocmd']).toMatchObject({ status: 'missing' });
    expect(recs['slow']).toMatchObject({ status: 'timeout' });
    expect(recs['uid']!.stdout).toMatch(/^\d+$/);
    expect(recs['other-internal']).toMatchObject({ status: 'skipped' });
    expect(recs['other-internal']!.reason).toMatch(/not available over ssh/);
    // nothing in a path was ever run
    expect(existsSync('/PWNED') || existsSync(path.join(dir, 'PWNED')) || existsSync(path.join(process.cwd(), 'PWNED'))).toBe(false);
  });

  it('skips what needs root when the peer gives none, without asking it', async () => {
    const round = buildRound([{ id: recordId('r'), kind: 'file', path: '/etc/hostname', needsRoot: true }], {}, { root: false, timeout: true });
    expect(round.script).toBe('');
    expect(round.decode('', 0)[0]).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/needs root on the peer/) });
  });

  it('lists keepalived processes with the facts the /proc walk reads, and the same verdicts', async () => {
    // a copy of sleep named keepalived, under a world-writable directory: both readers see the
    // same binary, owner, directories and sockets, and neither takes it for the daemon
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-remote-ka-'));
    await chmod(dir, 0o777);
    const fake = path.join(dir, 'keepalived');
    await copyFile('/bin/sleep', fake);
    await chmod(fake, 0o755);
    const child = execa(fake, ['30'], { reject: false });
    try {
      await vi.waitFor(
        async () => {
          if (!(await listKeepalivedProcesses()).some((p) => p.pid === child.pid)) throw new Error('the copy named keepalived is not running yet');
        },
        { timeout: 10_000, interval: 50 },
      );
      const recs = await runRound([{ id: recordId('keepalived-processes'), kind: 'internal', run: async () => '' }]);
      expect(recs['keepalived-processes']!.status).toBe('ok');
      const viaSh = (JSON.parse(recs['keepalived-processes']!.stdout) as KeepalivedProcess[]).find((p) => p.pid === child.pid);
      const direct = (await listKeepalivedProcesses()).find((p) => p.pid === child.pid);
      expect(viaSh).toBeDefined();
      const { comm: _comm, ...same } = direct!;
      expect(viaSh).toEqual(same);
      expect(viaSh).toMatchObject({ ours: true, exe: fake, exeUnsafeDir: dir, verified: false, uid: 0 });
      expect(viaSh!.notVerified).toMatch(/not root-owned or is writable by others/);
    } finally {
      child.kill('SIGKILL');
      await child;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("tells whether /proc shows pid 1 (hidepid hides root's processes from others)", async () => {
    const recs = await runRound([{ id: recordId('proc-pid1-visible'), kind: 'internal', run: async () => '' }]);
    expect(recs['proc-pid1-visible']).toMatchObject({ status: 'ok', stdout: 'yes' });
  });
});

describe('hostile peer output', () => {
  it('takes only well-formed status lines, and the bytes only when the sizes add up', () => {
    const data = Buffer.from('realerrslow').toString('base64');
    const sizes = ['/t/0.o 4', '/t/0.e 3', '/t/3.o 0', '/t/3.e 4'];
    const text = (b64: string, z = sizes) =>
      ['motd junk', '@@HAGW-S', '0 ok 0', '0 ok 9', '2 pwned 0', 'x y z', '3 timeout -', '@@HAGW-Z', ...z, '@@HAGW-D', b64, ''].join('\n');
    const frames = parseBundle(text(data));
    expect([...frames.keys()].sort()).toEqual([0, 3]);
    expect(frames.get(0)).toMatchObject({ status: 'ok', exitCode: 0, stdout: 'real', stderr: 'err' });
    expect(frames.get(3)).toMatchObject({ status: 'timeout', exitCode: null, stdout: '', stderr: 'slow' });
    // sizes that claim more (or fewer) bytes than sent: nothing is trusted
    expect(parseBundle(text(data, ['/t/0.o 40', '/t/0.e 3'])).size).toBe(0);
    expect(parseBundle(text('not base64 !!')).size).toBe(0);
    expect(parseBundle('no sections at all').size).toBe(0);
  });

  it('a probe with no frame is an error, never ok', () => {
    const round = buildRound([{ id: recordId('x'), kind: 'file', path: '/etc/hostname' }], {}, { root: true, timeout: true });
    expect(round.decode('nothing useful', 5)[0]).toMatchObject({ status: 'error', reason: 'the peer returned no result for this probe' });
  });

  it("keepalived process lines: malformed ones dropped, ours by the shell's netns, nothing verified without its binary's facts", () => {
    const b = (t: string) => Buffer.from(t).toString('base64');
    const stat = (pid: number, ppid: number) => b(`${pid} (keepalived) S ${ppid} ${pid} ${pid} 0 -1 4194624 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0`);
    const status = b('Name:\tkeepalived\nUid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n');
    const argv = b('keepalived\0-n\0-f\0/etc/k.conf\0');
    const json = JSON.parse(
      decodeProcesses(
        [
          'N net:[1]',
          'B 1000',
          // ours, but the binary could not be read: unverifiable, never the daemon
          `p 10 ${stat(10, 1)} ${status} ${argv} net:[1] - - - - -`,
          // another namespace's: its binary is not examined
          `p 11 ${stat(11, 10)} - - net:[2] - - - - -`,
          'x y z',
          `p 12 ${stat(12, 1)} ${status} $(evil) net:[1] - - - - -`,
        ].join('\n'),
      ),
    ) as KeepalivedProcess[];
    expect(json.map((p) => [p.pid, p.ppid, p.ours, p.verified])).toEqual([
      [10, 1, true, false],
      [11, 10, false, false],
    ]);
    expect(json[0]).toMatchObject({
      argv: ['keepalived', '-n', '-f', '/etc/k.conf'],
      uid: 0,
      euid: 0,
      state: 'S',
      unverifiable: true,
      startedAt: new Date(1000_000 + 5000).toISOString(),
    });
    expect(json[1]!.notVerified).toMatch(/another network namespace/);
  });

  it('a verified pair of processes from the peer: root-owned binary, safe directories, a VRRP socket', () => {
    const b = (t: string) => Buffer.from(t).toString('base64');
    const stat = (pid: number, ppid: number) => b(`${pid} (keepalived) S ${ppid} 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0`);
    const status = b('Uid:\t0\t0\t0\t0\n');
    const raw = b('   5: 00000000:0070 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0 0 0\n');
    const line = (pid: number, ppid: number, sockets: string) =>
      `p ${pid} ${stat(pid, ppid)} ${status} ${b('keepalived\0-D\0')} net:[1] ${b('/usr/sbin/keepalived')} 0:81ed:2049:77 . ${sockets} ${raw}`;
    const json = JSON.parse(decodeProcesses(['N net:[1]', line(10, 1, '.,7'), line(11, 10, '.,4242')].join('\n'))) as KeepalivedProcess[];
    expect(json.map((p) => [p.pid, p.verified, p.daemon])).toEqual([
      [10, true, 'parent'],
      [11, true, 'vrrp'],
    ]);
  });

  it('the hello: key=value only, a doctor path only when plain and absolute', () => {
    expect(parseHello('uid=0\nbase64=yes\ntimeout=yes\ndoctor=/usr/bin/hagw-doctor\ndoctor-version=0.2.0\n')).toEqual({
      uid: 0,
      sudo: false,
      doctorPath: '/usr/bin/hagw-doctor',
      doctorVersion: '0.2.0',
      timeout: true,
      base64: true,
    });
    const bad = parseHello('motd junk\nuid=abc\ndoctor=/tmp/x;rm -rf /\ndoctor-version=\x1b[31m1\n');
    expect(bad.uid).toBe(-1);
    expect(bad.doctorPath).toBeUndefined();
    expect(bad.doctorVersion).toBeUndefined();
  });
});

describe("ssh failures in the operator's words", () => {
  it('names each failure with one line', () => {
    expect(describeSshFailure('gw2', 'ssh: connect to host 10.0.0.2 port 22: Connection refused', false)).toBe(
      'gw2 refused the SSH connection (is sshd running there?)',
    );
    expect(describeSshFailure('gw2', '@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n', false)).toMatch(
      /^the host key of gw2 has changed/,
    );
    expect(describeSshFailure('gw2', 'Connection timed out during banner exchange', false)).toMatch(/^gw2 did not answer/);
    expect(describeSshFailure('gw2', 'root@gw2: Permission denied (publickey).', false)).toMatch(/refused the login/);
    expect(describeSshFailure('gw2', '', true)).toMatch(/did not answer in time/);
    expect(cleanLine('a\x1b[31mred\x07\nnext')).toBe('a[31mred next');
  });

  it.each(['gw2', 'root@192.168.100.3', 'ops@gw-2.example.net', '[fe80::1]', 'fe80::1'])('a peer host is [USER@]HOST: %j is one', (host) => {
    expect(validPeerHost(host)).toBe(true);
  });

  it.each(['-oProxyCommand=x', 'a b', 'gw2;id', '$(id)', '', 'a@-b'])('a peer host is never an option or shell text: %j is refused', (host) => {
    expect(validPeerHost(host)).toBe(false);
  });
});
