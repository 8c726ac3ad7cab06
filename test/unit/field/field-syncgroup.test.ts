// Catalogue 32: a sync group whose members' priorities favour different nodes (the peer's config
// read with --peer-config / --peer-snapshot / --peer).
import { describe, expect, it } from 'vitest';
import { CheckContext } from '../../../src/context.js';
import { runCheck } from '../../../src/check.js';
import { keepalivedPairChecks } from '../../../checks/keepalived-pair.js';
import { file, makeSnapshot } from '../../support/snapshot.js';
import { configFileProbeId } from '../../../src/probes/ids.js';

const CONF = '/etc/keepalived/keepalived.conf';
const conf = (lan: number, wan: number) => `vrrp_sync_group VG_GW {
    group {
        VI_LAN
        VI_WAN
    }
}
vrrp_instance VI_LAN {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${lan}
    virtual_ipaddress {
        192.168.100.1/24 dev eth0
    }
}
vrrp_instance VI_WAN {
    state BACKUP
    interface eth1
    virtual_router_id 52
    priority ${wan}
    virtual_ipaddress {
        198.51.100.10/24 dev eth1
    }
}
`;
const pair = (here: string, there: string) =>
  runCheck(
    keepalivedPairChecks.find((c) => c.id === 'keepalived-pair')!,
    new CheckContext(
      makeSnapshot([file(configFileProbeId(CONF), CONF, here), file('peer-config', '/tmp/b.conf', there)], {}, { config: CONF, peerConfig: '/tmp/b.conf' }),
    ),
  );

describe('sync group members that prefer different nodes (catalogue 32)', () => {
  it('VI_LAN prefers this node, VI_WAN the peer: named, with both priorities as evidence', () => {
    const r = pair(conf(150, 90), conf(100, 100));
    const f = r.findings.filter((x) => x.subject === 'VG_GW');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ code: 'keepalived-config-invalid', severity: 'error' });
    expect(f[0]!.title).toBe("(VG_GW) the sync group's members disagree on the master: VI_LAN prefers this node, VI_WAN the peer");
    expect(f[0]!.detail).toContain('VI_LAN 150 here, 100 on the peer; VI_WAN 90 here, 100 on the peer');
    expect(f[0]!.evidence.map((e) => e.excerpt)).toContain('/etc/keepalived/keepalived.conf:16: VI_WAN: priority 90');
  });

  it('every member prefers the same node (even with different priorities per member): nothing', () => {
    expect(pair(conf(150, 120), conf(100, 110)).findings.filter((x) => x.subject === 'VG_GW')).toEqual([]);
    expect(pair(conf(100, 100), conf(150, 150)).findings.filter((x) => x.subject === 'VG_GW')).toEqual([]);
  });
});
