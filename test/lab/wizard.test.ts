// The wizard end to end: bin/hagw-doctor in a real pseudo-terminal inside a lab node (pty-screen.ts:
// node-pty, rendered by @xterm/headless at 80x24), keys typed, the visible screen read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ADDR, createLab, requireRoot, type Lab } from './harness.js';
import { KEY, PtyScreen } from './pty-screen.js';

requireRoot();

describe('the wizard in a real terminal, inside a lab gateway', () => {
  let lab: Lab;
  let work: string;
  const screens: PtyScreen[] = [];
  const open = (node: 'gw1' | 'gw2', extraEnv: Record<string, string> = {}) => {
    const s = new PtyScreen(lab.nodes[node], work, {
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
    expect(await s.exited(10_000)).toBeLessThan(3);
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
    await s.exited(10_000);
  });
});
