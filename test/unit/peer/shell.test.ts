// The kept peer shell (src/peer/ssh.ts PeerShell) driven over a real local `sh -s`: scripts one
// after another on one shell, each answer framed by its own nonce; a script's exit, cd or trap
// stays in its subshell; an answer past its cap, a hung script or a shell that ended leaves the
// shell unusable, never a half-read answer taken for a whole one; sudo -n once, for every later script.
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PeerShell } from '../../../src/peer/ssh.js';

const shells: PeerShell[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of shells.splice(0)) s.abort();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function localShell(env: Record<string, string> = {}): PeerShell {
  const child = execa('sh', ['-s'], { reject: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false, env, extendEnv: true });
  const shell = new PeerShell(child);
  shells.push(shell);
  return shell;
}

const quick = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };

describe('the kept peer shell', () => {
  it('answers script after script on one shell, each exactly, with its own status; exit, cd and variables stay in the script', async () => {
    const sh = localShell();
    const a = await sh.exchange('echo $$ > /dev/null; printf "no newline at the end"; cd /; X=1; trap "echo trapped" EXIT; exit 3', quick);
    expect(a).toMatchObject({ ok: false, exitCode: 3, stdout: 'no newline at the endtrapped\n', timedOut: false, overflow: false });
    const b = await sh.exchange('printf "%s|" "$X" "$(pwd)"; printf "\\n\\n"', quick);
    expect(b).toMatchObject({ ok: true, exitCode: 0, stdout: `|${process.cwd()}|\n\n` });
    // an end line of another exchange (a hostile peer, or a probe's output) does not end this one
    const c = await sh.exchange("printf '\\n@@HAGW-END-0123456789abcdef01234567 0\\n'; printf 'after'", quick);
    expect(c).toMatchObject({ ok: true, stdout: '\n@@HAGW-END-0123456789abcdef01234567 0\nafter' });
    // a big answer arrives whole, in many chunks
    const d = await sh.exchange('head -c 3000000 /dev/zero | tr "\\0" x', { timeoutMs: 10_000, maxBytes: 4_000_000 });
    expect(d.stdout).toBe('x'.repeat(3_000_000));
    expect(sh.alive).toBe(true);
  });

  it('an answer past its cap is cut off and the shell is not used again', async () => {
    const sh = localShell();
    const r = await sh.exchange('head -c 100000 /dev/zero | tr "\\0" x', { timeoutMs: 10_000, maxBytes: 1000 });
    expect(r).toMatchObject({ ok: false, overflow: true, stdout: '' });
    expect(sh.alive).toBe(false);
    expect(await sh.exchange('echo again', quick)).toMatchObject({ ok: false, stdout: '' });
  });

  it('a hostile peer that begins the end line and never ends it is cut off at the cap', async () => {
    // not a sh: it reads this exchange's nonce from the script and streams bytes after the end line
    const fake = `process.stdin.on('data', (d) => { const m = /@@HAGW-END-[0-9a-f]+ /.exec(String(d)); if (m) { process.stdout.write('\\n' + m[0]); setInterval(() => process.stdout.write('7'.repeat(65536)), 1); } });`;
    const child = execa(process.execPath, ['-e', fake], { reject: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false });
    const sh = new PeerShell(child);
    shells.push(sh);
    const r = await sh.exchange('true', { timeoutMs: 20_000, maxBytes: 256 * 1024 });
    expect(r).toMatchObject({ ok: false, overflow: true, timedOut: false, stdout: '' });
    expect(sh.alive).toBe(false);
  });

  it('a script that hangs times out, and the shell is ended', async () => {
    const sh = localShell();
    const started = Date.now();
    const r = await sh.exchange('echo partial; sleep 30', { timeoutMs: 500, maxBytes: 4096 });
    expect(r).toMatchObject({ ok: false, timedOut: true });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sh.alive).toBe(false);
  });

  it('a shell that ends while answering gives no answer, and is not used again', async () => {
    const sh = localShell();
    // $$ in the script's subshell is the kept shell itself
    const r = await sh.exchange('echo half; kill -9 $$', quick);
    expect(r).toMatchObject({ ok: false, exitCode: undefined, timedOut: false });
    expect(sh.alive).toBe(false);
    expect(await sh.exchange('echo again', quick)).toMatchObject({ ok: false, stdout: '' });
  });

  it.each([
    ['a sudo that lets the user in: every later script runs in the shell sudo started', 'shift; exec "$@"', true],
    ['a sudo that refuses: the shell is gone, the caller falls back to one shell per round', 'echo "sudo: a password is required" >&2; exit 1', false],
  ])('sudo -n once: %s', async (_what, body, works) => {
    const bin = await mkdtemp(path.join(tmpdir(), 'hagw-shell-'));
    dirs.push(bin);
    // a stand-in sudo that records how it was called; the real one needs a user and a sudoers
    await writeFile(path.join(bin, 'sudo'), `#!/bin/sh\necho "$*" > ${JSON.stringify(path.join(bin, 'called'))}\n${body}\n`);
    await chmod(path.join(bin, 'sudo'), 0o755);
    const sh = localShell({ PATH: `${bin}:${process.env.PATH}` });
    expect((await sh.exchange('echo first', quick)).stdout).toBe('first\n');
    expect(await sh.elevate(10_000)).toBe(works);
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(path.join(bin, 'called'), 'utf8')).trim()).toMatch(/^-n sh -c /);
    if (works) {
      expect(sh.alive).toBe(true);
      expect(await sh.exchange('echo "in $0 after sudo"', quick)).toMatchObject({ ok: true, stdout: 'in sh after sudo\n' });
    } else {
      await expect.poll(() => sh.alive).toBe(false);
    }
  });
});
