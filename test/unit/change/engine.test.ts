// The engine on a scratch directory root: real files, real processes, no host state touched.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FixPlan } from '../../../src/types.js';
import { applyPlan, confirmPending, runRollbackTimer, undoChange, type StepEvent } from '../../../src/change/engine.js';
import { listChanges, readManifest, writeManifest } from '../../../src/change/manifest.js';
import { changePaths, type ChangePaths } from '../../../src/change/paths.js';

let base: string;
let paths: ChangePaths;
let root: string;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'hdchg-unit-'));
  root = path.join(base, 'root');
  await mkdir(path.join(root, 'etc/sysctl.d'), { recursive: true });
  await writeFile(path.join(root, 'etc/sysctl.d/10-site.conf'), 'vm.swappiness = 10\n', { mode: 0o640 });
  await chmod(path.join(root, 'etc/sysctl.d/10-site.conf'), 0o640);
  await writeFile(path.join(root, 'etc/old.conf'), 'obsolete\n');
  paths = changePaths({
    HAGW_DOCTOR_STATE_DIR: path.join(base, 'state'),
    HAGW_DOCTOR_LOCK: path.join(base, 'run/hagw-doctor.lock'),
    HAGW_DOCTOR_LOG: path.join(base, 'log/hagw-doctor.log'),
    HAGW_DOCTOR_ROOT: root,
  });
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Every file and directory under the scratch root, with content and mode. */
async function tree(dir = root): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const name of (await readdir(d)).sort()) {
      const p = path.join(d, name);
      const st = await lstat(p);
      const rel = path.relative(root, p);
      if (st.isDirectory()) {
        out[rel + '/'] = (st.mode & 0o7777).toString(8);
        await walk(p);
      } else out[rel] = `${(st.mode & 0o7777).toString(8)} ${await readFile(p, 'utf8')}`;
    }
  };
  await walk(dir);
  return out;
}

const real = (p: string) => path.join(root, p);

function plan(steps: FixPlan['steps'], extra: Partial<FixPlan> = {}): FixPlan {
  return {
    summary: 'test plan',
    risk: 'safe',
    steps,
    touches: { files: [] },
    persistence: { persistent: true, how: 'a file' },
    verifies: ['ip-forward-off'],
    ...extra,
  };
}

async function logEvents(): Promise<Array<{ event: string; id?: string }>> {
  return (await readFile(paths.log, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('apply and undo on a scratch root', () => {
  it('applies writes, removes and commands, then undo puts every byte and mode back', async () => {
    const before = await tree();
    const p = plan([
      { write: { path: '/etc/sysctl.d/90-hagw-doctor.conf', content: 'net.ipv4.ip_forward = 1\n', mode: 0o644 } },
      { write: { path: '/etc/sysctl.d/10-site.conf', content: 'vm.swappiness = 1\n' } },
      { write: { path: '/etc/keepalived/scripts/master.sh', content: '#!/bin/sh\n', mode: 0o700 } },
      { remove: { path: '/etc/old.conf' } },
      { argv: ['touch', real('/etc/marker')], undo: [['rm', real('/etc/marker')]] },
    ]);
    const events: StepEvent[] = [];
    const r = await applyPlan(p, {
      findings: ['ip-forward-off'],
      paths,
      recheck: async () => ({ codes: ['vrrp-notrack-missing'] }),
      onStep: (e) => events.push(e),
      trapSignals: false,
    });
    expect(r).toMatchObject({ outcome: 'applied', exitCode: 0, state: 'confirmed' });
    const after = await tree();
    expect(after['etc/sysctl.d/90-hagw-doctor.conf']).toBe('644 net.ipv4.ip_forward = 1\n');
    // an existing file keeps its mode when the step names none
    expect(after['etc/sysctl.d/10-site.conf']).toBe('640 vm.swappiness = 1\n');
    expect(after['etc/keepalived/scripts/master.sh']).toBe('700 #!/bin/sh\n');
    expect(after['etc/old.conf']).toBeUndefined();
    // the command's own effect: an empty file
    expect(after['etc/marker']).toMatch(/^\d{3} $/);
    expect(events.filter((e) => e.type === 'step-done').map((e) => (e as { status: string }).status)).toEqual(['done', 'done', 'done', 'done', 'done']);

    const m = await readManifest(path.join(paths.changesDir, r.id!));
    expect(m.findings).toEqual(['ip-forward-off']);
    expect(m.backup.files.find((f) => f.path === '/etc/sysctl.d/10-site.conf')).toMatchObject({ exists: true, mode: 0o640 });
    expect(m.backup.files.find((f) => f.path === '/etc/sysctl.d/90-hagw-doctor.conf')).toMatchObject({ exists: false });
    expect(m.who.uid).toBe(process.getuid!());

    const u = await undoChange(undefined, { paths });
    expect(u.exitCode).toBe(0);
    expect(await tree()).toEqual(before);
    expect((await readManifest(path.join(paths.changesDir, r.id!))).state).toBe('rolled-back');
    expect((await logEvents()).map((e) => e.event)).toEqual(['plan', 'step', 'step', 'step', 'step', 'step', 'result', 'rollback', 'result']);
    // a second undo of the same change is refused
    expect((await undoChange(r.id!, { paths })).exitCode).toBe(3);
  });

  it('a failing middle step rolls back the steps before it and runs none after it', async () => {
    const before = await tree();
    const p = plan([
      { write: { path: '/etc/sysctl.d/90-hagw-doctor.conf', content: 'x = 1\n' } },
      { argv: ['touch', real('/etc/marker')], undo: [['rm', real('/etc/marker')]] },
      { argv: ['sh', '-c', 'echo boom >&2; exit 4'], undo: [['touch', real('/etc/undo-of-failed-step-ran')]] },
      { argv: ['touch', real('/etc/never')], undo: [['rm', real('/etc/never')]] },
    ]);
    const r = await applyPlan(p, { findings: ['ip-forward-off'], paths, trapSignals: false });
    expect(r).toMatchObject({ outcome: 'failed', exitCode: 3, state: 'failed', failedStep: 2 });
    expect(r.message).toContain('step 3 failed');
    expect(r.message).toContain('exit status 4: boom');
    expect(r.message).toMatch(/step 2: ran rm .*marker/);
    expect(await tree()).toEqual(before);
    const m = await readManifest(path.join(paths.changesDir, r.id!));
    expect(m.steps.map((s) => s.status)).toEqual(['undone', 'undone', 'failed', 'not-run']);
  });

  it('a command without an undo of its own is refused up front (no whole-file or whole-table restore stands in for it)', async () => {
    const before = await tree();
    const target = real('/etc/sysctl.d/10-site.conf');
    const p = plan([{ argv: ['sh', '-c', 'echo "kernel.panic = 1" >> "$0"', target] }], { touches: { files: ['/etc/sysctl.d/10-site.conf'] } });
    const r = await applyPlan(p, { findings: [], paths, trapSignals: false });
    expect(r).toMatchObject({ outcome: 'refused', exitCode: 3 });
    expect(r.message).toContain('has no undo');
    expect(await tree()).toEqual(before);
  });

  it('undo touches only what each step did: a file edited since the change is left alone, and said so', async () => {
    const p = plan([
      { write: { path: '/etc/sysctl.d/90-hagw-doctor.conf', content: 'x = 1\n' } },
      { argv: ['touch', real('/etc/marker')], undo: [['rm', real('/etc/marker')]] },
    ]);
    const r = await applyPlan(p, { findings: [], paths, trapSignals: false });
    expect(r.exitCode).toBe(0);
    await writeFile(real('/etc/sysctl.d/90-hagw-doctor.conf'), 'x = 1\nedited = by someone else\n');
    const u = await undoChange(r.id!, { paths });
    expect(u.exitCode).toBe(3);
    expect(u.message).toContain('changed since the change wrote it; left as it is');
    expect(await readFile(real('/etc/sysctl.d/90-hagw-doctor.conf'), 'utf8')).toContain('edited = by someone else');
    await expect(lstat(real('/etc/marker'))).rejects.toThrow();
  });

  it('an undo id that is empty or not an id is an error, never "the latest"', async () => {
    const r = await applyPlan(plan([{ write: { path: '/etc/x.conf', content: 'x\n' } }]), { findings: [], paths, trapSignals: false });
    expect((await undoChange('../x', { paths })).exitCode).toBe(3);
    expect((await readManifest(path.join(paths.changesDir, r.id!))).state).toBe('confirmed');
  });

  it('a file the plan would write that changed since the preview is not written: the host moved', async () => {
    await writeFile(real('/etc/x.conf'), 'edited after the preview\n');
    const p = plan([{ write: { path: '/etc/x.conf', content: 'x\n' } }]);
    const r = await applyPlan(p, { findings: [], paths, trapSignals: false, expectedFiles: { '/etc/x.conf': null } });
    expect(r.exitCode).toBe(3);
    expect(r.message).toContain('the host changed since the plan was shown');
    expect(await readFile(real('/etc/x.conf'), 'utf8')).toBe('edited after the preview\n');
  });

  it('nothing to do when every step finds the host already as planned: no change recorded', async () => {
    await writeFile(real('/etc/x.conf'), 'x\n');
    const r = await applyPlan(plan([{ write: { path: '/etc/x.conf', content: 'x\n' } }]), { findings: [], paths, trapSignals: false });
    expect(r).toMatchObject({ outcome: 'nothing-to-do', exitCode: 0, id: null });
    expect(await listChanges(paths.changesDir)).toEqual([]);
  });

  it('a symlinked target is refused before anything runs, and the link target is untouched', async () => {
    await writeFile(path.join(base, 'victim'), 'secret\n', { mode: 0o600 });
    const { symlink } = await import('node:fs/promises');
    await symlink(path.join(base, 'victim'), real('/etc/sysctl.d/90-hagw-doctor.conf'));
    const r = await applyPlan(plan([{ write: { path: '/etc/sysctl.d/90-hagw-doctor.conf', content: 'x = 1\n' } }]), {
      findings: [],
      paths,
      trapSignals: false,
    });
    expect(r).toMatchObject({ outcome: 'refused', exitCode: 3 });
    expect(r.message).toContain('symbolic link');
    expect(await readFile(path.join(base, 'victim'), 'utf8')).toBe('secret\n');
    expect(((await lstat(path.join(base, 'victim'))).mode & 0o777).toString(8)).toBe('600');
  });

  it('per finding: a change judged on the instance it fixed is kept although another instance has the same code', async () => {
    const p = plan([{ write: { path: '/etc/x.conf', content: 'x\n' } }], { verifies: ['vrrp-input-blocked'] });
    const r = await applyPlan(p, {
      findings: ['vrrp-input-blocked'],
      targets: [{ code: 'vrrp-input-blocked', subject: 'LAN' }],
      paths,
      trapSignals: false,
      recheck: async () => ({ codes: ['vrrp-input-blocked'], findings: [{ code: 'vrrp-input-blocked', subject: 'WAN' }] }),
    });
    expect(r).toMatchObject({ outcome: 'applied', exitCode: 0 });
    const r2 = await undoChange(r.id!, { paths });
    expect(r2.exitCode).toBe(0);
    const again = await applyPlan(p, {
      findings: ['vrrp-input-blocked'],
      targets: [{ code: 'vrrp-input-blocked', subject: 'LAN' }],
      paths,
      trapSignals: false,
      recheck: async () => ({ codes: ['vrrp-input-blocked'], findings: [{ code: 'vrrp-input-blocked', subject: 'LAN' }] }),
    });
    expect(again).toMatchObject({ outcome: 'not-cleared', exitCode: 2, remaining: ['vrrp-input-blocked [LAN]'] });
  });

  it('tolerates an optional step that fails', async () => {
    const p = plan([
      { argv: ['sh', '-c', 'exit 1'], optional: true },
      { argv: ['touch', real('/etc/marker')], undo: [['rm', real('/etc/marker')]] },
    ]);
    const r = await applyPlan(p, { findings: [], paths, trapSignals: false });
    expect(r.exitCode).toBe(0);
    const m = await readManifest(path.join(paths.changesDir, r.id!));
    expect(m.steps.map((s) => s.status)).toEqual(['tolerated', 'done']);
  });

  it('rolls back and exits 2 when the re-check still reports the code', async () => {
    const before = await tree();
    const p = plan([{ write: { path: '/etc/sysctl.d/90-hagw-doctor.conf', content: 'x = 1\n' } }]);
    const r = await applyPlan(p, { findings: ['ip-forward-off'], paths, recheck: async () => ({ codes: ['ip-forward-off'] }), trapSignals: false });
    expect(r).toMatchObject({ outcome: 'not-cleared', exitCode: 2, state: 'rolled-back', remaining: ['ip-forward-off'] });
    expect(r.message).toContain('still reports ip-forward-off');
    expect(await tree()).toEqual(before);
  });

  it('rolls back when the re-check itself fails', async () => {
    const before = await tree();
    const p = plan([{ write: { path: '/etc/x.conf', content: 'x\n' } }]);
    const r = await applyPlan(p, {
      findings: [],
      paths,
      recheck: async () => {
        throw new Error('collect broke');
      },
      trapSignals: false,
    });
    expect(r.exitCode).toBe(2);
    expect(r.message).toContain('collect broke');
    expect(await tree()).toEqual(before);
  });

  it('a SIGTERM during a step lets the step finish, then rolls back', async () => {
    const before = await tree();
    const p = plan([
      { argv: ['touch', real('/etc/one')], undo: [['rm', real('/etc/one')]] },
      { argv: ['touch', real('/etc/two')], undo: [['rm', real('/etc/two')]] },
    ]);
    const r = await applyPlan(p, {
      findings: [],
      paths,
      onStep: (e) => {
        if (e.type === 'step-start' && e.index === 0) process.emit('SIGTERM', 'SIGTERM');
      },
    });
    expect(r.exitCode).toBe(3);
    expect(r.message).toContain('interrupted by SIGTERM after step 1');
    const m = await readManifest(path.join(paths.changesDir, r.id!));
    expect(m.steps.map((s) => s.status)).toEqual(['undone', 'not-run']);
    expect(await tree()).toEqual(before);
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });
});

describe("cancel through an AbortSignal (the app's Ctrl+C; no process signal)", () => {
  it.each([
    ['after the first step', 0, ['undone', 'not-run', 'not-run'], 'cancelled after step 1'],
    ['after the second step', 1, ['undone', 'undone', 'not-run'], 'cancelled after step 2'],
  ])('cancelled %s: the step in flight finishes, nothing after it runs, everything done is rolled back', async (_what, at, statuses, why) => {
    const before = await tree();
    const p = plan([
      { argv: ['touch', real('/etc/one')], undo: [['rm', real('/etc/one')]] },
      { argv: ['touch', real('/etc/two')], undo: [['rm', real('/etc/two')]] },
      { argv: ['touch', real('/etc/three')], undo: [['rm', real('/etc/three')]] },
    ]);
    const cancel = new AbortController();
    const r = await applyPlan(p, {
      findings: [],
      paths,
      trapSignals: false,
      signal: cancel.signal,
      onStep: (e) => {
        if (e.type === 'step-done' && e.index === at) cancel.abort();
      },
    });
    expect(r).toMatchObject({ outcome: 'failed', exitCode: 3, state: 'failed' });
    expect(r.message).toContain(why);
    expect(await tree()).toEqual(before);
    expect((await readManifest(path.join(paths.changesDir, r.id!))).steps.map((s) => s.status)).toEqual(statuses);
  });

  it('a signal that is never aborted changes nothing about a normal apply', async () => {
    const r = await applyPlan(plan([{ write: { path: '/etc/x.conf', content: 'x\n' } }]), {
      findings: [],
      paths,
      trapSignals: false,
      signal: new AbortController().signal,
    });
    expect(r).toMatchObject({ outcome: 'applied', exitCode: 0 });
    expect(r.confirmDeadline).toBeUndefined();
  });
});

describe('refusals: nothing changed', () => {
  it('refuses while another process holds the lock (flock), and the lock dies with its holder', async () => {
    const before = await tree();
    await mkdir(path.dirname(paths.lock), { recursive: true });
    const { spawn } = await import('node:child_process');
    // its own process group: flock(1) passes the locked descriptor to its command (sleep)
    const holder = spawn('flock', [paths.lock, 'sleep', '60'], { stdio: 'ignore', detached: true });
    try {
      // wait until the holder has it
      for (let i = 0; i < 100; i++) {
        const probe = await import('node:child_process').then((cp) => cp.spawnSync('flock', ['-n', paths.lock, 'true']));
        if (probe.status === 1) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      const r = await applyPlan(plan([{ write: { path: '/etc/x.conf', content: 'x\n' } }]), { findings: [], paths, trapSignals: false });
      expect(r).toMatchObject({ id: null, outcome: 'refused', exitCode: 3 });
      expect(r.message).toContain('another hagw-doctor change is in progress');
      expect(await tree()).toEqual(before);
      expect(await listChanges(paths.changesDir)).toEqual([]);
    } finally {
      const exited = new Promise((res) => holder.once('exit', res));
      process.kill(-holder.pid!, 'SIGKILL');
      await exited;
    }
    // the kernel dropped the lock with its holder: no stale lock, no takeover
    const r2 = await applyPlan(plan([{ write: { path: '/etc/x.conf', content: 'x\n' } }]), { findings: [], paths, trapSignals: false });
    expect(r2.exitCode).toBe(0);
  });

  it('a lock file left with a dead pid in it blocks nothing (the lock is the flock, not the file)', async () => {
    await mkdir(path.dirname(paths.lock), { recursive: true });
    await writeFile(paths.lock, '999999999\n');
    const r = await applyPlan(plan([{ write: { path: '/etc/x.conf', content: 'x\n' } }]), { findings: [], paths, trapSignals: false });
    expect(r.exitCode).toBe(0);
  });

  it('refuses a plan it could not back up', async () => {
    await mkdir(real('/etc/adir'));
    const before = await tree();
    const r = await applyPlan(plan([{ write: { path: '/etc/adir', content: 'x\n' } }]), { findings: [], paths, trapSignals: false });
    expect(r).toMatchObject({ outcome: 'refused', exitCode: 3 });
    expect(r.message).toMatch(/is not a regular file.*nothing changed/);
    expect(await tree()).toEqual(before);
    expect(await listChanges(paths.changesDir)).toEqual([]);
  });

  it('refuses an invalid plan', async () => {
    const r = await applyPlan(plan([{ argv: ['true'] }], { touches: {} }), { findings: [], paths, trapSignals: false });
    expect(r.exitCode).toBe(3);
    expect(r.message).toContain('no undo');
  });
});

describe('commit-confirmed bookkeeping (in-process; the detached timer is proven in the lab)', () => {
  async function pendingChange(ms = 300): Promise<string> {
    const r = await applyPlan(plan([{ write: { path: '/etc/x.conf', content: 'x\n' } }]), { findings: [], paths, trapSignals: false });
    const dir = path.join(paths.changesDir, r.id!);
    const m = await readManifest(dir);
    m.state = 'pending';
    m.confirm = { seconds: 1, deadline: new Date(Date.now() + ms).toISOString() };
    await writeManifest(dir, m);
    return r.id!;
  }

  it('a pending change blocks the next apply until confirmed', async () => {
    await pendingChange(60_000);
    const second = await applyPlan(plan([{ write: { path: '/etc/y.conf', content: 'y\n' } }]), { findings: [], paths, trapSignals: false });
    expect(second.exitCode).toBe(3);
    expect(second.message).toContain('awaiting confirmation');
    expect((await confirmPending({ paths })).exitCode).toBe(0);
    expect((await applyPlan(plan([{ write: { path: '/etc/y.conf', content: 'y\n' } }]), { findings: [], paths, trapSignals: false })).exitCode).toBe(0);
    expect((await confirmPending({ paths })).message).toMatch(/^no change of this node .* is awaiting confirmation$/);
  });

  it('the timer rolls an unconfirmed change back after its deadline, and then confirm is too late', async () => {
    const id = await pendingChange();
    expect(await readFile(real('/etc/x.conf'), 'utf8')).toBe('x\n');
    const r = await runRollbackTimer(id, paths);
    expect(r.exitCode).toBe(0);
    await expect(lstat(real('/etc/x.conf'))).rejects.toThrow();
    const m = await readManifest(path.join(paths.changesDir, id));
    expect(m.state).toBe('rolled-back');
    expect(m.rollbacks[0]!.reason).toBe('timer');
    expect((await confirmPending({ paths })).message).toContain('too late');
  });

  it('the timer leaves a confirmed change alone', async () => {
    const id = await pendingChange(60_000);
    await confirmPending({ paths });
    expect((await runRollbackTimer(id, paths)).message).toContain('confirmed');
    expect(await readFile(real('/etc/x.conf'), 'utf8')).toBe('x\n');
  });
});
