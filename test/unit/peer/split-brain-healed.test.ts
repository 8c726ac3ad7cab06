// vrrp-split-brain judged from the log alone, read together with the other node: the other node's
// state now decides whether the episode in the log is still going on (peer.test.ts's lab pair).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { analysePair } from '../../../src/peer/pair.js';
import { file, internal, ipAddrJson, keepalivedProcess, makeSnapshot } from '../../support/snapshot.js';
import type { Snapshot } from '../../../src/types.js';

const CONF = '/etc/keepalived/keepalived.conf';
const conf = (priority: number) =>
  `vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority ${priority}\n  advert_int 1\n  virtual_ipaddress {\n    10.9.0.254/24\n    10.9.0.253/24\n  }\n}\n`;
// gw1's captured log: MASTER, then the peer's master adverts ("forcing new election") until 02:41:17
const LOG = readFileSync(new URL('../../fixtures/vrrp/keepalived-2.2.7-console-master.log', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l <= 'Sun Nov 22 02:41:18 2026:~' || !l.startsWith('Sun'))
  .join('\n');
const CREATED = new Date(2026, 10, 22, 2, 41, 19).toISOString();

function node(hostname: string, o: { self: string; vips: boolean; log: string; priority: number }, peer?: Snapshot): Snapshot {
  const s = makeSnapshot(
    [
      keepalivedProcess(),
      file(`kconf:${CONF}`, CONF, conf(o.priority)),
      internal('ip-addr', ipAddrJson({ eth0: [`${o.self}/24`, ...(o.vips ? ['10.9.0.254/24', '10.9.0.253/24'] : [])] })),
      file('keepalived-log', '/var/log/keepalived.log', o.log),
      ...(peer ? [file('peer-snapshot', '/tmp/peer.json', JSON.stringify(peer))] : []),
    ],
    { hostname },
    peer ? { peerSnapshot: '/tmp/peer.json' } : {},
  );
  s.createdAt = CREATED;
  return s;
}

const splitBrains = (s: Snapshot) => analysePair(s).findings.filter((f) => f.code === 'vrrp-split-brain');

describe('vrrp-split-brain from the log, with the other node read', () => {
  const gw2Log = (state: 'MASTER' | 'BACKUP') =>
    `Sun Nov 22 02:40:40 2026: (VI_1) Entering BACKUP STATE (init)\nSun Nov 22 02:41:03 2026: (VI_1) Entering MASTER STATE\n${state === 'BACKUP' ? 'Sun Nov 22 02:41:17 2026: (VI_1) Master received advert from 10.9.0.1 with higher priority 150, ours 100\nSun Nov 22 02:41:17 2026: (VI_1) Entering BACKUP STATE\n' : ''}`;

  it('alone, 2 s after the last "forcing new election": reported (it may be going on)', () => {
    expect(splitBrains(node('gw1', { self: '10.9.0.1', vips: true, log: LOG, priority: 150 }))).toHaveLength(1);
  });

  it('the peer is BACKUP now: the log episode healed, no split brain', () => {
    const gw2 = node('gw2', { self: '10.9.0.2', vips: false, log: gw2Log('BACKUP'), priority: 100 });
    expect(splitBrains(node('gw1', { self: '10.9.0.1', vips: true, log: LOG, priority: 150 }, gw2))).toEqual([]);
  });

  it('the peer is MASTER too: the pair view reports it (both nodes hold), the log lines join it as evidence', () => {
    const gw2 = node('gw2', { self: '10.9.0.2', vips: true, log: gw2Log('MASTER'), priority: 100 });
    const sb = splitBrains(node('gw1', { self: '10.9.0.1', vips: true, log: LOG, priority: 150 }, gw2));
    expect(sb).toHaveLength(1);
    expect(sb[0]!.title).toMatch(/both nodes hold/);
    expect(sb[0]!.evidence.some((e) => e.excerpt.includes('forcing new election'))).toBe(true);
  });
});
