// Input bursts (several keys in one read, text plus Enter), Esc and home from every screen, and the
// live Triage fed by a watch stream: the screen changes with no key pressed.
import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import type { Key } from 'ink';
import { App } from '../../../src/app/app.js';
import { Session } from '../../../src/app/session.js';
import { splitBurst } from '../../../src/app/components/keys.js';
import { liveLines, wrapLine } from '../../../src/app/logic/live-lines.js';
import type { LiveWatch } from '../../../src/app/services.js';
import type { LiveState } from '../../../src/watch/watcher.js';
import type { WatchEvent } from '../../../src/watch/events.js';
import { FORWARD_OFF, KEYS, fakeServices, report, waitFor } from './helpers.js';

afterEach(() => cleanup());

const NO_KEY = {
  return: false,
  backspace: false,
  delete: false,
  tab: false,
  escape: false,
  ctrl: false,
  meta: false,
  shift: false,
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageUp: false,
  pageDown: false,
  home: false,
  end: false,
} as Key;

class FakeWatch implements LiveWatch {
  state: LiveState = {
    node: 'gw2',
    instances: [{ name: 'VI_LAN', state: 'BACKUP', since: Date.now() - 60_000, transitions: [] }],
    vips: [],
    peers: [],
    wire: 'off',
    checking: false,
    notes: [],
    log: '/var/log/keepalived.log',
  };
  private ev = new Set<(e: WatchEvent) => void>();
  private st = new Set<() => void>();
  started = false;
  stopped = false;
  wire: boolean[] = [];
  async start() {
    this.started = true;
  }
  stop() {
    this.stopped = true;
  }
  on(fn: (e: WatchEvent) => void) {
    this.ev.add(fn);
    return () => this.ev.delete(fn);
  }
  onState(fn: () => void) {
    this.st.add(fn);
    return () => this.st.delete(fn);
  }
  setWire(on: boolean) {
    this.wire.push(on);
    this.state = { ...this.state, wire: on ? 'on' : 'off' };
    for (const f of this.st) f();
  }
  async runCheck() {}
  failover(at: number) {
    const inst = { name: 'VI_LAN', state: 'MASTER', since: at, transitions: [{ at, from: 'BACKUP', to: 'MASTER', cause: 'the master sent priority 0' }] };
    this.state = { ...this.state, instances: [inst], vips: [{ address: '192.168.100.1/24', interface: 'eth0', instance: 'VI_LAN' }] };
    const time = new Date(at).toISOString();
    for (const f of this.ev) f({ time, node: 'gw2', kind: 'state', instance: 'VI_LAN', from: 'BACKUP', to: 'MASTER', cause: 'the master sent priority 0' });
    for (const f of this.ev) f({ time, node: 'gw2', kind: 'vip', address: '192.168.100.1/24', interface: 'eth0', change: 'added' });
    for (const f of this.st) f();
  }
}

function start(watch?: FakeWatch) {
  const services = fakeServices({ reports: [report([FORWARD_OFF])] });
  if (watch) services.watch = async () => watch;
  const session = new Session(services);
  const r = render(<App session={session} color={false} />);
  void session.diagnose();
  return { ...r, services, session };
}

describe('splitBurst: one read, several keys', () => {
  it('splits text plus Enter, a run of Backspaces, and moves', () => {
    expect(splitBurst('abc\r', NO_KEY).map(([i, k]) => (k.return ? '<Enter>' : i))).toEqual(['a', 'b', 'c', '<Enter>']);
    expect(splitBurst('\u007f\u007f\u007f', NO_KEY).filter(([, k]) => k.backspace)).toHaveLength(3);
    expect(splitBurst('jj', NO_KEY).map(([i]) => i)).toEqual(['j', 'j']);
    expect(splitBurst('\u0015', NO_KEY)).toEqual([['\u0015', NO_KEY]]); // a single key: as Ink gave it
    expect(splitBurst('x\u0015y', NO_KEY).map(([i, k]) => `${k.ctrl ? '^' : ''}${i}`)).toEqual(['x', '^u', 'y']);
  });
});

describe('keys that arrive together', () => {
  it('a burst "jj" then Enter in one read opens Triage from home', async () => {
    const r = start();
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    r.stdin.write('jj\r');
    await waitFor(r.lastFrame, 'What explains a failover here');
  });

  it('text and Enter in one read are both taken by a text field; a burst of Backspaces deletes each character', async () => {
    const r = start();
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    r.stdin.write('j');
    await waitFor(r.lastFrame, '› Set up a new HA pair');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'Role of this node');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'LAN interface');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'LAN VIP');
    r.stdin.write('192.168.100.99xx');
    await waitFor(r.lastFrame, '> 192.168.100.99xx');
    r.stdin.write('\u007f\u007f\u007f\u007f');
    await waitFor(r.lastFrame, (f) => f.includes('> 192.168.100.') && !f.includes('99'));
    r.stdin.write('1/24\r');
    await waitFor(r.lastFrame, "This node's address");
  });
});

describe('Esc and home', () => {
  it('Esc leaves Diagnose; h goes home from Diagnose and from deep in the setup form', async () => {
    const r = start();
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'Diagnose this gateway ');
    await waitFor(r.lastFrame, 'CRITICAL (');
    r.stdin.write(KEYS.esc);
    await waitFor(r.lastFrame, 'What do you want to do?');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'CRITICAL (');
    r.stdin.write('h');
    await waitFor(r.lastFrame, 'What do you want to do?');
    // setup, three questions deep, in a text field: Home (ESC [ H) goes home, and the answers are kept
    r.stdin.write('j');
    await waitFor(r.lastFrame, '› Set up a new HA pair');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'Role of this node');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'LAN interface');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'LAN VIP');
    r.stdin.write('10.1.1.1/24');
    await waitFor(r.lastFrame, '> 10.1.1.1/24');
    r.stdin.write('\u001b[H');
    await waitFor(r.lastFrame, 'What do you want to do?');
    // Generate asks the same questions: the answers given in Setup are there
    r.stdin.write('jjj');
    await waitFor(r.lastFrame, '› Generate configs');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'Role of this node');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'LAN interface');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'LAN VIP');
  });
});

describe('live Triage', () => {
  it('shows a failover as it happens, with its cause, without a key press; w turns the wire pane on', async () => {
    const w = new FakeWatch();
    const r = start(w);
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    r.stdin.write('jj\r');
    const before = await waitFor(r.lastFrame, 'VI_LAN  BACKUP since');
    expect(before).toContain('Failover triage · live');
    expect(before).toContain('VIPs held: none');
    expect(w.started).toBe(true);
    w.failover(Date.now() - 12_000);
    const after = await waitFor(r.lastFrame, 'VI_LAN  MASTER since');
    expect(after).toMatch(/MASTER since \d\d:\d\d:\d\d \(1[2-4] s ago\)/);
    expect(after).toContain('BACKUP -> MASTER: the master sent priority 0');
    expect(after).toContain('VIPs held: 192.168.100.1/24 on eth0');
    r.stdin.write('w');
    await waitFor(r.lastFrame, "Peer's adverts: none seen on the wire yet");
    expect(w.wire).toEqual([true]);
    r.stdin.write(KEYS.esc);
    await waitFor(r.lastFrame, 'What do you want to do?');
    // leaving Triage stops the stream (its followers and tcpdump)
    await waitFor(() => String(w.stopped), 'true');
  });
});

describe('live lines', () => {
  it('count a silent peer, and wrap long lines instead of cutting them', () => {
    const now = Date.now();
    const state: LiveState = {
      node: 'gw2',
      instances: [],
      vips: [],
      peers: [{ vrid: 51, from: '10.0.0.1', priority: 150, lastSeen: now - 12_000, advertInt: 1, silent: true }],
      wire: 'on',
      checking: false,
      notes: [],
    };
    const text = liveLines(state, [], now)
      .map((l) => l.text)
      .join('\n');
    expect(text).toContain('Peer 10.0.0.1 vrid 51: SILENT 12 s');
    const long = 'iptables -t nat -I POSTROUTING 1 -s 192.168.100.0/24 ! -d 192.168.0.0/16 -o eth1 -j SNAT --to-source 198.51.100.10';
    const rows = wrapLine({ text: long }, 40);
    expect(rows.every((x) => x.text.length <= 40)).toBe(true);
    expect(rows.map((x) => x.text.trim()).join(' ')).toBe(long);
  });
});

describe('Changes made here', () => {
  it("lists this node's changes, confirms the pending one and undoes one after a yes, through the engine's functions", async () => {
    const services = fakeServices({ reports: [report([FORWARD_OFF])] });
    const calls: string[] = [];
    const base = { when: '2026-12-02T04:00:00.000Z', who: 'root', host: 'gw1', netns: 'net:[1]', steps: ['sysctl -w net.ipv4.ip_forward=1'] };
    let list = [
      { ...base, id: 'B', state: 'pending', summary: 'turn on forwarding', deadline: '2026-12-02T04:05:00.000Z' },
      { ...base, id: 'A', state: 'confirmed', summary: 'NOTRACK for VRRP' },
      { ...base, id: 'X', state: 'confirmed', summary: 'elsewhere', netns: 'net:[2]' },
    ];
    services.changes = async () => list;
    services.confirm = async (id) => {
      calls.push(`confirm ${id}`);
      list = list.map((c) => (c.id === 'B' ? { ...c, state: 'confirmed' } : c));
      return 'change B confirmed';
    };
    services.undo = async (id) => {
      calls.push(`undo ${id}`);
      return { ok: true, message: `change ${id} rolled back` };
    };
    const session = new Session(services);
    const r = render(<App session={session} color={false} />);
    void session.diagnose();
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    r.stdin.write('jjjj');
    await waitFor(r.lastFrame, '› Changes made here');
    r.stdin.write('\r');
    const f = await waitFor(r.lastFrame, 'turn on forwarding');
    expect(f).toContain('NOTRACK for VRRP');
    expect(f).not.toContain('elsewhere'); // another network namespace's change
    r.stdin.write('c');
    await waitFor(r.lastFrame, 'change B confirmed');
    r.stdin.write('j');
    await waitFor(r.lastFrame, '› confirmed   A');
    r.stdin.write('u');
    await waitFor(r.lastFrame, 'Undo it?');
    r.stdin.write('y');
    await waitFor(r.lastFrame, 'change A rolled back');
    expect(calls).toEqual(['confirm B', 'undo A']);
    r.stdin.write(KEYS.esc);
    await waitFor(r.lastFrame, 'What do you want to do?');
  });
});

describe('the checklist', () => {
  it('l in Diagnose lists every check with ✓ and ✗, the passing ones too; Esc returns to the findings', async () => {
    const r = start();
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    r.stdin.write('\r');
    await waitFor(r.lastFrame, 'CRITICAL (');
    r.stdin.write('l');
    const f = await waitFor(r.lastFrame, 'Diagnose this gateway · every check');
    expect(f).toMatch(/3 checks: 1 ✓ pass, 1 ✗ fail, 0 - not judged, 1 failed to run/);
    expect(f).toContain('✓ keepalived running in this network namespace');
    expect(f).toMatch(/✗ IPv4 forwarding {2}ip-forward-off/);
    r.stdin.write(KEYS.esc);
    await waitFor(r.lastFrame, 'CRITICAL (');
  });
});
