// "Set up a new HA pair" in the app with --peer: `hagw-doctor app --peer gw2` in a real terminal
// on gw1 (pty-screen.ts), real SSH to gw2 (sshd.ts). Both halves are reviewed, this node's half is
// installed through gw1's change engine and the peer's through gw2's own hagw-doctor (its preview
// and plan, the typed consent here, its backup and re-check there), then "Check both nodes" shows
// the pair: keepalived running on both, the VIP on gw1 only. Before that, gw2 without a
// hagw-doctor: one line says so and nothing changes there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ADDR, createLab, requireRoot, type Lab } from './harness.js';
import { startLabSsh, type LabSsh } from './sshd.js';
import { KEY, PtyScreen, flat } from './pty-screen.js';

requireRoot();

describe('app --peer: set up a new pair, both halves installed from one node', () => {
  let lab: Lab;
  let ssh: LabSsh;
  let s: PtyScreen | undefined;

  beforeAll(async () => {
    // the lab pair runs its own keepalived config (gw1 master); the new pair replaces it on both nodes
    lab = await createLab();
    ssh = await startLabSsh(lab);
  }, 120_000);
  afterAll(async () => {
    s?.kill();
    await lab?.destroy();
  });

  /** j or k until the menu's cursor (›) is on the row that starts with `label` */
  const focus = async (screen: PtyScreen, label: string) => {
    for (let i = 0; i < 12; i++) {
      const text = screen.text();
      const lines = text.split('\n');
      const cur = lines.findIndex((l) => l.trimStart().startsWith('›'));
      const want = lines.findIndex((l) => l.replace('›', ' ').trimStart().startsWith(label));
      if (want >= 0 && want === cur) return text;
      screen.proc.write(want > cur ? 'j' : 'k');
      await screen.waitFor((x) => x !== text, 2000).catch(() => undefined);
    }
    throw new Error(`the menu's cursor never reached ${label}; screen:\n${screen.text()}`);
  };
  /** keys, then a slow screen (an install, a diagnosis over SSH) */
  const pressSlow = (screen: PtyScreen, keys: string, until: (x: string) => boolean, timeoutMs: number) => {
    screen.proc.write(keys);
    return screen.waitFor(until, timeoutMs);
  };
  const gw2Changes = async () => JSON.stringify((await lab.doctor('gw2', ['changes', '--json'])).json);

  it('installs this node’s half and the peer’s half (through its own hagw-doctor), then checks both nodes', async () => {
    const d = path.join(lab.runDir, 'doctor', 'gw1');
    s = new PtyScreen(
      lab.nodes.gw1,
      lab.runDir,
      {
        HAGW_DOCTOR_STATE_DIR: path.join(d, 'state'),
        HAGW_DOCTOR_LOCK: path.join(d, 'hagw-doctor.lock'),
        HAGW_DOCTOR_LOG: path.join(d, 'hagw-doctor.log'),
      },
      { args: ['app', '--peer', 'gw2', '--ssh-config', ssh.configPath], cols: 120, rows: 40 },
    );
    await s.waitFor('› Diagnose this gateway');
    await s.press('j', '› Set up a new HA pair');
    await s.press(KEY.enter, 'Role of this node');
    await s.press(KEY.enter, 'LAN interface');
    await s.waitFor('eth0');
    await focus(s, 'eth0');
    await s.press(KEY.enter, 'LAN VIP');
    await s.press(`${ADDR.lanVip}/24`, `> ${ADDR.lanVip}/24`);
    await s.press(KEY.enter, `> ${ADDR.gw1.lan}`);
    await s.press(KEY.enter, "The peer's address");
    await s.press(ADDR.gw2.lan, `> ${ADDR.gw2.lan}`);
    await s.press(KEY.enter, 'How adverts travel');
    await s.press(KEY.enter, 'Virtual router id');
    // the lab pair's VRID is in use: the default is a free one, which the new pair takes
    const vrid = /> (\d+)/.exec(await s.waitFor((x) => /> \d+/.test(x)))![1]!;
    await s.press(KEY.enter, 'VRRP priority');
    await s.press(KEY.enter, 'Client networks to SNAT');
    await s.press(KEY.enter, 'Destinations never SNATed');
    await s.press(KEY.enter, 'WAN interface');
    await s.waitFor('eth1');
    await focus(s, 'eth1');
    await s.press(KEY.enter, 'SNAT address');
    await s.press(`${ADDR.wanVip}/24`, `> ${ADDR.wanVip}/24`);
    await s.press(KEY.enter, 'review 1/');
    const menu = await s.press(KEY.enter, "Install the peer's half on gw2 through its own hagw-doctor");
    expect(menu).toContain("Install this node's half on this host");
    expect(menu).toContain(`this node (master ${ADDR.gw1.lan}): not installed yet`);
    expect(menu).toContain(`peer gw2 (backup ${ADDR.gw2.lan}): not installed yet`);
    expect(menu).not.toContain('Check both nodes');

    // gw2 without a hagw-doctor: one line says so, and nothing changes there
    await ssh.uninstallDoctor('gw2');
    const confBefore = await lab.readEtc('gw2', 'keepalived/keepalived.conf');
    const changesBefore = await gw2Changes();
    await focus(s, "Install the peer's half");
    const none = await s.press(KEY.enter, '✗ gw2 has no hagw-doctor on its PATH');
    const why = none.split('\n').filter((l) => l.includes('✗'));
    expect(why).toHaveLength(1);
    expect(flat(none)).toContain('gw2 has no hagw-doctor on its PATH, so it cannot install its member itself');
    expect(flat(none)).toContain('nothing installed there');
    expect(await lab.readEtc('gw2', 'keepalived/keepalived.conf')).toBe(confBefore);
    expect(await gw2Changes()).toBe(changesBefore);
    await s.press(KEY.esc, `peer gw2 (backup ${ADDR.gw2.lan}): ✗ not installed: gw2 has no hagw-doctor`);

    // this node's half, through gw1's change engine (typed consent)
    await focus(s, "Install this node's half");
    await s.press(KEY.enter, 'Type "apply"');
    await s.press('apply', '> apply');
    const mine = await pressSlow(s, KEY.enter, (x) => /change \S+: applied|✗|FAILED|rolled back/.test(x) && /Esc back/.test(x), 180_000);
    expect(mine, mine).toMatch(/change \S+: applied; the re-check no longer reports/);
    const menu2 = await s.press(KEY.esc, `this node (master ${ADDR.gw1.lan}): ✓ installed`);
    expect(menu2).toContain('Check both nodes');

    // the peer's half, through gw2's own hagw-doctor: its preview and plan, the typed consent here
    await ssh.installDoctor('gw2');
    await focus(s, "Install the peer's half");
    // the whole frame: the preview and, last drawn, the footer with its keys
    const preview = await pressSlow(s, KEY.enter, (x) => (x.includes('plan sha256:') && /Esc cancel/.test(x)) || /^✗ /m.test(x), 120_000);
    expect(preview).toContain(`gw2's own hagw-doctor would install its member (backup, ${ADDR.gw2.lan})`);
    expect(preview).toMatch(/plan sha256:[0-9a-f]{64}/);
    // a change made over SSH: commit-confirmed unless turned off
    expect(flat(preview)).toContain('commit-confirmed: on: gw2 rolls the change back by itself unless you keep it from here within 120 s');
    expect(await lab.readEtc('gw2', 'keepalived/keepalived.conf')).toBe(confBefore);
    await s.press(KEY.enter, 'Type "apply"');
    // a wrong word installs nothing
    await s.press('yes', '> yes');
    await s.press(KEY.enter, '"yes" is not "apply": nothing installed on gw2');
    expect(await lab.readEtc('gw2', 'keepalived/keepalived.conf')).toBe(confBefore);
    await s.press('\u0015apply', '> apply');
    // the whole frame: its result and, last drawn, the footer with its keys
    const theirs = await pressSlow(s, KEY.enter, (x) => (x.includes("gw2's own result") && /Esc back/.test(x)) || /^✗ /m.test(x), 300_000);
    expect(flat(theirs), theirs).toContain('✓ installed on gw2 by its own hagw-doctor, pending: it rolls back there by itself at');
    expect(theirs).toContain('Enter keep the change on gw2');
    expect(theirs).toContain('change ');
    // pending on gw2 itself: its own change log says so, with its deadline
    const installChange = async () =>
      ((await lab.doctor('gw2', ['changes', '--json'])).json as Array<{ summary: string; state: string; confirmDeadline: string | null }>).find((c) =>
        c.summary.includes('install the generated pair member'),
      );
    expect(await installChange()).toMatchObject({ state: 'pending', confirmDeadline: expect.any(String) });
    // its own last lines (G: the end of the scrollable result): its re-check and the change applied
    const end = await s.press('G', (x) => /change \S+: applied/.test(flat(x)));
    expect(flat(end)).toMatch(/re-check/);
    // Enter keeps it: gw2's own `hagw-doctor confirm`, over SSH
    const kept = await pressSlow(s, KEY.enter, (x) => /and kept|✗ /.test(flat(x)), 60_000);
    expect(flat(kept), kept).toContain('installed on gw2 by its own hagw-doctor and kept');
    expect(await installChange()).toMatchObject({ state: 'confirmed' });
    const menu3 = await s.press(KEY.esc, `peer gw2 (backup ${ADDR.gw2.lan}): ✓ installed`);
    expect(menu3).toContain(`this node (master ${ADDR.gw1.lan}): ✓ installed`);
    expect(menu3).toMatch(/› Check both nodes/);

    // the real hosts: gw2 runs the generated backup member, keepalived -t accepts it; the VIP on gw1 only
    const conf = await lab.readEtc('gw2', 'keepalived/keepalived.conf');
    expect(conf).toContain('router_id hagw_backup');
    expect(conf).toContain(`unicast_src_ip ${ADDR.gw2.lan}`);
    expect(conf).toContain(`virtual_router_id ${vrid}`);
    expect(conf).toMatch(/priority 100\n/);
    const t = await lab.exec('gw2', ['keepalived', '-t', '-f', '/etc/keepalived/keepalived.conf']);
    expect(t.exitCode, t.stderr + t.stdout).toBe(0);
    expect(await installChange()).toMatchObject({ state: 'confirmed' });
    await lab.waitForMaster('gw1');
    await lab.waitForNoVip('gw2');
    const ipAddr = await lab.execOk('gw1', ['ip', '-4', 'addr', 'show', 'dev', 'eth0']);
    expect(ipAddr.stdout).toContain(`inet ${ADDR.lanVip}/24`);
    expect(lab.keepalivedPid('gw1')).toBeGreaterThan(0);
    expect(lab.keepalivedPid('gw2')).toBeGreaterThan(0);

    // Check both nodes: Diagnose with the pair view
    const pair = await pressSlow(s, KEY.enter, (x) => /PAIR|PEER UNREACHABLE/.test(x) && /checks:/.test(x), 180_000);
    expect(pair).toMatch(/Pair\s+this node \(\S+\)\s+peer gw2/);
    expect(pair).toMatch(/role\s+MASTER\s+BACKUP/);
    expect(pair).toMatch(new RegExp(`holds ${ADDR.lanVip.replace(/\./g, '\\.')}[^\\n]*holds no VIP`));

    s.proc.write(KEY.ctrlC);
    await s.exited(20_000);
  }, 900_000);
});
