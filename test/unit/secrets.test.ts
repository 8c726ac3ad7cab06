// Secrets stay secret: no report shows auth_pass; snapshots are redacted by default and written
// 0600 through an exclusive, no-follow temporary file; pair checks still tell "auth differs".
import { describe, expect, it } from 'vitest';
import { lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyse } from '../../src/pipeline.js';
import { renderJson, renderJunit } from '../../src/report/formats.js';
import { renderText } from '../../src/report/text.js';
import { authFingerprint, configSecrets, redactSnapshot, redactedToken, sameAuthPass } from '../../src/secrets.js';
import { writeSnapshot, parseSnapshot } from '../../src/snapshot-file.js';
import { wireArgv, wireProbeId } from '../../src/probes/vrrp.js';
import { cmd, file, makeSnapshot } from '../support/snapshot.js';

const CONF = '/etc/keepalived/keepalived.conf';
const SECRET = 'Hunter2Secret';
const conf = (pass: string, prio = 150) =>
  `global_defs {\n  router_id gw\n}\nvrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  priority ${prio}\n  advert_int 1\n  authentication {\n    auth_type PASS\n    auth_pass ${pass}\n  }\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n`;
const tcpdump = (pass: string) =>
  `tcpdump: listening on eth0\n02:44:14.903420 5e:18:b8:36:5b:73 > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 58: (tos 0xc0, ttl 255, id 8, offset 0, flags [none], proto VRRP (112), length 44)\n    10.0.0.3 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 100, authtype simple, intvl 1s, length 24, addrs: 10.0.0.1 auth "${pass.slice(0, 8)}"\n`;

function hostSnapshot(pass = SECRET, peerPass?: string) {
  return makeSnapshot(
    [
      file(`kconf:${CONF}`, CONF, conf(pass)),
      cmd(
        'keepalived-configtest',
        ['keepalived', '-t', '-f', CONF],
        '',
        5,
        `(${CONF}: Line 12) Truncating auth_pass to 8 characters\n(${CONF}: Line 12) Block authentication has extra parameters ${pass} ...\n`,
      ),
      cmd(wireProbeId('eth0'), wireArgv('eth0', 3), tcpdump(pass), 124),
      ...(peerPass !== undefined ? [file('peer-config', '/tmp/peer.conf', conf(peerPass, 100))] : []),
    ],
    {},
    { config: CONF, ...(peerPass !== undefined ? { peerConfig: '/tmp/peer.conf' } : {}), wire: true },
  );
}

describe('reports never show auth_pass', () => {
  it('text, JSON and JUnit of a host with a long auth_pass carry neither it nor its first 8 characters', () => {
    const report = analyse(hostSnapshot(SECRET, 'Other999'));
    const views = [renderText(report, { color: false }), renderJson(report), renderJunit(report)];
    expect(report.findings.map((f) => f.code)).toContain('vrrp-auth-mismatch');
    expect(report.findings.some((f) => /truncated to 8/.test(f.title))).toBe(true);
    for (const v of views) {
      expect(v).not.toContain(SECRET);
      expect(v).not.toContain(SECRET.slice(0, 8));
      expect(v).not.toContain('Other999');
    }
    // what keepalived -t quoted is still shown, the secret hidden
    expect(renderJson(report)).toContain('extra parameters (auth_pass hidden)');
  });
});

describe('redacted snapshots', () => {
  it('replace auth_pass in configs, keepalived -t output and captures by a token; keep everything else', () => {
    const snap = hostSnapshot(SECRET);
    const red = redactSnapshot(snap);
    const text = JSON.stringify(red);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SECRET.slice(0, 8));
    expect(red.options.secrets).toBe('redacted');
    expect(red.probes[`kconf:${CONF}`]!.stdout).toContain(`auth_pass ${redactedToken(SECRET)}`);
    expect(redactedToken(SECRET)).toMatch(/^REDACTED:13:[0-9a-f]{24}$/);
    // the rest of the config is untouched
    expect(red.probes[`kconf:${CONF}`]!.stdout.replace(redactedToken(SECRET), SECRET)).toBe(snap.probes[`kconf:${CONF}`]!.stdout);
    // the original is not modified
    expect(JSON.stringify(snap)).toContain(SECRET);
  });

  it('redact macros, quoted values and an embedded peer snapshot', () => {
    expect(configSecrets('$PW=macropass1\nauth_pass $PW\nauth_pass "quoted pw"\n').sort()).toEqual(['macropass1', 'quoted pw']);
    const peer = redactSnapshot(makeSnapshot([file(`kconf:${CONF}`, CONF, `$PW=macropass1\n${conf('$PW')}`)]));
    expect(JSON.stringify(peer)).not.toContain('macropass1');
    const outer = redactSnapshot(
      makeSnapshot([
        file(`kconf:${CONF}`, CONF, conf('outerpw1')),
        file('peer-snapshot', '/tmp/p.json', JSON.stringify(makeSnapshot([file(`kconf:${CONF}`, CONF, conf('innerpw1'))]))),
      ]),
    );
    expect(JSON.stringify(outer)).not.toMatch(/outerpw1|innerpw1/);
  });

  it('still tell the pair "auth differs" and "same" (keepalived compares 8 characters), and "truncated to 8"', () => {
    const differs = analyse(redactSnapshot(hostSnapshot(SECRET, 'Other999')));
    expect(differs.findings.filter((f) => f.code === 'vrrp-auth-mismatch').length).toBeGreaterThan(0);
    const same = analyse(redactSnapshot(hostSnapshot(SECRET, `${SECRET.slice(0, 8)}-different-tail`)));
    expect(same.findings.map((f) => f.code)).not.toContain('vrrp-auth-mismatch');
    expect(same.findings.some((f) => f.title === '(VI_1) auth_pass is longer than 8 characters and is truncated to 8')).toBe(true);
    expect(sameAuthPass(redactedToken('abcdefgh1'), 'abcdefgh2')).toBe(true);
    expect(sameAuthPass(redactedToken('abcdefgh'), redactedToken('abcdefgX'))).toBe(false);
    expect(authFingerprint('abcdefgh-x')).toBe(authFingerprint('abcdefgh-y'));
  });
});

describe('writeSnapshot', () => {
  it('writes 0600 through a fresh temporary file, never following a planted symlink, and leaves no temp file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-snap-'));
    try {
      const target = path.join(dir, 'snap.json');
      const victim = path.join(dir, 'victim');
      await writeFile(victim, 'untouched');
      // the old predictable name, planted as a symlink by "another user"
      await symlink(victim, `${target}.tmp-${process.pid}`);
      const old = process.umask(0);
      try {
        await writeSnapshot(target, redactSnapshot(hostSnapshot()));
      } finally {
        process.umask(old);
      }
      expect((await lstat(target)).mode & 0o777).toBe(0o600);
      expect(await readFile(victim, 'utf8')).toBe('untouched');
      expect(parseSnapshot(await readFile(target, 'utf8'), target).options.secrets).toBe('redacted');
      expect((await readdir(dir)).sort()).toEqual(['snap.json', 'snap.json.tmp-' + process.pid, 'victim'].sort());
      // a target that is a symlink is replaced, not written through
      const link = path.join(dir, 'link.json');
      await symlink(victim, link);
      await writeSnapshot(link, redactSnapshot(hostSnapshot()));
      expect((await lstat(link)).isSymbolicLink()).toBe(false);
      expect(await readFile(victim, 'utf8')).toBe('untouched');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('readSnapshot', () => {
  it('refuses a FIFO given as a snapshot instead of blocking on it', async () => {
    const { readSnapshot } = await import('../../src/snapshot-file.js');
    const { execFileSync } = await import('node:child_process');
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-snapfifo-'));
    try {
      const fifo = path.join(dir, 'snap.json');
      execFileSync('mkfifo', [fifo]);
      await expect(readSnapshot(fifo)).rejects.toThrow(`cannot read snapshot ${fifo}: not a regular file`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
