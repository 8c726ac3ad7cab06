// `fix` end to end through runFix, with the pipeline given as functions over a scratch root.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Finding, FixPlan, Report, Snapshot } from '../../../src/types.js';
import type { FindingCode } from '../../../src/codes.js';
import { changesCommand, mergePlans, runFix, type FixDeps } from '../../../src/change/cli.js';
import { listChanges } from '../../../src/change/manifest.js';
import { changePaths, type ChangePaths } from '../../../src/change/paths.js';

let base: string;
let root: string;
let paths: ChangePaths;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'hdchg-fix-'));
  root = path.join(base, 'root');
  await mkdir(path.join(root, 'etc'), { recursive: true });
  paths = changePaths({
    HAGW_DOCTOR_STATE_DIR: path.join(base, 'state'),
    HAGW_DOCTOR_LOCK: path.join(base, 'lock'),
    HAGW_DOCTOR_LOG: path.join(base, 'log'),
    HAGW_DOCTOR_ROOT: root,
  });
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const DROP_IN = '/etc/sysctl.d/90-hagw-doctor.conf';

function fixPlan(risk: FixPlan['risk'] = 'safe'): FixPlan {
  return {
    summary: 'keep forwarding on at boot',
    risk,
    steps: [{ write: { path: DROP_IN, content: 'net.ipv4.ip_forward = 1\n', mode: 0o644 } }],
    touches: { files: [DROP_IN] },
    persistence: { persistent: true, how: DROP_IN },
    verifies: ['ip-forward-not-persistent'],
  };
}

function finding(code: FindingCode, fix?: FixPlan): Finding {
  return { code, severity: 'warning', title: `${code} title`, detail: '', evidence: [], ...(fix ? { fix } : {}) };
}

/** A fake host whose finding disappears once the drop-in exists under the scratch root. */
function deps(
  over: Partial<FixDeps> & { findings?: () => Promise<Finding[]> } = {},
): FixDeps & { outText: () => string; errText: () => string; collects: () => number } {
  let out = '';
  let err = '';
  let collects = 0;
  const findings =
    over.findings ??
    (async () => {
      const present = await stat(path.join(root, DROP_IN)).then(
        () => true,
        () => false,
      );
      return present ? [] : [finding('ip-forward-not-persistent', fixPlan()), finding('vrrp-notrack-missing')];
    });
  let pending: Finding[] = [];
  return {
    collect: async () => {
      collects++;
      pending = await findings();
      return { probes: {} } as unknown as Snapshot;
    },
    analyse: () => ({ findings: pending }) as unknown as Report,
    readSnapshot: async () => {
      pending = await findings();
      return {} as Snapshot;
    },
    ask: null,
    out: (t) => (out += t),
    err: (t) => (err += t),
    isRoot: true,
    paths,
    ...over,
    outText: () => out,
    errText: () => err,
    collects: () => collects,
  };
}

const opts = { dryRun: false, yes: false, color: false };

describe('fix', () => {
  it('without --yes and without a terminal: exit 3 naming --yes, nothing changed', async () => {
    const d = deps();
    expect(await runFix({ ...opts, codes: ['ip-forward-not-persistent'] }, d)).toBe(3);
    expect(d.errText()).toContain('--yes');
    expect(d.outText()).toContain('create /etc/sysctl.d/90-hagw-doctor.conf');
    await expect(stat(path.join(root, DROP_IN))).rejects.toThrow();
    expect(await listChanges(paths.changesDir)).toEqual([]);
  });

  it('--dry-run prints the plan with its diff and changes nothing', async () => {
    const d = deps();
    expect(await runFix({ ...opts, dryRun: true, codes: ['ip-forward-not-persistent'] }, d)).toBe(0);
    expect(d.outText()).toContain('+++ b/etc/sysctl.d/90-hagw-doctor.conf');
    expect(d.outText()).toContain('+net.ipv4.ip_forward = 1');
    expect(d.outText()).toContain('--dry-run: nothing changed');
    await expect(stat(path.join(root, DROP_IN))).rejects.toThrow();
  });

  it('--yes applies, re-checks, and exits 0 when the code is gone', async () => {
    const d = deps();
    expect(await runFix({ ...opts, yes: true, codes: ['ip-forward-not-persistent'] }, d)).toBe(0);
    expect(await readFile(path.join(root, DROP_IN), 'utf8')).toBe('net.ipv4.ip_forward = 1\n');
    expect(d.collects()).toBe(2);
    expect(d.outText()).toContain('re-check: cleared');
    const [m] = await listChanges(paths.changesDir);
    expect(m).toMatchObject({ state: 'confirmed', findings: ['ip-forward-not-persistent'] });
    let listed = '';
    expect(await changesCommand({ json: true }, paths, (t) => (listed += t))).toBe(0);
    expect(JSON.parse(listed)).toMatchObject([{ id: m!.id, state: 'confirmed', summary: 'keep forwarding on at boot' }]);
  });

  it('exits 2 and rolls back when the re-check still reports the code', async () => {
    const d = deps({ findings: async () => [finding('ip-forward-not-persistent', fixPlan())] });
    expect(await runFix({ ...opts, yes: true, codes: ['ip-forward-not-persistent'] }, d)).toBe(2);
    await expect(stat(path.join(root, DROP_IN))).rejects.toThrow();
  });

  it('refuses codes that are unknown or have no fix; a code not reported is nothing to do (exit 0)', async () => {
    const d = deps();
    expect(await runFix({ ...opts, yes: true, codes: ['no-such-code'] }, d)).toBe(3);
    expect(d.errText()).toContain('unknown code no-such-code (see `hagw-doctor codes`)');
    expect(d.errText()).not.toContain('--only');
    // not reported: said so, nothing done, exit 0 (docs/report.md)
    expect(await runFix({ ...opts, yes: true, codes: ['ip-forward-off'] }, d)).toBe(0);
    expect(d.outText()).toContain('ip-forward-off is not reported on this host: nothing to fix');
    expect(await runFix({ ...opts, yes: true, codes: ['vrrp-notrack-missing'] }, d)).toBe(3);
    expect(d.errText()).toContain('has no automatic fix');
    expect(await listChanges(paths.changesDir)).toEqual([]);
  });

  it('refuses to apply when not root, but still previews', async () => {
    const d = deps({ isRoot: false });
    expect(await runFix({ ...opts, yes: true, codes: ['ip-forward-not-persistent'] }, d)).toBe(3);
    expect(d.errText()).toContain('needs root');
  });

  it('asks y/N on a terminal for a safe plan', async () => {
    const asked: string[] = [];
    const no = deps({ ask: async (q) => (asked.push(q), 'n') });
    expect(await runFix({ ...opts, codes: ['ip-forward-not-persistent'] }, no)).toBe(3);
    expect(asked[0]).toContain('[y/N]');
    const yes = deps({ ask: async () => 'y' });
    expect(await runFix({ ...opts, codes: ['ip-forward-not-persistent'] }, yes)).toBe(0);
  });

  it('a disruptive plan needs the typed word, not y', async () => {
    const disruptive = async () =>
      (await stat(path.join(root, DROP_IN)).then(
        () => true,
        () => false,
      ))
        ? []
        : [finding('vrrp-input-blocked', { ...fixPlan('disruptive'), verifies: ['vrrp-input-blocked'] })];
    const y = deps({ findings: disruptive, ask: async () => 'y' });
    expect(await runFix({ ...opts, codes: ['vrrp-input-blocked'] }, y)).toBe(3);
    expect(y.outText()).toContain('Risk: disruptive');
    const typed = deps({ findings: disruptive, ask: async (q) => (q.includes('Type "apply"') ? 'apply' : 'n') });
    expect(await runFix({ ...opts, codes: ['vrrp-input-blocked'] }, typed)).toBe(0);
  });

  it('--from previews a recorded snapshot and never applies', async () => {
    const d = deps();
    expect(await runFix({ ...opts, yes: true, from: 'demo.json', codes: ['ip-forward-not-persistent'] }, d)).toBe(0);
    expect(d.outText()).toContain('never applied');
    await expect(stat(path.join(root, DROP_IN))).rejects.toThrow();
  });
});

describe('mergePlans', () => {
  it('joins plans into one change and keeps identical plans once', () => {
    const a = fixPlan();
    const b: FixPlan = {
      ...fixPlan('disruptive'),
      summary: 'b',
      steps: [{ argv: ['iptables', '-I', 'INPUT', '-p', 'vrrp', '-j', 'ACCEPT'], undo: [['iptables', '-D', 'INPUT', '-p', 'vrrp', '-j', 'ACCEPT']] }],
      touches: { iptables: ['filter'] },
      verifies: ['vrrp-input-blocked'],
    };
    expect(mergePlans([a, a])).toBe(a);
    const m = mergePlans([a, b]);
    expect(m.risk).toBe('disruptive');
    expect(m.steps).toHaveLength(2);
    expect(m.touches).toMatchObject({ files: [DROP_IN], iptables: ['filter'] });
    expect(m.verifies).toEqual(['ip-forward-not-persistent', 'vrrp-input-blocked']);
  });
});
