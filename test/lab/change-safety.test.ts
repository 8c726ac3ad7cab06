// The change engine never makes a gateway worse (issue 12): races between consent and apply,
// undo next to rules added since, changes of the other node, hostile interface names, a doctor
// killed mid-step, a killed commit-confirmed timer, symlinked targets. Real iptables, nft,
// keepalived, the real CLI, in the lab's namespaces. Needs root and `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLab, REPO_ROOT, requireRoot, waitFor, type Lab, type LabNode } from './harness.js';
import { WIDE_SNAT_RULE } from './keepalived-files.js';

requireRoot();

const BIN = path.join(REPO_ROOT, 'bin', 'hagw-doctor');

interface Manifest {
  id: string;
  state: string;
  findings: string[];
  steps: Array<{ status: string; pid?: number }>;
  confirm?: { timerPid?: number; deadline: string };
  rollbacks: Array<{ reason: string; ok: boolean }>;
}

describe('the change engine under races, kills, other nodes and hostile input', () => {
  let lab: Lab;
  const helpers: ChildProcess[] = [];
  const running: ResultPromise[] = [];

  beforeAll(async () => {
    lab = await createLab();
  }, 120_000);
  afterAll(async () => {
    for (const h of helpers)
      if (h.pid && h.exitCode === null)
        try {
          process.kill(-h.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    for (const r of running) r.kill('SIGKILL');
    await lab?.destroy();
  });

  /** The state dir, lock and log lab.doctor() gives a node. */
  const stateOf = (node: LabNode) => path.join(lab.runDir, 'doctor', node);
  const lockOf = (node: LabNode) => path.join(stateOf(node), 'hagw-doctor.lock');
  async function manifests(node: LabNode, dir = path.join(stateOf(node), 'state', 'changes')): Promise<Manifest[]> {
    const ids = await readdir(dir).catch(() => [] as string[]);
    return Promise.all(
      ids
        .filter((i) => !i.startsWith('.'))
        .sort()
        .map(async (id) => JSON.parse(await readFile(path.join(dir, id, 'manifest.json'), 'utf8')) as Manifest),
    );
  }

  /** The doctor in the background (to pause it, or kill it), with lab.doctor()'s state paths. */
  function background(node: LabNode, args: string[], env: Record<string, string> = {}): ResultPromise {
    const d = stateOf(node);
    const p = execa('ip', ['netns', 'exec', lab.nodes[node], process.execPath, BIN, ...args], {
      reject: false,
      env: {
        LC_ALL: 'C',
        NO_COLOR: '1',
        HAGW_DOCTOR_STATE_DIR: path.join(d, 'state'),
        HAGW_DOCTOR_LOCK: path.join(d, 'hagw-doctor.lock'),
        HAGW_DOCTOR_LOG: path.join(d, 'hagw-doctor.log'),
        ...env,
      },
      all: true,
    });
    running.push(p);
    return p;
  }

  const save = async (node: LabNode, table: string) =>
    (await lab.execOk(node, ['iptables-save', '-t', table])).stdout.split('\n').filter((l) => l.startsWith('-A '));
  const forward = async (node: LabNode) => (await lab.exec(node, ['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim();
  const out = (r: { stdout?: unknown; stderr?: unknown }) => `${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`;

  it('a rule inserted between consent and apply survives, and the fix still does what it said', async () => {
    await lab.scenario('snat-catches-vrrp', 'gw1');
    const fixed = ['-s', WIDE_SNAT_RULE[1]!, '!', '-p', 'vrrp', ...WIDE_SNAT_RULE.slice(2)];
    const fixedLine = `-A POSTROUTING ${fixed.join(' ')}`;
    const fixedBefore = (await save('gw1', 'nat')).filter((l) => l === fixedLine).length;
    const pause = path.join(lab.runDir, 'pause-at-consent');
    const fix = background('gw1', ['fix', 'snat-matches-vrrp', '--yes'], { HAGW_DOCTOR_TEST_PAUSE_AT_CONSENT: pause });
    await waitFor(() => existsSync(`${pause}.waiting`), { what: 'the fix to pause at consent', timeoutMs: 60_000 });
    // meanwhile (a notify script, the operator): a new rule at the top of nat POSTROUTING
    const intruder = ['-s', '10.99.0.0/24', '-j', 'RETURN'];
    await lab.execOk('gw1', ['iptables', '-w', '-t', 'nat', '-I', 'POSTROUTING', '1', ...intruder]);
    await writeFile(pause, '');
    const r = await fix;
    expect(r.exitCode, out(r)).toBe(0);
    const after = await save('gw1', 'nat');
    expect(after[0]).toBe(`-A POSTROUTING ${intruder.join(' ')}`);
    expect(await lab.hasRule('gw1', 'nat', 'POSTROUTING', WIDE_SNAT_RULE)).toBe(false);
    expect(after.filter((l) => l === fixedLine).length).toBe(fixedBefore + 1);
    // the replacement took the wide rule's place, right below the intruder
    expect(after[1]).toBe(fixedLine);
    await lab.execOk('gw1', ['iptables', '-w', '-t', 'nat', '-D', 'POSTROUTING', ...intruder]);
  });

  it('undo on the other node is refused, and the change stays undoable where it was made', async () => {
    // both nodes share one state directory, as `ip netns exec` leaves /var/lib shared
    const shared = path.join(lab.runDir, 'shared');
    await mkdir(path.join(shared, 'state'), { recursive: true });
    const env = { HAGW_DOCTOR_STATE_DIR: path.join(shared, 'state'), HAGW_DOCTOR_LOCK: path.join(shared, 'lock'), HAGW_DOCTOR_LOG: path.join(shared, 'log') };
    await lab.scenario('ip-forward-off', 'gw1');
    const f = await lab.doctor('gw1', ['fix', 'ip-forward-off', '--yes'], env);
    expect(f.exitCode, out(f)).toBe(0);
    const [m] = await manifests('gw1', path.join(shared, 'state', 'changes'));
    expect(m?.state).toBe('confirmed');
    expect(await forward('gw2')).toBe('1');

    const latest = await lab.doctor('gw2', ['undo', '--yes'], env);
    expect(latest.exitCode).toBe(3);
    expect(latest.stderr).toContain('no applied change of this node');
    const named = await lab.doctor('gw2', ['undo', m!.id, '--yes'], env);
    expect(named.exitCode).toBe(3);
    expect(named.stderr).toContain(`change ${m!.id} was made on network namespace ${lab.nodes.gw1}`);
    expect(named.stderr).toContain(`ip netns exec ${lab.nodes.gw1} hagw-doctor undo ${m!.id}`);
    expect(await forward('gw2')).toBe('1');
    expect(await forward('gw1')).toBe('1');
    expect((await lab.doctor('gw2', ['confirm', '--yes'], env)).stderr).toContain('no change of this node');
    expect((await lab.doctor('gw2', ['changes'], env)).stdout).toContain('no changes of this node');
    const all = await lab.doctor('gw2', ['changes', '--all'], env);
    expect(all.stdout).toContain(m!.id);
    expect(all.stdout).toContain(`network namespace ${lab.nodes.gw1}`);
    expect((await manifests('gw1', path.join(shared, 'state', 'changes')))[0]?.state).toBe('confirmed');

    const empty = await lab.doctor('gw1', ['undo', '', '--yes'], env);
    expect(empty.exitCode).toBe(3);
    expect(empty.stderr).toContain('empty change id');
    expect(await forward('gw1')).toBe('1');

    const here = await lab.doctor('gw1', ['undo', m!.id, '--yes'], env);
    expect(here.exitCode, out(here)).toBe(0);
    expect(await forward('gw1')).toBe('0');
    expect(await forward('gw2')).toBe('1');
    expect((await manifests('gw1', path.join(shared, 'state', 'changes')))[0]?.state).toBe('rolled-back');
  });

  it('SIGKILL of the doctor mid-step, then undo: the step never lands and the host is exactly as before', async () => {
    await lab.scenario('ip-forward-off', 'gw1');
    const state = async () =>
      [
        await forward('gw1'),
        await lab.readEtc('gw1', 'sysctl.d/90-hagw-doctor.conf').catch(() => '(absent)'),
        ...(await save('gw1', 'filter')),
        ...(await save('gw1', 'nat')),
      ].join('\n');
    const before = await state();
    const delay = 3000;
    const fix = background('gw1', ['fix', 'ip-forward-off', '--yes'], { HAGW_DOCTOR_TEST_STEP_DELAY_MS: String(delay) });
    const step = await waitFor(async () => (await manifests('gw1')).at(-1)?.steps.find((s) => s.status === 'running' && s.pid), {
      what: 'a step in flight',
      timeoutMs: 60_000,
    });
    const startedAt = Date.now();
    fix.kill('SIGKILL');
    await fix;
    // the step's process group dies with the doctor
    await waitFor(
      () => {
        try {
          process.kill(step.pid!, 0);
          return false;
        } catch {
          return true;
        }
      },
      { what: `the step (pid ${step.pid}) to die with the doctor`, timeoutMs: 5000 },
    );
    // past the moment the step would have changed the host, it has not
    await new Promise((r) => setTimeout(r, Math.max(0, delay + 1000 - (Date.now() - startedAt))));
    expect(await forward('gw1')).toBe('0');
    expect((await manifests('gw1')).at(-1)?.state).toBe('applying');
    const u = await lab.doctor('gw1', ['undo', '--yes']);
    expect(u.exitCode, out(u)).toBe(0);
    expect(await state()).toBe(before);
    expect((await manifests('gw1')).at(-1)?.state).toBe('rolled-back');
  });

  it('a killed commit-confirmed timer is caught by the next run: check reports it, then any run rolls it back', async () => {
    await lab.scenario('ip-forward-off', 'gw1');
    const f = await lab.doctor('gw1', ['fix', 'ip-forward-off', '--yes', '--confirm-timeout', '10']);
    expect(f.exitCode, out(f)).toBe(0);
    const m = (await manifests('gw1')).at(-1)!;
    expect(m.state).toBe('pending');
    expect(await forward('gw1')).toBe('1');
    process.kill(m.confirm!.timerPid!, 'SIGKILL');
    // hold the lock, so the next runs cannot roll back yet (flock passes its descriptor to sleep)
    const holder = spawn('flock', [lockOf('gw1'), 'sleep', '600'], { stdio: 'ignore', detached: true });
    helpers.push(holder);
    const release = () => {
      try {
        process.kill(-holder.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    try {
      await waitFor(() => execa('flock', ['-n', lockOf('gw1'), 'true'], { reject: false }).then((r) => r.exitCode === 1), { what: 'the lock to be held' });
      await waitFor(
        async () => {
          const r = await lab.report('gw1');
          return r.report.findings.find((x) => x.code === 'change-pending-overdue') ? r : undefined;
        },
        { what: 'check to report change-pending-overdue', timeoutMs: 40_000 },
      );
      // the run after that: overdue before anything else, and still reported while it cannot roll back
      const overdue = await lab.report('gw1');
      expect(overdue.report.findings.find((x) => x.code === 'change-pending-overdue')).toMatchObject({ severity: 'critical', subject: m.id });
      expect(overdue.stderr).toContain(`change ${m.id} is past its confirm deadline and could not be rolled back now`);
      expect(await forward('gw1')).toBe('1');
    } finally {
      release();
    }
    await waitFor(() => execa('flock', ['-n', lockOf('gw1'), 'true'], { reject: false }).then((r) => r.exitCode === 0), { what: 'the lock to be free' });
    const next = await lab.report('gw1');
    expect(next.stderr).toContain(`change ${m.id}`);
    expect(next.stderr).toContain('rolled back now');
    expect(next.report.findings.map((x) => x.code)).not.toContain('change-pending-overdue');
    expect(await forward('gw1')).toBe('0');
    const after = (await manifests('gw1')).find((x) => x.id === m.id)!;
    expect(after.state).toBe('rolled-back');
    expect(after.rollbacks.at(-1)).toMatchObject({ reason: 'overdue', ok: true });
  });

  it('a symlinked target is refused: the preview names the real file, nothing is applied, the link target is untouched', async () => {
    await lab.scenario('ip-forward-off', 'gw1');
    const victim = path.join(lab.runDir, 'victim.conf');
    await writeFile(victim, 'precious = 1\n', { mode: 0o600 });
    const link = lab.etcPath('gw1', 'sysctl.d/90-hagw-doctor.conf');
    await rm(link, { force: true });
    await symlink(victim, link);
    const dry = await lab.doctor('gw1', ['fix', 'ip-forward-off', '--dry-run']);
    expect(dry.stdout).toContain(`REFUSED at apply: /etc/sysctl.d/90-hagw-doctor.conf is a symbolic link (the write would land in ${victim})`);
    const r = await lab.doctor('gw1', ['fix', 'ip-forward-off', '--yes']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('symbolic link');
    expect(r.stderr).toContain('nothing changed');
    expect(await readFile(victim, 'utf8')).toBe('precious = 1\n');
    expect(((await stat(victim)).mode & 0o777).toString(8)).toBe('600');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await forward('gw1')).toBe('0');
    await rm(link);
    await lab.execOk('gw1', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  });

  it('an unrelated rule added after a fix survives its undo (nft: the fix is undone by its own handle)', async () => {
    // gw2's own nft firewall drops VRRP: both nodes become MASTER
    await lab.execOk('gw2', ['nft', 'add', 'table', 'inet', 'fw']);
    await lab.execOk('gw2', ['nft', 'add', 'chain', 'inet', 'fw', 'input', '{ type filter hook input priority 0 ; policy accept ; }']);
    await lab.execOk('gw2', ['nft', 'add', 'rule', 'inet', 'fw', 'input', 'ip', 'protocol', 'vrrp', 'drop']);
    const rules = async () =>
      (await lab.execOk('gw2', ['nft', 'list', 'chain', 'inet', 'fw', 'input'])).stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /accept|drop/.test(l) && !l.startsWith('type'));
    const before = await rules();
    const f = await lab.doctor('gw2', ['fix', 'vrrp-input-blocked', '--yes']);
    expect(f.exitCode, out(f)).toBe(0);
    expect((await rules()).some((l) => /ip saddr .* accept/.test(l))).toBe(true);
    // after the fix, someone adds a rule of their own
    await lab.execOk('gw2', ['nft', 'add', 'rule', 'inet', 'fw', 'input', 'tcp', 'dport', '2222', 'accept']);
    const u = await lab.doctor('gw2', ['undo', '--yes']);
    expect(u.exitCode, out(u)).toBe(0);
    expect(await rules()).toEqual([...before, 'tcp dport 2222 accept']);
    await lab.execOk('gw2', ['nft', 'delete', 'table', 'inet', 'fw']);
  });

  it('a hostile interface name is refused: nothing is written to the network configuration', async () => {
    const evil = 'e`id>x`';
    const ns = ['ip', 'netns', 'exec', lab.nodes.gw2];
    await lab.execOk('gw2', ['ip', 'link', 'add', 'name', evil, 'type', 'veth', 'peer', 'name', 'hdevilpeer']);
    await lab.execOk('gw2', ['ip', 'addr', 'add', '10.77.0.1/32', 'dev', evil]);
    await lab.execOk('gw2', ['ip', 'link', 'set', evil, 'up']);
    await lab.execOk('gw2', ['ip', 'route', 'add', '10.78.0.0/24', 'dev', evil, 'table', '177']);
    await lab.execOk('gw2', ['ip', 'rule', 'add', 'from', '10.77.0.1', 'lookup', '177', 'pref', '1777']);
    const interfaces = `# gw2\nauto ${evil}\niface ${evil} inet manual\n`;
    await lab.writeEtc('gw2', 'network/interfaces', interfaces);
    const cwd = path.join(lab.runDir, 'cwd');
    await mkdir(cwd, { recursive: true });
    const report = await lab.report('gw2');
    const f = report.report.findings.find((x) => x.code === 'policy-not-persistent');
    expect(f, JSON.stringify(report.report.findings.map((x) => x.code))).toBeDefined();
    expect(f!.fix).toBeUndefined();
    expect(f!.detail).toContain('will not write them');
    expect(f!.detail).toContain('a shell script cannot hold safely');
    const r = await execa(ns[0]!, [...ns.slice(1), process.execPath, BIN, 'fix', 'policy-not-persistent', '--yes'], {
      cwd,
      reject: false,
      env: {
        LC_ALL: 'C',
        HAGW_DOCTOR_STATE_DIR: path.join(stateOf('gw2'), 'state'),
        HAGW_DOCTOR_LOCK: lockOf('gw2'),
        HAGW_DOCTOR_LOG: path.join(stateOf('gw2'), 'log'),
      },
    });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain('has no automatic fix');
    expect(await lab.readEtc('gw2', 'network/interfaces')).toBe(interfaces);
    expect(await readdir(cwd)).toEqual([]);
    expect(existsSync('/etc/network/interfaces') ? await readFile('/etc/network/interfaces', 'utf8') : '').not.toContain(evil);
    await lab.execOk('gw2', ['ip', 'rule', 'del', 'pref', '1777']);
    await lab.execOk('gw2', ['ip', 'link', 'del', evil]);
  });
});
