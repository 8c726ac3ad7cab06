// The offline install on real gateways (issue 17): the single executable in a lab gateway where no
// Node.js exists, and the Ansible playbook run from the lab's client over real sshd on both
// gateways. Needs `npm run release` first (npm test and .ci/run build it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pty from 'node-pty';
import { createLab, requireRoot, type Lab } from './harness.js';
import { startLabSsh, type LabSsh } from './sshd.js';
import { EXE, REPO, requireRelease } from '../release/artifacts.js';
import type { Report } from '../../src/types.js';

let lab: Lab | undefined;
let ssh: LabSsh;

beforeAll(async () => {
  requireRoot();
  requireRelease();
  lab = await createLab();
  ssh = await startLabSsh(lab);
});
afterAll(async () => {
  await lab?.destroy();
});

/** Every directory that holds a `node` on this host: each is overlaid with a whiteout for it. */
function nodeDirs(): string[] {
  const out = execFileSync('sh', ['-c', 'which -a node nodejs || true'], { encoding: 'utf8' });
  return [
    ...new Set(
      out
        .split('\n')
        .filter(Boolean)
        .map((p) => path.dirname(p)),
    ),
  ];
}

/** A sh script that hides every `node` (overlayfs whiteouts on a private tmpfs, in a mount
 *  namespace of its own), checks that none is left, then execs the command. */
function withoutNode(scratch: string, argv: string[]): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = ['set -e', `mount -t tmpfs tmpfs ${q(scratch)}`];
  nodeDirs().forEach((dir, i) => {
    const up = `${scratch}/u${i}`;
    const work = `${scratch}/w${i}`;
    lines.push(`mkdir ${q(up)} ${q(work)}`);
    for (const name of ['node', 'nodejs']) lines.push(`mknod ${q(`${up}/${name}`)} c 0 0`);
    lines.push(`mount -t overlay overlay -o ${q(`lowerdir=${dir},upperdir=${up},workdir=${work}`)} ${q(dir)}`);
  });
  lines.push('if command -v node || command -v nodejs || [ -e /usr/bin/node ]; then echo "node is still here" >&2; exit 99; fi');
  lines.push(`exec ${argv.map(q).join(' ')}`);
  return lines.join('\n');
}

describe('the single executable on a gateway without Node.js', () => {
  it('runs check --json in gw1 (MASTER) and gw2 (BACKUP) with no node on the system', async () => {
    expect(nodeDirs().length).toBeGreaterThan(0);
    for (const [node, role] of [
      ['gw1', 'master'],
      ['gw2', 'backup'],
    ] as const) {
      const scratch = path.join(lab!.runDir, `nonode-${node}`);
      mkdirSync(scratch, { recursive: true });
      const r = await lab!.exec(node, ['unshare', '-m', '--propagation', 'private', 'sh', '-c', withoutNode(scratch, [EXE, 'check', '--json'])], {
        timeoutMs: 60_000,
      });
      expect([0, 1, 2], r.stderr).toContain(r.exitCode);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.schema).toBe('hagw-doctor.report/v1');
      expect(report.role).toBe(role);
      expect(report.host.netns).toContain(lab!.nodes[node]);
      expect(report.checks.length).toBeGreaterThan(20);
    }
    // the proof that the hiding works: the same script with node asked for fails to find it
    const scratch = path.join(lab!.runDir, 'nonode-proof');
    mkdirSync(scratch, { recursive: true });
    const r = await lab!.exec('gw1', ['unshare', '-m', '--propagation', 'private', 'sh', '-c', withoutNode(scratch, ['node', '-e', '0'])]);
    expect(r.exitCode).toBe(127);
  });

  it("draws the app's first frame there (a real terminal, no node)", async () => {
    const scratch = path.join(lab!.runDir, 'nonode-app');
    mkdirSync(scratch, { recursive: true });
    const p = pty.spawn('ip', ['netns', 'exec', lab!.nodes.gw1, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', withoutNode(scratch, [EXE])], {
      name: 'xterm-256color',
      cols: 80,
      rows: 24,
      cwd: lab!.runDir,
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        TERM: 'xterm-256color',
        LANG: 'C.UTF-8',
        NO_COLOR: '1',
        HAGW_DOCTOR_STATE_DIR: path.join(lab!.runDir, 'app-state'),
        HAGW_DOCTOR_LOCK: path.join(lab!.runDir, 'app.lock'),
        HAGW_DOCTOR_LOG: path.join(lab!.runDir, 'app.log'),
      },
    });
    let out = '';
    let exit: number | undefined;
    p.onData((d) => (out += d));
    p.onExit(({ exitCode }) => (exit = exitCode));
    try {
      await lab!.waitFor(() => out.includes('What do you want to do?') || exit !== undefined, { what: 'the first frame', timeoutMs: 60_000 });
      expect(out, out.slice(-500)).toContain('What do you want to do?');
      p.write('q');
      await lab!.waitFor(() => exit !== undefined, { what: 'the app to quit', timeoutMs: 20_000 });
    } finally {
      if (exit === undefined) p.kill();
    }
  });
});

describe('the Ansible playbook over real sshd', () => {
  it('collects both reports and a fleet summary from the client namespace, and leaves nothing on the gateways', async () => {
    // a real fault on the master, so the worst finding per node means something
    await lab!.scenario('ip-forward-off', 'gw1');
    const dir = path.join(lab!.runDir, 'ansible');
    const reports = path.join(dir, 'reports');
    const remote = (n: string) => path.join(dir, `remote-${n}`);
    mkdirSync(path.join(dir, 'home'), { recursive: true });
    const inventory = path.join(dir, 'inventory.ini');
    writeFileSync(
      inventory,
      [
        '[gateways]',
        `gw1 ansible_host=${ssh.host('gw1')} hagw_doctor_remote_dir=${remote('gw1')}`,
        `gw2 ansible_host=${ssh.host('gw2')} hagw_doctor_remote_dir=${remote('gw2')}`,
        '[all:vars]',
        'ansible_user=root',
        `ansible_ssh_common_args='-F ${ssh.configPath}'`,
        'ansible_python_interpreter=/usr/bin/python3',
        '',
      ].join('\n'),
    );
    const env = {
      // Ansible insists on a UTF-8 locale
      LC_ALL: 'C.UTF-8',
      LANG: 'C.UTF-8',
      HOME: path.join(dir, 'home'),
      ANSIBLE_CONFIG: path.join(dir, 'none.cfg'),
      ANSIBLE_LOCAL_TEMP: path.join(dir, 'local-tmp'),
      ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(dir, 'cp'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    };
    const r = await lab!.exec(
      'client',
      [
        'ansible-playbook',
        '-i',
        inventory,
        path.join(REPO, 'deploy/ansible/hagw-doctor.yml'),
        '-e',
        `hagw_doctor_binary=${EXE}`,
        '-e',
        `report_dir=${reports}`,
      ],
      { timeoutMs: 600_000, env },
    );
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);

    const gw1 = JSON.parse(readFileSync(path.join(reports, 'gw1.json'), 'utf8')) as Report;
    const gw2 = JSON.parse(readFileSync(path.join(reports, 'gw2.json'), 'utf8')) as Report;
    // each report comes from its own gateway's network namespace (same inode)
    for (const [node, report] of [
      ['gw1', gw1],
      ['gw2', gw2],
    ] as const) {
      const ns = (await lab!.execOk(node, ['readlink', '/proc/self/ns/net'])).stdout.trim();
      expect(report.host.netns).toContain(ns);
    }
    expect(gw1.role).toBe('master');
    expect(gw2.role).toBe('backup');
    expect(gw1.findings.map((f) => f.code)).toContain('ip-forward-off');
    expect(gw1.instances.map((i) => i.vrid)).toEqual(gw2.instances.map((i) => i.vrid));

    const summary = readFileSync(path.join(reports, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('2 of 2 nodes reported');
    // each pair: its VRID, both nodes with their state, and a verdict
    for (const inst of gw1.instances) {
      const row = summary.split('\n').find((l) => l.startsWith(`| ${inst.vrid} |`));
      expect(row, summary).toBeDefined();
      expect(row).toMatch(/gw1 \(MASTER, \d\/\d\), gw2 \(BACKUP, 0\/\d\) \| ok \|$/);
    }
    expect(summary).toMatch(/^\| gw1 \| master \| CRITICAL \| .* \| CRITICAL `ip-forward-off`: /m);
    expect(summary).toMatch(/^\| gw2 \| backup \| /m);
    // read-only apart from the copied file, which is gone again
    expect(existsSync(remote('gw1'))).toBe(false);
    expect(existsSync(remote('gw2'))).toBe(false);
  });
});
