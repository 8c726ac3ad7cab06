// vip-mtu-mismatch: our VRRP interfaces against the peer's, from the peer's own snapshot.
import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/pipeline.js';
import { cmd, file, makeSnapshot } from '../../support/snapshot.js';
import type { Snapshot } from '../../../src/types.js';

const CONF = '/etc/keepalived/keepalived.conf';
const conf = (iface: string) =>
  `vrrp_instance VI_LAN {\n  state BACKUP\n  interface ${iface}\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    192.168.100.1/24\n  }\n}\n`;
const links = (mtus: Record<string, number>) => JSON.stringify(Object.entries(mtus).map(([ifname, mtu], i) => ({ ifindex: i + 1, ifname, mtu })));

function node(hostname: string, iface: string, mtus: Record<string, number>, peer?: Snapshot): Snapshot {
  return makeSnapshot(
    [
      file(`kconf:${CONF}`, CONF, conf(iface)),
      cmd('ip-link', ['ip', '-j', '-d', 'link', 'show'], links(mtus)),
      ...(peer ? [file('peer-snapshot', '/tmp/peer.json', JSON.stringify(peer))] : []),
    ],
    { hostname },
    peer ? { peerSnapshot: '/tmp/peer.json' } : {},
  );
}

const mtu = (s: Snapshot) => analyse(s, { only: ['vip-mtu-mismatch'] });

describe('vip-mtu-mismatch', () => {
  it('pairs interfaces by VRRP instance, even under different names', () => {
    const peer = node('gw2', 'ens3', { lo: 65536, ens3: 9000 });
    const r = mtu(node('gw1', 'eth0', { lo: 65536, eth0: 1500 }, peer));
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ code: 'vip-mtu-mismatch', severity: 'warning', title: 'eth0 here has MTU 1500, ens3 on gw2 has 9000' });
  });

  it('is silent when the MTUs agree, and skips with the reason without a peer snapshot', () => {
    const peer = node('gw2', 'eth0', { eth0: 1500 });
    expect(mtu(node('gw1', 'eth0', { eth0: 1500 }, peer)).findings).toEqual([]);
    const alone = mtu(node('gw1', 'eth0', { eth0: 1500 }));
    expect(alone.checks.find((c) => c.id === 'vip-mtu')).toMatchObject({ status: 'skip', reason: "needs the other node's snapshot (--peer-snapshot FILE)" });
  });

  it('a file that is not a snapshot is no peer', () => {
    const s = node('gw1', 'eth0', { eth0: 1500 });
    s.probes['peer-snapshot'] = file('peer-snapshot', '/tmp/peer.json', '{"schema":"other"}');
    expect(mtu(s).checks.find((c) => c.id === 'vip-mtu')?.status).toBe('skip');
  });
});
