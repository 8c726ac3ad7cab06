// Triage and the terminal, end to end: the real program in a real pseudo-terminal inside the lab's
// gateways. A failover shows in Triage with no key pressed; keys that arrive together (a burst, a
// paste with Enter, a run of Backspaces) are all taken; long commands are shown whole at 80
// columns; Esc and Home work from every screen; TERM=dumb gets the text report; the scrollback is
// never erased; 60x20 stays usable after a resize.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { ADDR, createLab, requireRoot, type Lab } from './harness.js';
import { KEY, PtyScreen, flat } from './pty-screen.js';

requireRoot();

const HOME = 'What do you want to do?';
const ERASE_SCROLLBACK = '\u001b[3J';

describe('Triage and the terminal, in the lab', () => {
  let lab: Lab;
  let work: string;
  const screens: PtyScreen[] = [];
  const open = (node: 'gw1' | 'gw2', opts: ConstructorParameters<typeof PtyScreen>[3] = {}, env: Record<string, string> = {}) => {
    const s = new PtyScreen(
      lab.nodes[node],
      work,
      {
        NO_COLOR: '1',
        HAGW_DOCTOR_STATE_DIR: path.join(work, node, 'state'),
        HAGW_DOCTOR_LOCK: path.join(work, node, 'hagw-doctor.lock'),
        HAGW_DOCTOR_LOG: path.join(work, node, 'hagw-doctor.log'),
        ...env,
      },
      opts,
    );
    screens.push(s);
    return s;
  };
  const ready = (s: PtyScreen) => s.waitFor((x) => x.includes('› Diagnose this gateway') && x.includes('keepalived 2.2.7'));

  beforeAll(async () => {
    lab = await createLab();
    work = mkdtempSync(path.join(lab.runDir, 'triage-'));
  });

  afterAll(async () => {
    for (const s of screens) s.kill();
    await lab?.destroy();
  });

  it('TERM=dumb, an unknown TERM: the text report, never the full-screen app', async () => {
    for (const term of ['dumb', 'foo-unknown']) {
      const s = open('gw2', { term });
      const code = await s.exited();
      expect(code, s.raw).toBeLessThan(3);
      expect(s.all()).toMatch(/\(\d+ checks: /);
      expect(s.raw).not.toContain(ERASE_SCROLLBACK);
      expect(s.raw).not.toContain('\u001b[?25l'); // Ink hides the cursor: it never started
      expect(s.raw).not.toContain('\u001b[2J');
    }
  });

  it('a paste with Enter and a run of Backspaces in one read are all taken; Home goes home from the form, Esc from Diagnose', async () => {
    const s = open('gw2');
    await ready(s);
    await s.press(`j${KEY.enter}`, 'Role of this node'); // two keys in one write
    await s.press(KEY.enter, 'LAN interface');
    let cur = await s.waitFor('eth0');
    for (let i = 0; i < 5 && !/› eth0/.test(cur); i++) {
      const before = cur;
      cur = await s.press('j', (x) => x !== before);
    }
    await s.press(KEY.enter, 'LAN VIP');
    await s.press('garbage', '> garbage');
    await s.press(KEY.backspace.repeat(7), (x) => /> \s*$/m.test(x) && !x.includes('garbage'));
    // the paste: the address and Enter in one read
    const next = await s.press(`${ADDR.lanVip}/24${KEY.enter}`, "This node's address");
    expect(next).toContain(`vip=${ADDR.lanVip}/24`);
    await s.press(KEY.home, HOME);
    await s.press(KEY.enter, 'Diagnose this gateway');
    await s.waitFor((x) => /(CRITICAL|ERROR|WARNING|INFO) \(|No problems found/.test(x));
    await s.press(KEY.esc, HOME);
    expect(s.raw).not.toContain(ERASE_SCROLLBACK);
    s.proc.write('q');
    await s.exited();
  });

  it('a long fix command is shown whole at 80 columns, on the finding and in the fix preview; h and Esc from both', async () => {
    await lab.scenario('snat-on-backup');
    const command = `iptables -w -t nat -D POSTROUTING -s ${ADDR.lanNet} '!' -p vrrp -j SNAT --to-source ${ADDR.wanVip}`;
    expect(command.length).toBeGreaterThan(80);
    const s = open('gw2');
    await ready(s);
    await s.press(KEY.enter, 'snat-on-backup');
    let list = s.text();
    for (let i = 0; i < 20 && !/› snat-on-backup/.test(list); i++) {
      const before = list;
      list = await s.press('j', (x) => x !== before);
    }
    const finding = await s.press(KEY.enter, 'Why it matters');
    let seen = finding;
    for (let i = 0; i < 30 && !flat(seen).includes(flat(`$ ${command}`)); i++) {
      const before = seen;
      seen = await s.press('j', (x) => x !== before).catch(() => before);
    }
    expect(flat(seen)).toContain(flat(`$ ${command}`));
    for (const row of seen.split('\n')) expect(row.length).toBeLessThanOrEqual(80);
    // the copy key: the exact command, as OSC 52
    s.raw = '';
    await s.press('y', 'copied the command to the clipboard');
    const osc = /\u001b\]52;c;([A-Za-z0-9+/=]+)\u0007/.exec(s.raw);
    expect(osc).not.toBeNull();
    expect(Buffer.from(osc![1]!, 'base64').toString()).toBe(command);
    // the fix preview (f): the same command, whole
    const preview = await s.press('f', 'Fix snat-on-backup');
    let p = preview;
    for (let i = 0; i < 30 && !flat(p).includes(flat(command)); i++) {
      const before = p;
      p = await s.press('j', (x) => x !== before).catch(() => before);
    }
    expect(flat(p)).toContain(flat(command));
    await s.press(KEY.esc, 'Why it matters');
    await s.press('h', HOME);
    s.proc.write('q');
    await s.exited();
    await lab.execOk('gw2', ['iptables', '-w', '-t', 'nat', '-F', 'POSTROUTING']);
  });

  it('80x24 then 60x20: a resize redraws, every row fits, the footer stays', async () => {
    const s = open('gw1');
    await ready(s);
    s.resize(60, 20);
    const small = await s.waitFor((x) => x.includes('› Diagnose this gateway') && /q quit/.test(x));
    for (const row of small.split('\n')) expect(row.length).toBeLessThanOrEqual(60);
    await s.press('jj\r', 'Failover triage');
    const t = await s.waitFor('VI_LAN  MASTER');
    for (const row of t.split('\n')) expect(row.length).toBeLessThanOrEqual(60);
    await s.press(KEY.esc, HOME);
    expect(s.raw).not.toContain(ERASE_SCROLLBACK);
    s.proc.write('q');
    await s.exited();
  });

  it('generate on a lab gateway: every problem at once; a peer off every subnet is refused until a route leads to it', async () => {
    const out = path.join(work, 'gen-backup');
    const args = ['generate', '--role', 'backup', '--interface', 'eth0', '--self', ADDR.gw2.lan, '--out', out];
    const bad = await lab.doctor('gw2', [...args, '--vip', `${ADDR.gw2.lan}/24`, '--peer', '172.31.9.9', '--priority', '150']);
    expect(bad.exitCode).toBe(3);
    const lines = bad.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(bad.stderr).toContain(`--vip: ${ADDR.gw2.lan} is this node's own address`);
    expect(bad.stderr).toMatch(/--peer: 172\.31\.9\.9 is on none of this host's subnets \(.*192\.168\.100\.0\/24.*\) and no route leads to it/);
    expect(bad.stderr).toContain("--priority: a backup priority of 150 is at or above the master's 150");
    await lab.execOk('gw2', ['ip', 'route', 'add', '172.31.0.0/16', 'dev', 'eth1']);
    try {
      const good = await lab.doctor('gw2', [...args, '--vip', `${ADDR.lanVip}/24`, '--peer', '172.31.9.9']);
      expect(good.exitCode, good.stderr).toBe(0);
    } finally {
      await lab.execOk('gw2', ['ip', 'route', 'del', '172.31.0.0/16', 'dev', 'eth1']);
    }
  });

  it("a failover appears in the backup's Triage within 2 s of the master's keepalived being killed, with no key pressed", async () => {
    const s = open('gw2');
    await ready(s);
    // a burst: two moves and Enter in one read
    await s.press(`jj${KEY.enter}`, 'Failover triage · live');
    const before = await s.waitFor((x) => x.includes('VI_LAN  BACKUP') && x.includes("live: keepalived's log"));
    expect(before).toContain('VIPs held: none');
    const pid = lab.keepalivedPid('gw1');
    expect(pid).toBeDefined();
    const killedAt = Date.now();
    process.kill(pid!, 'SIGTERM');
    const after = await s.waitFor((x) => /VI_LAN {2}MASTER since \d\d:\d\d:\d\d/.test(x), 15_000);
    const seenAt = Date.now();
    expect(seenAt - killedAt, after).toBeLessThan(2000);
    expect(flat(after)).toMatch(/VI_LAN BACKUP -> MASTER: .*(priority 0|no advert from a master)/);
    const vip = await s.waitFor(`${ADDR.lanVip}/24 on eth0`, 5000);
    expect(vip).toContain('VIPs held:');
    await s.press(KEY.esc, HOME);
    s.proc.write('q');
    await s.exited();
  });
});
