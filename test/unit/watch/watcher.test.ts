// The watch stream's parsing, on captured keepalived and `ip -o monitor address` lines: a state
// change with its cause from the lines before it, VIPs added and removed, a peer going silent and
// coming back, and the JSON/text forms (ISO times with a zone, control characters made visible).
import { describe, expect, it } from 'vitest';
import { Watcher } from '../../../src/watch/watcher.js';
import { toJsonLine, toTextLine, type WatchEvent } from '../../../src/watch/events.js';
import { peerEvent } from '../../../src/watch/peer.js';

function watcher(now: { t: number }) {
  const w = new Watcher({ node: 'gw2', now: () => now.t });
  const events: WatchEvent[] = [];
  w.on((e) => events.push(e));
  return { w, events };
}

describe("watch events from keepalived's log", () => {
  it('a transition carries from, to and the cause found in the lines just before it', () => {
    const now = { t: Date.parse('2026-12-02T04:35:57Z') };
    const { w, events } = watcher(now);
    w.logLine('Wed Dec  2 04:30:00 2026: (VI_LAN) Entering BACKUP STATE (init)');
    w.logLine('Wed Dec  2 04:35:56 2026: (VI_LAN) Backup received priority 0 advertisement');
    w.logLine('Wed Dec  2 04:35:57 2026: (VI_LAN) Receive advertisement timeout');
    w.logLine('Wed Dec  2 04:35:57 2026: (VI_LAN) Entering MASTER STATE');
    w.logLine('Wed Dec  2 04:35:57 2026: (VI_LAN) setting VIPs.');
    const states = events.filter((e) => e.kind === 'state');
    expect(states).toHaveLength(2);
    expect(states[1]).toMatchObject({ kind: 'state', node: 'gw2', instance: 'VI_LAN', from: 'BACKUP', to: 'MASTER', logTime: 'Wed Dec  2 04:35:57 2026' });
    expect((states[1] as { cause: string }).cause).toMatch(/priority 0/);
    expect(events.some((e) => e.kind === 'advert' && e.change === 'timeout')).toBe(true);
    expect(w.state.instances[0]).toMatchObject({ name: 'VI_LAN', state: 'MASTER', since: now.t });
  });

  it('keepalived stopping takes every known instance to STOP; a repeated state is not an event', () => {
    const { w, events } = watcher({ t: 0 });
    w.logLine('Nov 22 02:40:50 gw2 Keepalived_vrrp[6621]: (VI_1) Entering MASTER STATE');
    w.logLine('Nov 22 02:40:51 gw2 Keepalived_vrrp[6621]: (VI_1) Entering MASTER STATE');
    w.logLine('Nov 22 02:41:00 gw2 Keepalived[6620]: Stopping');
    expect(events.filter((e) => e.kind === 'state').map((e) => (e as { to: string }).to)).toEqual(['MASTER', 'STOP']);
  });
});

describe('watch events from ip monitor address', () => {
  it('reports an address added and removed once each (no config known: every global address)', () => {
    const { w, events } = watcher({ t: 0 });
    w.addressLine('3: eth0    inet 192.168.100.1/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever');
    w.addressLine('3: eth0    inet 192.168.100.1/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever');
    w.addressLine('1: lo    inet 127.0.0.2/8 scope host lo\\       valid_lft forever preferred_lft forever');
    w.addressLine('Deleted 3: eth0    inet 192.168.100.1/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever');
    expect(events.map((e) => e.kind === 'vip' && `${e.change} ${e.address} ${e.interface}`)).toEqual([
      'added 192.168.100.1/24 eth0',
      'removed 192.168.100.1/24 eth0',
    ]);
  });
});

describe("the peer's adverts", () => {
  it('silent after 3 intervals ("peer silent N s"), reminded, then resumed with the gap', () => {
    const now = { t: 1_000_000 };
    const { w, events } = watcher(now);
    w.advert('192.168.100.2', 51, 150, 1);
    const tick = () => (w as unknown as { silenceTick(): void }).silenceTick();
    now.t += 2_000;
    tick();
    expect(events.filter((e) => e.kind === 'advert' && e.change === 'silent')).toHaveLength(0);
    now.t += 10_000;
    tick();
    const silent = events.filter((e) => e.kind === 'advert' && e.change === 'silent');
    expect(silent).toHaveLength(1);
    expect((silent[0] as { message: string }).message).toBe('peer 192.168.100.2 (vrid 51) silent 12 s');
    expect(w.state.peers[0]!.silent).toBe(true);
    now.t += 1_000;
    w.advert('192.168.100.2', 51, 150, 1);
    expect(events.at(-1)).toMatchObject({ kind: 'advert', change: 'resumed', silentSeconds: 13 });
  });
});

describe('event forms', () => {
  it('JSON lines carry ISO 8601 times with a zone; text lines show control characters visibly', () => {
    const { w, events } = watcher({ t: Date.parse('2026-12-02T04:35:57.123Z') });
    w.logLine('Wed Dec  2 04:35:57 2026: (VI_\u001b[31mX) Entering MASTER STATE');
    const e = events[0]!;
    expect(JSON.parse(toJsonLine(e)).time).toMatch(/^2026-12-0[12]T\d\d:\d\d:57\.123[+-]\d\d:\d\d$/);
    expect(toJsonLine(e)).not.toContain('\u001b');
    expect(toTextLine(e)).not.toContain('\u001b');
    expect(toTextLine(e)).toContain('\\x1b');
  });

  it.each([
    ['a bidi override (reorders what the operator reads)', '\u202e', '\\u202e'],
    ['a C1 CSI', '\u009b', '\\x9b'],
  ])('text lines escape %s (report/escape.ts, one line)', (_what, raw, shown) => {
    const { w, events } = watcher({ t: Date.parse('2026-12-02T04:35:57.123Z') });
    w.logLine(`Wed Dec  2 04:35:57 2026: (VI_${raw}X) Entering MASTER STATE`);
    const line = toTextLine(events[0]!);
    expect(line).not.toContain(raw);
    expect(line).toContain(shown);
  });

  it("a peer's line over SSH is checked: unknown kinds dropped, the node forced, long strings cut", () => {
    expect(peerEvent('{"kind":"rm -rf","time":"x"}', 'gw1')).toBeUndefined();
    expect(peerEvent('not json', 'gw1')).toBeUndefined();
    const e = peerEvent(
      JSON.stringify({ kind: 'state', node: 'evil', time: '2026-12-02T04:35:57.000+00:00', instance: 'x'.repeat(2000), to: 'MASTER', nested: { a: 1 } }),
      'gw1',
    )!;
    expect(e.node).toBe('gw1');
    expect((e as { instance: string }).instance).toHaveLength(512);
    expect((e as unknown as Record<string, unknown>).nested).toBeUndefined();
  });
});
