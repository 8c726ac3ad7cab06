// The wizard end to end: bin/hagw-doctor in a real pseudo-terminal (node-pty) inside a lab node,
// its output rendered by a terminal emulator (@xterm/headless), keys typed, the visible screen read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import pty from 'node-pty';
import xterm from '@xterm/headless';
import { ADDR, createLab, REPO_ROOT, requireRoot, type Lab } from './harness.js';

requireRoot();

const COLS = 80;
const ROWS = 24;
const KEY = { enter: '\r', esc: '\u001b', down: '\u001b[B', ctrlC: '\u0003' };

/** The app in a pty inside a namespace, seen through a terminal emulator of 80x24. */
class Screen {
  readonly term = new xterm.Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true });
  readonly proc: pty.IPty;
  raw = '';
  exit: number | undefined;

  constructor(ns: string, cwd: string, env: Record<string, string>) {
    this.proc = pty.spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(REPO_ROOT, 'bin', 'hagw-doctor')], {
      name: 'xterm-256color',
      cols: COLS,
      rows: ROWS,
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', TERM: 'xterm-256color', LANG: 'C.UTF-8', ...env },
    });
    this.proc.onData((d) => {
      this.raw += d;
      this.term.write(d);
    });
    this.proc.onExit(({ exitCode }) => (this.exit = exitCode));
  }

  /** What a person would see now: the 24 visible rows. */
  text(): string {
    const b = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < ROWS; i++) out.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? '');
    return out.join('\n');
  }

  async waitFor(want: string | ((screen: string) => boolean), timeoutMs = 60_000): Promise<string> {
    const ok = typeof want === 'string' ? (s: string) => s.includes(want) : want;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.text();
      if (ok(s)) return s;
      if (this.exit !== undefined) throw new Error(`the app exited (${this.exit}) while waiting for ${String(want)}; screen:\n${s}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof want === 'string' ? JSON.stringify(want) : 'a condition'}; screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Type keys, then wait for the screen they lead to. */
  async press(keys: string, until: string | ((screen: string) => boolean)): Promise<string> {
    this.proc.write(keys);
    return this.waitFor(until);
  }

  async exited(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.exit === undefined) {
      if (Date.now() > deadline) throw new Error(`the app did not exit; screen:\n${this.text()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.exit;
  }

  kill(): void {
    if (this.exit === undefined) this.proc.kill();
    this.term.dispose();
  }
}

describe('the wizard in a real terminal, inside a lab gateway', () => {
  let lab: Lab;
  let work: string;
  const screens: Screen[] = [];
  const open = (node: 'gw1' | 'gw2', extraEnv: Record<string, string> = {}) => {
    const s = new Screen(lab.nodes[node], work, {
      HAGW_DOCTOR_STATE_DIR: path.join(work, node, 'state'),
      HAGW_DOCTOR_LOCK: path.join(work, node, 'hagw-doctor.lock'),
      HAGW_DOCTOR_LOG: path.join(work, node, 'hagw-doctor.log'),
      ...extraEnv,
    });
    screens.push(s);
    return s;
  };

  beforeAll(async () => {
    lab = await createLab();
    work = mkdtempSync(path.join(lab.runDir, 'wizard-'));
  });

  afterAll(async () => {
    for (const s of screens) s.kill();
    if (work) rmSync(work, { recursive: true, force: true });
    await lab?.destroy();
  });

  it('home, then Diagnose shows the seeded finding; its fix applied through the engine clears it on re-check', async () => {
    await lab.scenario('ip-forward-off');
    const s = open('gw1', { NO_COLOR: '1' });
    const home = await s.waitFor((x) => x.includes('› Diagnose this gateway') && x.includes('keepalived 2.2.7'));
    expect(home).toContain('Set up a new HA pair');
    expect(home).toContain('Failover triage');
    expect(home).toContain('Generate configs');
    expect(home).toMatch(/q quit/);
    await s.waitFor('MASTER'); // the header's role, once the background check is done

    await s.press(KEY.enter, 'CRITICAL (');
    let list = await s.waitFor('ip-forward-off');
    // move to the seeded finding's row
    for (let i = 0; i < 20 && !/› ip-forward-off/.test(list); i++) {
      const before = list;
      list = await s.press('j', (x) => x !== before);
    }
    expect(list).toMatch(/› ip-forward-off/);

    await s.press(KEY.enter, 'Why it matters');
    await s.press('f', 'Fix ip-forward-off');
    const preview = await s.waitFor('sysctl -w net.ipv4.ip_forward=1');
    expect(preview).toContain('risk: safe');
    await s.press('a', 'Apply these');
    await s.press('y', (x) => x.includes('Applied.') || x.includes('Still reported') || x.includes('Refused') || x.includes('Failed'));
    const result = await s.waitFor('Applied. ip-forward-off is gone from the re-check.');
    expect(result).not.toContain('ROLLBACK');
    expect((await lab.exec('gw1', ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');

    const after = await s.press(KEY.esc, 'Diagnose this gateway');
    expect(after).not.toMatch(/ip-forward-off\s/);
    // NO_COLOR: not one colour escape in everything the app wrote
    expect(s.raw).not.toMatch(/\u001b\[(3|4|9|10)\dm/);

    s.proc.write('q');
    expect(await s.exited()).toBeLessThan(3);
  });

  it('setup produces a config that keepalived -t accepts, and the peer command', async () => {
    const s = open('gw2');
    await s.waitFor((x) => x.includes('› Diagnose this gateway') && x.includes('keepalived 2.2.7'));
    await s.press('j', '› Set up a new HA pair');
    await s.press(KEY.enter, 'Role of this node');
    await s.press(KEY.enter, 'LAN interface');
    const iface = await s.waitFor('eth0');
    expect(iface).toContain(`${ADDR.gw2.lan}/24`);
    // the focused interface may not be eth0: move to it
    let cur = iface;
    for (let i = 0; i < 5 && !/› eth0/.test(cur); i++) {
      const before = cur;
      cur = await s.press('j', (x) => x !== before);
    }
    await s.press(KEY.enter, 'LAN VIP');
    await s.press(`${ADDR.lanVip}/24`, `> ${ADDR.lanVip}/24`);
    const self = await s.press(KEY.enter, "This node's address");
    expect(self).toContain(`> ${ADDR.gw2.lan}`);
    await s.press(KEY.enter, "The peer's address");
    await s.press('not-an-ip', '> not-an-ip');
    await s.press(KEY.enter, 'not an IPv4 address');
    await s.press('\u0015', (x) => !x.includes('> not-an-ip'));
    await s.press(ADDR.gw1.lan, `> ${ADDR.gw1.lan}`);
    await s.press(KEY.enter, 'How adverts travel');
    await s.press(KEY.enter, 'Virtual router id');
    await s.press(KEY.enter, 'VRRP priority');
    await s.press(KEY.enter, 'Client networks to SNAT');
    await s.press(KEY.enter, 'Destinations never SNATed');
    await s.press(KEY.enter, 'WAN interface');
    let wan = await s.waitFor('eth1');
    for (let i = 0; i < 5 && !/› eth1/.test(wan); i++) {
      const before = wan;
      wan = await s.press('j', (x) => x !== before);
    }
    await s.press(KEY.enter, 'SNAT address');
    await s.press(`${ADDR.wanVip}/24`, `> ${ADDR.wanVip}/24`);
    const review = await s.press(KEY.enter, 'review 1/');
    expect(review).toContain('keepalived.conf');
    await s.press(KEY.enter, 'Write the files to a directory');
    await s.press(KEY.enter, 'Directory to write');
    const done = await s.press(KEY.enter, (x) => x.includes('On the peer') || x.includes('✗'));
    expect(done).toContain('✓');
    expect(done.replace(/\n/g, '')).toContain('hagw-doctor generate --role backup --interface eth0');

    const conf = path.join(work, 'hagw-master', 'keepalived.conf');
    const t = await lab.exec('gw2', ['keepalived', '-t', '-f', conf]);
    expect({ exit: t.exitCode, out: t.stderr + t.stdout }).toMatchObject({ exit: 0 });

    s.proc.write(KEY.ctrlC);
    await s.exited();
  });
});
