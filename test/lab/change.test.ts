// The change engine on real netfilter, sysctl, rules and routes, in network namespaces.
// Part 1 drives the built engine (dist/) in a bare namespace of its own; part 2 runs the real
// CLI on the lab's keepalived pair. Needs root and `npm run build` (test:lab builds first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FixPlan } from '../../src/types.js';
import { createLab, requireRoot, REPO_ROOT, type Lab } from './harness.js';

const ENGINE = path.join(REPO_ROOT, 'dist/src/change/engine.js');
const ENV = { LC_ALL: 'C', LANG: 'C' };

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('change engine in a bare namespace', () => {
  const ns = `hdchg${randomBytes(3).toString('hex')}`;
  let base = '';
  let driver = '';
  let run = 0;
  const children: ResultPromise[] = [];

  /** Fresh state dir, lock, log and scratch root for one test. */
  async function fresh() {
    const d = path.join(base, `run${run++}`);
    await mkdir(path.join(d, 'root/etc/sysctl.d'), { recursive: true });
    await writeFile(path.join(d, 'root/etc/sysctl.d/90-hagw-doctor.conf'), '# before\n', { mode: 0o600 });
    return {
      dir: d,
      root: path.join(d, 'root'),
      env: {
        ...ENV,
        HAGW_DOCTOR_STATE_DIR: path.join(d, 'state'),
        HAGW_DOCTOR_LOCK: path.join(d, 'hagw-doctor.lock'),
        HAGW_DOCTOR_LOG: path.join(d, 'hagw-doctor.log'),
        HAGW_DOCTOR_ROOT: path.join(d, 'root'),
      },
    };
  }

  const inNs = (argv: string[]) => execa('ip', ['netns', 'exec', ns, ...argv], { env: ENV, reject: false });

  /** iptables-save without its timestamp comments, and without tables that hold no rule and only
   *  ACCEPT policies: iptables-nft creates a table on first use and `-D` leaves it, empty and inert. */
  function iptablesState(save: string): string[] {
    const sections = save
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n')
      .split(/(?=^\*)/m);
    return sections
      .filter((sec) => /^-A /m.test(sec) || /^:\S+ (DROP|REJECT)/m.test(sec))
      .join('')
      .split('\n');
  }

  async function nodeState(root: string): Promise<string> {
    const ipt = iptablesState((await inNs(['iptables-save'])).stdout);
    const fwd = (await inNs(['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout;
    const rules = (await inNs(['ip', '-4', 'rule', 'show'])).stdout;
    const routes = (await inNs(['ip', '-4', 'route', 'show', 'table', 'all'])).stdout;
    const file = await readFile(path.join(root, 'etc/sysctl.d/90-hagw-doctor.conf'), 'utf8').catch(() => '(absent)');
    return [...ipt, `ip_forward=${fwd}`, rules, routes, `file=${file}`].join('\n');
  }

  function start(cmd: string, arg: string, env: Record<string, string>): ResultPromise {
    const p = execa('ip', ['netns', 'exec', ns, process.execPath, driver, cmd, arg], { env, extendEnv: true, reject: false, all: true });
    children.push(p);
    return p;
  }

  async function drive(cmd: string, spec: unknown, env: Record<string, string>) {
    const file = path.join(base, `spec-${randomBytes(3).toString('hex')}.json`);
    await writeFile(file, JSON.stringify(spec));
    const r = await start(cmd, file, env);
    const line = String(r.stdout)
      .split('\n')
      .find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`driver printed no result (exit ${r.exitCode}): ${r.all}`);
    return { exitCode: r.exitCode, result: JSON.parse(line.slice(7)) as { id: string | null; exitCode: number; message: string; state?: string } };
  }

  const NOTRACK_PRE = ['-p', 'vrrp', '-j', 'CT', '--notrack'];
  const notrack = (chain: string, op: '-A' | '-D') => ['iptables', '-t', 'raw', op, chain, ...NOTRACK_PRE];

  /** withUndo false: no undo commands at all; the engine decides each inverse when it applies
   *  (iptables rules named by content, sysctl by the value it read right before). */
  function roundTripPlan(withUndo: boolean): FixPlan {
    const undo = (u: string[][]) => (withUndo ? { undo: u } : {});
    const rule = (chain: string) => (withUndo ? {} : { rule: { bin: 'iptables', table: 'raw', chain, op: 'append' as const, spec: NOTRACK_PRE } });
    return {
      summary: 'notrack vrrp, forward, persist, a policy rule',
      risk: 'safe',
      steps: [
        { argv: notrack('PREROUTING', '-A'), ...undo([notrack('PREROUTING', '-D')]), ...rule('PREROUTING') },
        { argv: notrack('OUTPUT', '-A'), ...undo([notrack('OUTPUT', '-D')]), ...rule('OUTPUT') },
        { argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'], ...undo([['sysctl', '-w', 'net.ipv4.ip_forward=0']]) },
        { write: { path: '/etc/sysctl.d/90-hagw-doctor.conf', content: 'net.ipv4.ip_forward = 1\n', mode: 0o644 } },
        { argv: ['ip', 'rule', 'add', 'pref', '1000', 'from', '10.9.9.9', 'lookup', '100'], undo: [['ip', 'rule', 'del', 'pref', '1000']] },
        {
          argv: ['ip', 'route', 'add', 'blackhole', '10.8.0.0/16', 'table', '100'],
          undo: [['ip', 'route', 'del', 'blackhole', '10.8.0.0/16', 'table', '100']],
        },
      ],
      touches: { iptables: ['raw'], sysctl: ['net.ipv4.ip_forward'], files: ['/etc/sysctl.d/90-hagw-doctor.conf'], routes: true },
      persistence: { persistent: false, how: 'test' },
      verifies: [],
    };
  }

  beforeAll(async () => {
    requireRoot();
    if (!existsSync(ENGINE)) throw new Error(`${ENGINE} is missing: run npm run build first`);
    base = await mkdtemp(path.join(os.tmpdir(), 'hdchg-lab-'));
    driver = path.join(base, 'driver.mjs');
    await writeFile(
      driver,
      `import { readFileSync } from 'node:fs';
import { applyPlan, undoChange, confirmPending } from ${JSON.stringify(ENGINE)};
const [cmd, arg] = process.argv.slice(2);
let r;
if (cmd === 'apply') {
  const spec = JSON.parse(readFileSync(arg, 'utf8'));
  r = await applyPlan(spec.plan, { findings: spec.findings ?? [], ...(spec.confirmTimeout ? { confirmTimeout: spec.confirmTimeout } : {}), onStep: (e) => console.log('EVENT ' + JSON.stringify(e)) });
  console.log('RESULT ' + JSON.stringify(r));
  if (spec.hang) setInterval(() => undefined, 1000);
  else process.exit(r.exitCode);
} else {
  r = cmd === 'undo' ? await undoChange(JSON.parse(readFileSync(arg, 'utf8')) || undefined) : await confirmPending();
  console.log('RESULT ' + JSON.stringify(r));
  process.exit(r.exitCode);
}
`,
    );
    await execa('ip', ['netns', 'add', ns]);
    await execa('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    // the detached rollback timers live in the namespace: end them before it goes
    const pids = (await execa('ip', ['netns', 'pids', ns], { reject: false })).stdout.split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await execa('ip', ['netns', 'del', ns], { reject: false });
    if (base) await rm(base, { recursive: true, force: true });
  });

  it.each([
    ['their own undo commands', true],
    ['inverses the engine decides at apply time (rules by content, sysctl by the value read, files by hash)', false],
  ])('apply then undo leaves the node exactly as before, undone by %s', async (_what, withUndo) => {
    const t = await fresh();
    const before = await nodeState(t.root);
    const a = await drive('apply', { plan: roundTripPlan(withUndo), findings: ['vrrp-notrack-missing'] }, t.env);
    expect(a.result, a.result.message).toMatchObject({ exitCode: 0, state: 'confirmed' });
    const applied = await nodeState(t.root);
    expect(applied).toContain('-A PREROUTING -p vrrp -j CT --notrack');
    expect(applied).toContain('-A OUTPUT -p vrrp -j CT --notrack');
    expect(applied).toContain('ip_forward=1');
    expect(applied).toContain('1000:\tfrom 10.9.9.9 lookup 100');
    expect(applied).toContain('blackhole 10.8.0.0/16 table 100');
    expect(applied).toContain('file=net.ipv4.ip_forward = 1');
    const manifestDir = path.join(t.env.HAGW_DOCTOR_STATE_DIR, 'changes', a.result.id!);
    expect(await readFile(path.join(manifestDir, 'iptables-raw.rules'), 'utf8')).toContain('*raw');
    const u = await drive('undo', '', t.env);
    expect(u.result.exitCode, u.result.message).toBe(0);
    expect(await nodeState(t.root)).toBe(before);
    const log = (await readFile(t.env.HAGW_DOCTOR_LOG, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).event);
    expect(log[0]).toBe('plan');
    expect(log).toContain('rollback');
  });

  it('a failing middle step rolls back the steps before it', async () => {
    const t = await fresh();
    const before = await nodeState(t.root);
    const plan: FixPlan = {
      ...roundTripPlan(true),
      steps: [
        { argv: notrack('PREROUTING', '-A'), undo: [notrack('PREROUTING', '-D')] },
        { argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'], undo: [['sysctl', '-w', 'net.ipv4.ip_forward=0']] },
        { write: { path: '/etc/sysctl.d/90-hagw-doctor.conf', content: 'x\n' } },
        { argv: ['iptables', '-t', 'raw', '-A', 'NO_SUCH_CHAIN', '-j', 'ACCEPT'], undo: [['iptables', '-t', 'raw', '-D', 'NO_SUCH_CHAIN', '-j', 'ACCEPT']] },
        { argv: notrack('OUTPUT', '-A'), undo: [notrack('OUTPUT', '-D')] },
      ],
    };
    const a = await drive('apply', { plan }, t.env);
    expect(a.result).toMatchObject({ exitCode: 3, state: 'failed' });
    expect(a.result.message).toContain('step 4 failed: iptables -t raw -A NO_SUCH_CHAIN -j ACCEPT');
    expect(a.result.message).toContain('step 1: ran iptables -t raw -D PREROUTING -p vrrp -j CT --notrack');
    expect(await nodeState(t.root)).toBe(before);
  });

  it('refuses a second apply while one is running', async () => {
    const t = await fresh();
    // long enough for a second node process to start on a loaded machine
    const slowPlan: FixPlan = {
      ...roundTripPlan(true),
      steps: [
        { argv: notrack('PREROUTING', '-A'), undo: [notrack('PREROUTING', '-D')] },
        { argv: ['sleep', '10'], undo: [['true']] },
      ],
    };
    const file = path.join(base, 'slow.json');
    await writeFile(file, JSON.stringify({ plan: slowPlan }));
    const first = start('apply', file, t.env);
    let firstOut = '';
    first.stdout!.on('data', (b: Buffer) => (firstOut += b.toString()));
    // a step has started: the first apply holds the lock (flock) now
    await waitFor('the first apply to start its slow step', async () => firstOut.includes('"type":"step-start","index":1'));
    const second = await drive('apply', { plan: roundTripPlan(true) }, t.env);
    try {
      expect(second.result).toMatchObject({ id: null, exitCode: 3 });
      expect(second.result.message).toContain('another hagw-doctor change is in progress');
      expect((await first).exitCode).toBe(0);
      expect(await readdir(path.join(t.env.HAGW_DOCTOR_STATE_DIR, 'changes'))).toHaveLength(1);
    } finally {
      // the namespace is shared by the tests that follow: leave it as it was whatever happened
      await first;
      for (let i = 0; i < 2; i++) await drive('undo', '', t.env);
    }
  });

  it('SIGTERM during a step: the step finishes, then everything is rolled back', async () => {
    const t = await fresh();
    const before = await nodeState(t.root);
    const plan: FixPlan = {
      ...roundTripPlan(true),
      steps: [
        { argv: notrack('PREROUTING', '-A'), undo: [notrack('PREROUTING', '-D')] },
        { argv: ['sh', '-c', 'sleep 1; iptables -t raw -A OUTPUT -p vrrp -j CT --notrack'], undo: [notrack('OUTPUT', '-D')] },
        { argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'], undo: [['sysctl', '-w', 'net.ipv4.ip_forward=0']] },
      ],
    };
    const file = path.join(base, 'sigterm.json');
    await writeFile(file, JSON.stringify({ plan }));
    const doctor = start('apply', file, t.env);
    let out = '';
    doctor.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    await waitFor('step 2 to start', async () => out.includes('"type":"step-start","index":1'));
    doctor.kill('SIGTERM');
    const r = await doctor;
    const result = JSON.parse(/^RESULT (.*)$/m.exec(String(r.stdout))![1]!);
    expect(result.exitCode).toBe(3);
    expect(result.message).toContain('interrupted by SIGTERM after step 2');
    // step 2 ran to its end (its undo succeeded), step 3 never ran
    expect(result.message).toContain('step 2: ran iptables -t raw -D OUTPUT -p vrrp -j CT --notrack');
    expect(result.message).toMatch(/step 3 not-run/);
    expect(await nodeState(t.root)).toBe(before);
  });

  it('commit-confirmed: the detached timer rolls back after the doctor is SIGKILLed', async () => {
    const t = await fresh();
    const before = await nodeState(t.root);
    const file = path.join(base, 'confirm.json');
    await writeFile(file, JSON.stringify({ plan: roundTripPlan(true), confirmTimeout: 2, hang: true }));
    const doctor = start('apply', file, t.env);
    let out = '';
    doctor.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const result = await waitFor('the apply result', async () => /^RESULT (.*)$/m.exec(out)?.[1]);
    expect(JSON.parse(result)).toMatchObject({ exitCode: 0, state: 'pending' });
    expect(await nodeState(t.root)).toContain('-A PREROUTING -p vrrp -j CT --notrack');
    doctor.kill('SIGKILL');
    await doctor;
    await waitFor('the timer to roll back', async () => (await nodeState(t.root)) === before, 30_000);
    const id = JSON.parse(result).id as string;
    const m = JSON.parse(await readFile(path.join(t.env.HAGW_DOCTOR_STATE_DIR, 'changes', id, 'manifest.json'), 'utf8'));
    expect(m.state).toBe('rolled-back');
    expect(m.rollbacks[0].reason).toBe('timer');
  });

  it('commit-confirmed: a confirmed change stays after the deadline', async () => {
    const t = await fresh();
    // a window wide enough for a loaded machine to start the confirming process in time
    const a = await drive('apply', { plan: roundTripPlan(true), confirmTimeout: 8 }, t.env);
    expect(a.result).toMatchObject({ exitCode: 0, state: 'pending' });
    const c = await drive('confirm', '', t.env);
    expect(c.result.exitCode, c.result.message).toBe(0);
    const m = JSON.parse(await readFile(path.join(t.env.HAGW_DOCTOR_STATE_DIR, 'changes', a.result.id!, 'manifest.json'), 'utf8'));
    expect(m.state).toBe('confirmed');
    await waitFor(
      'the deadline to pass and the timer to be gone',
      async () => Date.now() > Date.parse(m.confirm.deadline) + 500 && !existsSync(`/proc/${m.confirm.timerPid}/cmdline`),
    );
    expect(await nodeState(t.root)).toContain('-A PREROUTING -p vrrp -j CT --notrack');
    expect((await drive('undo', '', t.env)).result.exitCode).toBe(0);
  });
});

describe('hagw-doctor fix on the lab pair (real CLI)', () => {
  let lab: Lab;
  beforeAll(async () => {
    requireRoot();
    lab = await createLab();
    await lab.scenario('ip-forward-off', 'gw1');
  });
  afterAll(() => lab?.destroy());

  // read from the state dir: `changes --json` is swallowed by the root program's own --json (src/cli.ts)
  const changeStates = async () => {
    const dir = path.join(lab.runDir, 'doctor', 'gw1', 'state', 'changes');
    const ids = await readdir(dir).catch(() => [] as string[]);
    return Promise.all(
      ids.sort().map(async (id) => JSON.parse(await readFile(path.join(dir, id, 'manifest.json'), 'utf8')) as { state: string; findings: string[] }),
    );
  };
  const forward = async () => (await lab.exec('gw1', ['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim();

  it('without --yes and without a TTY: exit 3 naming --yes, nothing changed', async () => {
    const dropIn = await lab.readEtc('gw1', 'sysctl.d/90-hagw-doctor.conf').catch(() => null);
    const r = await lab.doctor('gw1', ['fix', 'ip-forward-off']);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toContain('--yes');
    expect(r.stdout).toContain('sysctl -w net.ipv4.ip_forward=1');
    expect(await forward()).toBe('0');
    expect(await lab.readEtc('gw1', 'sysctl.d/90-hagw-doctor.conf').catch(() => null)).toBe(dropIn);
    expect(await changeStates()).toEqual([]);
  });

  it('--yes applies and re-checks (exit 0); undo restores forwarding and the drop-in', async () => {
    const dropIn = await lab.readEtc('gw1', 'sysctl.d/90-hagw-doctor.conf').catch(() => null);
    const r = await lab.doctor('gw1', ['fix', 'ip-forward-off', '--yes']);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(await forward()).toBe('1');
    expect(await lab.readEtc('gw1', 'sysctl.d/90-hagw-doctor.conf')).toContain('net.ipv4.ip_forward = 1');
    expect(await changeStates()).toMatchObject([{ state: 'confirmed', findings: ['ip-forward-off'] }]);
    const listed = await lab.doctor('gw1', ['changes']);
    expect(listed.stdout).toMatch(/confirmed .*ip-forward-off/);
    const u = await lab.doctor('gw1', ['undo', '--yes']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(await forward()).toBe('0');
    expect(await lab.readEtc('gw1', 'sysctl.d/90-hagw-doctor.conf').catch(() => null)).toBe(dropIn);
  });
});
