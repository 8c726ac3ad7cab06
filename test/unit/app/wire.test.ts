// Triage's live VRRP view: the per-VRID lines come from a real tcpdump capture.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { wireLines } from '../../../src/app/logic/wire.js';
import { wireArgv, wireProbeId } from '../../../src/probes/vrrp.js';
import { makeSnapshot, cmd, ipAddrJson } from '../../support/snapshot.js';

const capture = readFileSync(path.resolve(import.meta.dirname, '../../fixtures/vrrp/tcpdump-v2-split-brain-eth.txt'), 'utf8');

describe('wireLines', () => {
  it('summarises who advertises each VRID, marking this node', () => {
    const snap = makeSnapshot(
      [
        { ...cmd(wireProbeId('eth0'), wireArgv('eth0', 3), capture, 124) }, // our own adverts are told by our MAC (a SNATed advert still carries it)
        cmd('ip-addr', ['ip'], JSON.stringify([{ ...JSON.parse(ipAddrJson({ eth0: ['10.9.0.2/24'] }))[0], address: '2a:1d:da:11:6b:fd', link_type: 'ether' }])),
      ],
      {},
      { wire: true },
    );
    const w = wireLines(snap);
    expect(w.captured).toBe(true);
    const vrid = w.lines.find((l) => l.startsWith('vrid 51:'))!;
    expect(vrid).toContain('10.9.0.2 (this node) prio 100');
    expect(vrid).toContain('10.9.0.1 prio 150');
    expect(w.lines[0]).toMatch(/^\d+ adverts in 3 s; peer seen: adverts from 10\.9\.0\.1 \(vrid 51\), and this node's own$/);
    expect(w.peerSeen).toBe(true);
  });

  it('with only this node\'s own adverts on the wire, says so and never "peer seen"', () => {
    // the same capture, keeping only the adverts sent from this node's MAC (and its address line)
    const lines = capture.split('\n');
    const own: string[] = [lines[0]!];
    for (let i = 1; i < lines.length; i++) if (lines[i]!.includes('2a:1d:da:11:6b:fd >')) own.push(lines[i]!, lines[i + 1] ?? '');
    const ipAddr = JSON.stringify([{ ...JSON.parse(ipAddrJson({ eth0: ['10.9.0.2/24'] }))[0], address: '2a:1d:da:11:6b:fd', link_type: 'ether' }]);
    const snap = makeSnapshot([cmd(wireProbeId('eth0'), wireArgv('eth0', 3), own.join('\n'), 124), cmd('ip-addr', ['ip'], ipAddr)], {}, { wire: true });
    const w = wireLines(snap);
    expect(w.peerSeen).toBe(false);
    expect(w.who).toBe("only this node's own adverts seen in 3 s: no advert from another node");
    expect(w.lines.join('\n')).not.toMatch(/peer seen/);
    // told by the source address too, when the capture has no link-level header (-i any without direction)
    const noMac = own.map((l) => l.replace(/^\S+ 2a:1d:da:11:6b:fd > \S+, /, '')).join('\n');
    const w2 = wireLines(
      makeSnapshot(
        [cmd(wireProbeId('eth0'), wireArgv('eth0', 3), noMac, 124), cmd('ip-addr', ['ip'], ipAddrJson({ eth0: ['10.9.0.2/24'] }))],
        {},
        { wire: true },
      ),
    );
    expect(w2.peerSeen).toBe(false);
  });

  it('says why there is no capture', () => {
    const w = wireLines(
      makeSnapshot(
        [{ id: wireProbeId('eth0'), kind: 'command', argv: wireArgv('eth0', 3), status: 'skipped', stdout: '', stderr: '', ms: 0, reason: 'needs root' }],
        {},
        { wire: true },
      ),
    );
    expect(w).toEqual({ captured: false, lines: ['wire capture: needs root'] });
  });
});

describe('liveServices in demo mode', () => {
  it('marks itself as a demo (the header says so) and offers no apply', async () => {
    const { liveServices } = await import('../../../src/app/live.js');
    const snapshot = makeSnapshot([]);
    const s = liveServices({ demo: { scenario: 'stale-conntrack', snapshot, scenarios: ['stale-conntrack'] }, env: {} });
    expect(s.demo).toEqual({ scenario: 'stale-conntrack', scenarios: ['stale-conntrack'] });
    expect(s.apply).toBeUndefined();
    expect(await s.collect(() => {})).toBe(snapshot);
    expect(liveServices({ env: {} }).demo).toBeUndefined();
  });
});
