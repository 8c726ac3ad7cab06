// Issue 11 (items 3, 6, 7, 8, 9), on real keepalived in network namespaces:
// - a healthy multicast gateway with a weighted track script, `track_interface` of its own
//   interface and the raw OUTPUT NOTRACK of the design documents: keepalived -t's messages are
//   graded by meaning, so its benign note is info and nothing above info is said of the config;
// - no report or default snapshot shows auth_pass; the snapshot file is 0600;
// - a hostname carrying ESC ]52 (clipboard write) and ESC [2J reaches neither check's stdout
//   nor the app raw, and JUnit stays valid XML;
// - probes that hang with a grandchild holding the pipe, a FIFO include, `include /proc/*` and a
//   FIFO notify script are held: the check ends in bounded time and says what it refused;
// - the wire view says "peer seen" only on the node that hears the other's adverts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pty from 'node-pty';
import { ADDR, createLab, REPO_ROOT, requireRoot, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';
import { keepalivedConf } from './keepalived-files.js';

requireRoot();

/** The lab's sync-grouped gateway, made multicast, with a weighted track script and track_interface of its own interface. */
function multicastConf(node: 'gw1' | 'gw2'): string {
  const text = keepalivedConf(node)
    .replace(/^ {4}check_unicast_src\n/gm, '')
    .replace(/^ {4}unicast_src_ip .*\n/gm, '')
    .replace(/^ {4}unicast_peer \{\n[^}]*\}\n/gm, '');
  const withTracking = text.replace(
    /(vrrp_instance VI_LAN \{\n)/,
    `$1    track_interface {\n        eth0\n    }\n    track_script {\n        chk_alive\n    }\n`,
  );
  // a sync group ignores its members' track weights unless told otherwise
  return withTracking
    .replace('vrrp_sync_group VG_GW {', 'vrrp_script chk_alive {\n    script "/bin/true"\n    interval 1\n    weight 10\n}\n\nvrrp_sync_group VG_GW {')
    .replace(
      '    notify_master /etc/keepalived/scripts/notify_master.sh',
      '    sync_group_tracking_weight\n    notify_master /etc/keepalived/scripts/notify_master.sh',
    );
}

const BIN = path.join(REPO_ROOT, 'bin', 'hagw-doctor');
const codesAbove = (r: Report, code: string) => r.findings.filter((f) => f.code === code && f.severity !== 'info');

let lab: Lab;
beforeAll(async () => {
  lab = await createLab({ hardened: true, keepalivedConf: (node) => multicastConf(node) });
}, 180_000);
afterAll(async () => {
  await lab?.destroy();
});

describe('a healthy multicast gateway with track_interface of its own interface', () => {
  it('is multicast, tracks a weighted script, NOTRACKs VRRP in raw OUTPUT', async () => {
    const conf = await lab.readEtc('gw1', 'keepalived/keepalived.conf');
    expect(conf).not.toContain('unicast_peer');
    expect(conf).toMatch(/track_interface \{\n\s+eth0\n/);
    expect(conf).toMatch(/weight 10/);
    expect(await lab.hasRule('gw1', 'raw', 'OUTPUT', ['-p', 'vrrp', '-j', 'CT', '--notrack'])).toBe(true);
  });

  for (const node of ['gw1', 'gw2'] as const) {
    it(`${node}: keepalived -t's note is graded info; nothing about the config above info`, async () => {
      const { report } = await lab.report<Report>(node);
      expect(codesAbove(report, 'keepalived-config-invalid').map((f) => `${f.severity}: ${f.title}`)).toEqual([]);
      const note = report.findings.find((f) => f.code === 'keepalived-config-invalid' && f.severity === 'info');
      expect(note?.evidence.map((e) => e.excerpt).join('\n')).toMatch(/keepalived\.conf:\d+: \(VI_LAN\) Ignoring track_interface eth0 since own interface/);
      expect(note?.evidence[0]!.excerpt).toMatch(/exit status 5; 1 info/);
    });
  }
});

describe('the wire view says whose adverts it saw (item 9)', () => {
  it('the MASTER sees only its own adverts (the BACKUP is silent); the BACKUP sees the peer', async () => {
    const [master, backup] = await Promise.all([
      lab.doctor('gw1', ['check', '--wire', '--wire-seconds', '3']),
      lab.doctor('gw2', ['check', '--wire', '--wire-seconds', '3']),
    ]);
    expect(master.stdout).toMatch(
      /^Wire \(\d+ VRRP adverts in 3 s, before the firewall\): only this node's own adverts seen in 3 s: no advert from another node$/m,
    );
    expect(master.stdout).not.toContain('peer seen');
    expect(backup.stdout).toMatch(
      new RegExp(
        `^Wire \\(\\d+ VRRP adverts in 3 s, before the firewall\\): peer seen: adverts from .*${ADDR.gw1.lan.replace(/\./g, '\\.')} \\(vrid ${ADDR.vridLan}\\)`,
        'm',
      ),
    );
  });
});

describe('secrets', () => {
  it('no view of check shows auth_pass', async () => {
    for (const args of [['check'], ['check', '--json'], ['check', '--format', 'junit']]) {
      const r = await lab.doctor('gw1', args);
      expect(r.stdout.length).toBeGreaterThan(100);
      expect(r.stdout).not.toMatch(/hagwlan|hagwwan/);
    }
  });

  it('snapshot -o is redacted by default, 0600, and --include-secrets keeps them', async () => {
    const out = path.join(lab.runDir, 'snap.json');
    const r = await lab.doctor('gw1', ['snapshot', '-o', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const text = readFileSync(out, 'utf8');
    expect(text).not.toMatch(/hagwlan|hagwwan/);
    expect(text).toMatch(/auth_pass REDACTED:7:[0-9a-f]{24}/);
    const full = path.join(lab.runDir, 'snap-full.json');
    expect((await lab.doctor('gw1', ['snapshot', '-o', full, '--include-secrets'])).exitCode).toBe(0);
    expect(readFileSync(full, 'utf8')).toContain('auth_pass hagwlan');
    // the redacted snapshot still judges the pair: gw2's real config against gw1's redacted one
    const gw2conf = lab.etcPath('gw2', 'keepalived/keepalived.conf');
    const pair = await lab.doctor('gw2', ['check', '--json', '--peer-snapshot', out]);
    expect((pair.json as Report).findings.map((f) => f.code)).not.toContain('vrrp-auth-mismatch');
    const other = path.join(lab.runDir, 'other.conf');
    writeFileSync(other, readFileSync(gw2conf, 'utf8').replace('auth_pass hagwlan', 'auth_pass changed1'));
    const bad = await lab.doctor('gw1', ['check', '--json', '--peer-config', other]);
    const mismatch = (bad.json as Report).findings.find((f) => f.code === 'vrrp-auth-mismatch');
    expect(mismatch?.title).toContain('authentication differs');
    expect(bad.stdout).not.toMatch(/hagwlan|changed1/);
  });
});

// printf %b turns these into ESC ]52;c;… BEL (a clipboard write) and ESC [2J (clear screen)
const HOSTILE = 'gw\\033]52;c;SEFHV0RPQ1RPUg==\\007\\033[2Jx';
const RAW_OSC = '\u001b]52;c;SEFHV0RPQ1RPUg==';
const unshareUts = (argv: string[]) => ['unshare', '--uts', 'sh', '-c', 'printf "%b" "$0" > /proc/sys/kernel/hostname && exec "$@"', HOSTILE, ...argv];

describe('a control-character hostname', () => {
  it('reaches check stdout only escaped; JSON keeps it; JUnit stays valid XML', async () => {
    const text = await lab.exec('gw1', unshareUts([process.execPath, BIN, 'check']), { env: { NO_COLOR: '1' } });
    expect(text.stdout).toContain('hagw-doctor: gw\\x1b]52;c;SEFHV0RPQ1RPUg==\\x07\\x1b[2Jx');
    expect(text.stdout).not.toContain('\u001b');
    const json = await lab.exec('gw1', unshareUts([process.execPath, BIN, 'check', '--json']));
    expect(JSON.parse(json.stdout).host.hostname).toBe('gw\u001b]52;c;SEFHV0RPQ1RPUg==\u0007\u001b[2Jx');
    expect(json.stdout).not.toContain('\u001b');
    const junit = await lab.exec('gw1', unshareUts([process.execPath, BIN, 'check', '--format', 'junit']));
    expect(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(junit.stdout)).toBe(false);
    expect(junit.stdout).toContain('name="hagw-doctor gw\\x1b]52;c;SEFHV0RPQ1RPUg==\\x07\\x1b[2Jx"');
  });

  it('reaches the app (a real terminal) only escaped', async () => {
    const p = pty.spawn('ip', ['netns', 'exec', lab.nodes.gw1, ...unshareUts([process.execPath, BIN])], {
      name: 'xterm-256color',
      cols: 120,
      rows: 30,
      cwd: lab.runDir,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', TERM: 'xterm-256color', LANG: 'C.UTF-8', NO_COLOR: '1' },
    });
    let raw = '';
    let exited = false;
    p.onData((d) => (raw += d));
    p.onExit(() => (exited = true));
    try {
      await lab.waitFor(() => raw.includes('gw\\x1b]52;c;SEFHV0RPQ1RPUg=='), { what: 'the app header with the escaped hostname', timeoutMs: 60_000 });
      expect(raw).not.toContain(RAW_OSC);
      expect(raw).not.toContain('\u0007');
    } finally {
      p.write('q');
      await lab.waitFor(() => exited, { what: 'the app to quit', timeoutMs: 10_000 }).catch(() => p.kill());
    }
    expect(raw).not.toContain(RAW_OSC);
  });
});

describe('hostile host: held in bounded time, saying what was refused', () => {
  it('probes that hang with a grandchild holding the pipe: the check ends, the groups are killed', async () => {
    const fake = path.join(lab.runDir, 'fakebin');
    const pids = path.join(lab.runDir, 'hung.pids');
    mkdirSync(fake, { recursive: true });
    writeFileSync(pids, '');
    // the direct child forks a grandchild that keeps stdout open, then hangs itself
    for (const name of [
      'iptables-save',
      'ip6tables-save',
      'iptables-legacy-save',
      'iptables-nft-save',
      'nft',
      'conntrack',
      'ipvsadm',
      'ethtool',
      'journalctl',
      'dmesg',
    ]) {
      writeFileSync(path.join(fake, name), `#!/bin/sh\nsleep 300 &\necho $! >> ${pids}\necho $$ >> ${pids}\nexec sleep 301\n`);
      chmodSync(path.join(fake, name), 0o755);
    }
    const t0 = Date.now();
    const r = await lab.report<Report>('gw1', [], { PATH: `${fake}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` });
    const seconds = (Date.now() - t0) / 1000;
    // every round waits at most the probe timeout (3 s; 5 s for the journal): a few rounds, not 300 s
    expect(seconds).toBeLessThan(30);
    // what could not be judged says why: a probe killed at its timeout, or not run once the budget was spent
    expect(JSON.stringify(r.report)).toMatch(/did not finish within \d+ ms \(its process group was killed\)|time budget was spent/);
    expect(r.report.checks.filter((c) => c.status === 'skip').length).toBeGreaterThan(5);
    const started = readFileSync(pids, 'utf8').trim().split('\n').filter(Boolean).map(Number);
    expect(started.length).toBeGreaterThan(2);
    const alive = started.filter((pid) => {
      try {
        const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });

  it('a FIFO include, include /proc/*, and a FIFO notify script: refused with the reason, keepalived -t not run on them', async () => {
    const dir = lab.etcPath('gw1', 'keepalived');
    execFileSync('mkfifo', [path.join(dir, 'fifo.conf'), path.join(dir, 'notify-fifo.sh')]);
    await lab.writeEtc(
      'gw1',
      'keepalived/hostile.conf',
      `include /etc/keepalived/fifo.conf\ninclude /proc/*\nvrrp_instance VI_H {\n    state BACKUP\n    interface eth0\n    virtual_router_id 77\n    priority 100\n    notify_master /etc/keepalived/notify-fifo.sh\n    virtual_ipaddress {\n        192.168.100.77/24\n    }\n}\n`,
    );
    const t0 = Date.now();
    const r = await lab.report<Report>('gw1', ['--config', '/etc/keepalived/hostile.conf']);
    expect((Date.now() - t0) / 1000).toBeLessThan(30);
    const said = JSON.stringify(r.report);
    expect(said).toContain('/etc/keepalived/fifo.conf is a FIFO: refused');
    expect(r.report.checks.find((c) => c.id === 'keepalived-config')).toMatchObject({
      status: 'skip',
      reason: expect.stringContaining('not run: the configuration includes /etc/keepalived/fifo.conf, which the doctor refused to read'),
    });
    const script = r.report.findings.find((f) => f.code === 'notify-script-invalid');
    expect(script?.title ?? '').toContain('/etc/keepalived/notify-fifo.sh');
    expect(JSON.stringify(script)).toContain('is not a regular file');
    // the FIFOs were never opened: nobody is blocked on them (a reader would be listed by fuser)
    expect(statSync(path.join(dir, 'fifo.conf')).isFIFO()).toBe(true);
  });
});
