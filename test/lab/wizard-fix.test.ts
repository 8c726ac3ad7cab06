// Per-instance fixes from the app stick (issue 12): in a real terminal (node-pty) inside a lab
// gateway whose own nft firewall drops VRRP for both instances, fixing one instance's
// vrrp-input-blocked is judged on that instance (the other still has the code) and kept; the
// list then shows the host as it is. Then "e" (every instance) fixes the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pty from 'node-pty';
import xterm from '@xterm/headless';
import { createLab, REPO_ROOT, requireRoot, type Lab } from './harness.js';

requireRoot();

const COLS = 100;
const ROWS = 30;
const KEY = { enter: '\r', esc: '\u001b' };

class Screen {
  readonly term = new xterm.Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true });
  readonly proc: pty.IPty;
  exit: number | undefined;
  constructor(ns: string, cwd: string, env: Record<string, string>) {
    this.proc = pty.spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(REPO_ROOT, 'bin', 'hagw-doctor')], {
      name: 'xterm-256color',
      cols: COLS,
      rows: ROWS,
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', TERM: 'xterm-256color', LANG: 'C.UTF-8', NO_COLOR: '1', ...env },
    });
    this.proc.onData((d) => this.term.write(d));
    this.proc.onExit(({ exitCode }) => (this.exit = exitCode));
  }
  text(): string {
    const b = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < ROWS; i++) out.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? '');
    return out.join('\n');
  }
  async waitFor(want: string | RegExp | ((s: string) => boolean), timeoutMs = 60_000): Promise<string> {
    const ok = typeof want === 'string' ? (s: string) => s.includes(want) : want instanceof RegExp ? (s: string) => want.test(s) : want;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.text();
      if (ok(s)) return s;
      if (this.exit !== undefined) throw new Error(`the app exited (${this.exit}); screen:\n${s}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(want)}; screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  async press(keys: string, until: string | RegExp | ((s: string) => boolean)): Promise<string> {
    this.proc.write(keys);
    return this.waitFor(until);
  }
  /** Moves the list cursor down until the focused row matches (a key the list missed is sent again). */
  async focus(row: RegExp): Promise<string> {
    let cur = this.text();
    for (let i = 0; i < 30 && !row.test(cur); i++) {
      const before = cur;
      this.proc.write('j');
      cur = await this.waitFor((x) => x !== before, 2000).catch(() => this.text());
    }
    expect(cur).toMatch(row);
    return cur;
  }
  kill(): void {
    if (this.exit === undefined) this.proc.kill();
    this.term.dispose();
  }
}

describe('per-instance fixes from the app', () => {
  let lab: Lab;
  let work: string;
  const screens: Screen[] = [];
  const state = () => path.join(work, 'state');

  beforeAll(async () => {
    lab = await createLab();
    work = mkdtempSync(path.join(lab.runDir, 'wizard-fix-'));
    // gw2's own nft firewall drops every advert: both instances' adverts are blocked
    await lab.execOk('gw2', ['nft', 'add', 'table', 'inet', 'fw']);
    await lab.execOk('gw2', ['nft', 'add', 'chain', 'inet', 'fw', 'input', '{ type filter hook input priority 0 ; policy accept ; }']);
    await lab.execOk('gw2', ['nft', 'add', 'rule', 'inet', 'fw', 'input', 'ip', 'protocol', 'vrrp', 'drop']);
  }, 120_000);
  afterAll(async () => {
    for (const s of screens) s.kill();
    if (work) rmSync(work, { recursive: true, force: true });
    await lab?.destroy();
  });

  const accepts = async () =>
    (await lab.execOk('gw2', ['nft', 'list', 'chain', 'inet', 'fw', 'input'])).stdout
      .split('\n')
      .filter((l) => /ip saddr \S+ accept/.test(l))
      .map((l) => l.trim());
  const manifests = () =>
    readdirSync(path.join(state(), 'changes'))
      .sort()
      .map((id) => JSON.parse(readFileSync(path.join(state(), 'changes', id, 'manifest.json'), 'utf8')) as { state: string; findings: string[] });

  it('fixing one instance keeps the change although the other instance still has the code; "e" then fixes every instance', async () => {
    const s = new Screen(lab.nodes.gw2, work, {
      HAGW_DOCTOR_STATE_DIR: state(),
      HAGW_DOCTOR_LOCK: path.join(work, 'lock'),
      HAGW_DOCTOR_LOG: path.join(work, 'log'),
    });
    screens.push(s);
    await s.waitFor('› Diagnose this gateway');
    // the first check has finished (home summarises it)
    await s.waitFor('choose Diagnose');
    await s.press(KEY.enter, 'vrrp-input-blocked');
    const list = await s.waitFor((x) => (x.match(/vrrp-input-blocked \[/g) ?? []).length >= 2);
    const instances = [...list.matchAll(/vrrp-input-blocked \[(\w+)\]/g)].map((m) => m[1]!);
    expect(new Set(instances).size).toBeGreaterThanOrEqual(2);
    const first = instances[0]!;
    const other = instances.find((i) => i !== first)!;
    await s.focus(new RegExp(`› vrrp-input-blocked \\[${first}\\]`));
    await s.press(KEY.enter, 'Why it matters');
    await s.press('f', `Fix vrrp-input-blocked [${first}]`);
    await s.waitFor('nft insert rule');
    await s.waitFor(`scope: only vrrp-input-blocked [${first}]`);
    await s.press('a', 'Type "apply"');
    await s.press('apply', '> apply');
    const done = await s.press(KEY.enter, (x) => /Applied\.|Still reported|Refused|Failed/.test(x));
    expect(done).toContain(`Applied. vrrp-input-blocked [${first}] is gone from the re-check.`);
    expect(await accepts()).toHaveLength(1);
    expect(manifests().at(-1)).toMatchObject({ state: 'confirmed', findings: ['vrrp-input-blocked'] });

    // the list is the host as it is now: the other instance only
    const after = await s.press(KEY.esc, `vrrp-input-blocked [${other}]`);
    expect(after).not.toContain(`vrrp-input-blocked [${first}]`);

    // undo it from the command line (the same node, the same state), then "e": every instance at once
    s.proc.write('q');
    const u = await lab.doctor('gw2', ['undo', '--yes'], {
      HAGW_DOCTOR_STATE_DIR: state(),
      HAGW_DOCTOR_LOCK: path.join(work, 'lock'),
      HAGW_DOCTOR_LOG: path.join(work, 'log'),
    });
    expect(u.exitCode, u.stderr).toBe(0);
    expect(await accepts()).toHaveLength(0);

    const s2 = new Screen(lab.nodes.gw2, work, {
      HAGW_DOCTOR_STATE_DIR: state(),
      HAGW_DOCTOR_LOCK: path.join(work, 'lock'),
      HAGW_DOCTOR_LOG: path.join(work, 'log'),
    });
    screens.push(s2);
    await s2.waitFor('› Diagnose this gateway');
    await s2.waitFor('choose Diagnose');
    await s2.press(KEY.enter, (x) => (x.match(/vrrp-input-blocked \[/g) ?? []).length >= 2);
    await s2.focus(new RegExp(`› vrrp-input-blocked \\[${first}\\]`));
    await s2.press(KEY.enter, 'Why it matters');
    await s2.press('f', `Fix vrrp-input-blocked [${first}]`);
    await s2.waitFor('nft insert rule');
    await s2.press('e', 'scope: every instance of vrrp-input-blocked');
    const both = await s2.waitFor((x) => (x.match(/nft insert rule/g) ?? []).length >= 2);
    expect(both).toContain('Fix every vrrp-input-blocked (2)');
    await s2.press('a', 'Type "apply"');
    await s2.press('apply', '> apply');
    const done2 = await s2.press(KEY.enter, (x) => /Applied\.|Still reported|Refused|Failed/.test(x));
    expect(done2).toMatch(/Applied\. vrrp-input-blocked \[\w+\], vrrp-input-blocked \[\w+\] are gone from the re-check\./);
    expect(await accepts()).toHaveLength(2);
    const final = await s2.press(KEY.esc, (x) => !x.includes('Fix every'));
    expect(final).not.toContain('vrrp-input-blocked [');
    expect(manifests().map((m) => m.state)).toEqual(['rolled-back', 'confirmed']);
  });
});
