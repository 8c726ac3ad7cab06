// The offline install artefacts (issue 17), built by `npm run release` (npm test and .ci/run build
// them first): the npm package installs without a compiler, the .deb unpacks to a working
// executable, SHA256SUMS matches, and the Prometheus side passes promtool on a real textfile.
import { describe, expect, it, beforeAll } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEB, EXE, RELEASE_DIR, REPO, VERSION, requireRelease } from './artifacts.js';

beforeAll(() => requireRelease());

async function scratch(name: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `hagw-${name}-`));
}

describe('npm pack', () => {
  it('installs globally with no C/C++ compiler and runs check and the demo', async () => {
    const dir = await scratch('pack');
    try {
      const pack = await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO });
      const tarball = path.join(dir, pack.stdout.trim().split('\n').at(-1)!);
      // a PATH with node and npm's own tools but no cc, gcc, g++, c++, make or python
      const bin = path.join(dir, 'bin');
      await mkdir(bin);
      for (const tool of ['node', 'sh', 'env']) {
        const where = (await execa('sh', ['-c', `command -v ${tool}`])).stdout.trim();
        await symlink(where, path.join(bin, tool));
      }
      const npmCli = path.join(path.dirname(path.dirname(await realNpm())), 'bin', 'npm-cli.js');
      const env: Record<string, string | undefined> = { ...process.env, PATH: bin, CC: 'false', CXX: 'false', npm_config_build_from_source: undefined, npm_config_prefix: undefined };
      const prefix = path.join(dir, 'prefix');
      const install = await execa(process.execPath, [npmCli, 'install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { env, extendEnv: false, reject: false, timeout: 300_000 });
      expect(install.exitCode, `${install.stdout}\n${install.stderr}`).toBe(0);
      // nothing was compiled: no native build output anywhere in the installed tree
      const built = await execa('find', [prefix, '-name', '*.node', '-o', '-name', 'binding.gyp', '-o', '-type', 'd', '-name', 'build', '-path', '*/Release*']);
      expect(built.stdout).toBe('');
      expect(existsSync(path.join(prefix, 'lib/node_modules/hagw-doctor/node_modules/node-pty'))).toBe(false);

      const doctor = path.join(prefix, 'bin', 'hagw-doctor');
      const run = (args: string[]) => execa(doctor, args, { env: { ...env, NO_COLOR: '1' }, extendEnv: false, reject: false });
      expect((await run(['--version'])).stdout.trim()).toBe(VERSION);
      const check = await run(['check', '--json']);
      expect([0, 1, 2, 3], check.stderr).toContain(check.exitCode);
      expect(JSON.parse(check.stdout).schema).toBe('hagw-doctor.report/v1');
      const demo = await run(['demo', 'ip-forward-off', '--json']);
      expect(demo.exitCode).toBe(2);
      expect(JSON.parse(demo.stdout).findings.map((f: { code: string }) => f.code)).toContain('ip-forward-off');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function realNpm(): Promise<string> {
  // npm's own entry point (bin/npm-cli.js) from the npm on the PATH
  const which = (await execa('sh', ['-c', 'readlink -f "$(command -v npm)"'])).stdout.trim();
  return which;
}

describe('the release files', () => {
  it('SHA256SUMS covers the executable and the .deb and matches them', async () => {
    const sums = await readFile(path.join(RELEASE_DIR, 'SHA256SUMS'), 'utf8');
    expect(sums.trim().split('\n').map((l) => l.split(/\s+/)[1]).sort()).toEqual([path.basename(DEB), path.basename(EXE)].sort());
    const r = await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: RELEASE_DIR });
    expect(r.stdout).toMatch(/: OK\n.*: OK$/);
  });

  it('the executable carries the doctor, its version and the demo', async () => {
    const st = await stat(EXE);
    expect(st.mode & 0o111).not.toBe(0);
    expect((await execa(EXE, ['--version'])).stdout.trim()).toBe(VERSION);
    const demo = await execa(EXE, ['demo', 'stale-conntrack', '--json'], { reject: false });
    expect(demo.exitCode).toBe(2);
    expect(JSON.parse(demo.stdout).source).toBe('demo:stale-conntrack');
    const bad = await execa(EXE, ['check', '--from', '/nonexistent.json'], { reject: false });
    expect(bad.exitCode).toBe(3);
    expect(bad.stderr).toMatch(/^hagw-doctor: /);
    expect(bad.stderr).not.toMatch(/data:text|base64|\n\s+at /);
  });

  it('the executable is its own rollback timer (fix --confirm-timeout starts it detached)', async () => {
    const dir = await scratch('timer');
    try {
      const env = { HAGW_DOCTOR_STATE_DIR: path.join(dir, 'state'), HAGW_DOCTOR_LOCK: path.join(dir, 'lock'), HAGW_DOCTOR_LOG: path.join(dir, 'log') };
      // a change that does not exist: the timer says so in the change log and exits 3
      const r = await execa(EXE, ['--hagw-doctor-rollback-timer', 'no-such-change', '10'], { env, reject: false });
      expect(r.exitCode).toBe(3);
      const log = (await readFile(path.join(dir, 'log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(log.at(-1)).toMatchObject({ id: 'no-such-change' });
      expect(JSON.stringify(log.at(-1))).toContain('timer-error');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the .deb declares what it runs and unpacks to a working /usr/bin/hagw-doctor', async () => {
    const info = (await execa('dpkg-deb', ['--field', DEB])).stdout;
    expect(info).toMatch(/^Package: hagw-doctor$/m);
    expect(info).toMatch(new RegExp(`^Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    expect(info).toMatch(/^Architecture: amd64$/m);
    const depends = /^Depends: (.*)$/m.exec(info)?.[1] ?? '';
    const recommends = /^Recommends: (.*)$/m.exec(info)?.[1] ?? '';
    const suggests = /^Suggests: (.*)$/m.exec(info)?.[1] ?? '';
    expect(depends).toContain('iproute2');
    for (const pkg of ['keepalived', 'iptables', 'conntrack', 'nftables', 'tcpdump', 'ethtool']) expect(recommends).toContain(pkg);
    expect(suggests).toContain('ipvsadm');
    const dir = await scratch('deb');
    try {
      await execa('dpkg-deb', ['-x', DEB, dir]);
      const exe = path.join(dir, 'usr/bin/hagw-doctor');
      expect(((await stat(exe)).mode & 0o777).toString(8)).toBe('755');
      expect((await execa(exe, ['--version'])).stdout.trim()).toBe(VERSION);
      const demo = await execa(exe, ['demo', '--json'], { reject: false });
      expect(JSON.parse(demo.stdout).schema).toBe('hagw-doctor.report/v1');
      expect((await readdir(path.join(dir, 'lib/systemd/system'))).sort()).toEqual(['hagw-doctor-textfile.service', 'hagw-doctor-textfile.timer']);
      const contents = (await execa('dpkg-deb', ['--contents', DEB])).stdout;
      expect(contents).toMatch(/root\/root .* \.\/usr\/bin\/hagw-doctor$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Prometheus', () => {
  const rules = path.join(REPO, 'deploy/prometheus/hagw-doctor.rules.yml');

  it('promtool check rules', async () => {
    const r = await execa('promtool', ['check', 'rules', rules], { reject: false });
    expect(r.exitCode, r.stderr || r.stdout).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: 5 rules found/);
  });

  it('promtool test rules (critical finding, split brain, VIP held by nobody, doctor not reporting, cannot judge)', async () => {
    const r = await execa('promtool', ['test', 'rules', path.join(REPO, 'deploy/prometheus/hagw-doctor.rules.test.yml')], { reject: false });
    expect(r.exitCode, r.stderr || r.stdout).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('promtool check metrics on a textfile the executable writes from a demo snapshot', async () => {
    const dir = await scratch('textfile');
    try {
      const file = path.join(dir, 'hagw-doctor.prom');
      const r = await execa(EXE, ['check', '--from', path.join(REPO, 'demo/ip-forward-off.json'), '--format', 'prometheus', '-o', file], { reject: false });
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toBe('');
      expect(((await stat(file)).mode & 0o777).toString(8)).toBe('644');
      expect(await readdir(dir)).toEqual(['hagw-doctor.prom']);
      const text = await readFile(file, 'utf8');
      const lint = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
      expect(lint.exitCode, lint.stdout + lint.stderr).toBe(0);
      expect(lint.stdout + lint.stderr).toBe('');
      expect(text).toMatch(/^hagw_doctor_finding\{node="[^"]+",netns="[^"]+",code="ip-forward-off",severity="critical"\} 1$/m);
      expect(text).toMatch(/^hagw_doctor_vip_held\{.*vrid="51".*vip="192\.168\.100\.1"\} 1$/m);
      expect(text).toMatch(/^hagw_doctor_last_run_timestamp_seconds\{node="[^"]+",netns="[^"]+"\} \d{10}$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
