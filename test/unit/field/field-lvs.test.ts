// Snapshot-fixture tests of checks/field-lvs.ts (catalogue 29): a director that is a real server of
// its own DR/TUN service.
import { describe, expect, it } from 'vitest';
import { CheckContext } from '../../../src/context.js';
import { runCheck } from '../../../src/check.js';
import { fieldLvsChecks } from '../../../checks/field-lvs.js';
import { cmd, file, internal, ipAddrJson, makeSnapshot } from '../../support/snapshot.js';

const CONF = '/etc/keepalived/keepalived.conf';
const vs = (head: string, kind: string, rs: string[]) =>
  `vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\nvirtual_server ${head} {\n  lb_algo rr\n  lb_kind ${kind}\n  protocol TCP\n${rs.map((a) => `  real_server ${a} 80 {\n    weight 1\n  }\n`).join('')}}\n`;
const run = (conf: string) =>
  runCheck(
    fieldLvsChecks[0]!,
    new CheckContext(makeSnapshot([file(`kconf:${CONF}`, CONF, conf), internal('ip-addr', ipAddrJson({ eth0: ['10.0.0.11/24'] }))], {}, { config: CONF })),
  );

describe('lvs-director-loop', () => {
  it('a DR service listing this director and the other one as real servers', () => {
    const r = run(vs('10.0.0.100 80', 'DR', ['10.0.0.11', '10.0.0.12']));
    expect(r.findings).toHaveLength(1);
    const f = r.findings[0]!;
    expect(f).toMatchObject({ code: 'lvs-director-loop', severity: 'warning', subject: '10.0.0.100 80' });
    expect(f.title).toBe(
      'virtual_server 10.0.0.100 80 (lb_kind DR) lists this director (10.0.0.11) as a real server: the directors can forward requests back and forth',
    );
    expect(f.detail).toMatch(/-m mac ! --mac-source OTHER_DIRECTOR_MAC -j MARK/);
    expect(f.evidence.map((e) => e.excerpt)).toContain(`${CONF}:14: real_server 10.0.0.11 80 (an address of this node)`);
    expect(run(vs('10.0.0.100 80', 'TUN', ['10.0.0.11', '10.0.0.12'])).findings).toHaveLength(1);
  });

  it('quiet for the fwmark remedy, NAT, and a director outside its real-server list', () => {
    expect(run(vs('fwmark 1', 'DR', ['10.0.0.11', '10.0.0.12'])).findings).toEqual([]);
    expect(run(vs('10.0.0.100 80', 'NAT', ['10.0.0.11', '10.0.0.12'])).findings).toEqual([]);
    expect(run(vs('10.0.0.100 80', 'DR', ['10.0.0.21', '10.0.0.22'])).findings).toEqual([]);
  });
});

describe('lvs-snat-conntrack-off (catalogue 28)', () => {
  const IPT = (rule: string) => `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${rule}\nCOMMIT\n`;
  const snap = (o: { rule: string; vsConntrack?: string; kind?: string }) =>
    makeSnapshot(
      [
        file(`kconf:${CONF}`, CONF, vs('10.0.0.100 80', o.kind ?? 'NAT', ['10.0.1.21', '10.0.1.22'])),
        internal('ip-addr', ipAddrJson({ eth0: ['10.0.0.11/24'], eth1: ['10.0.1.1/24'] })),
        cmd('iptables-save', ['iptables-save'], IPT(o.rule)),
        ...(o.vsConntrack !== undefined ? [file('sysctl:net.ipv4.vs.conntrack', '/proc/sys/net/ipv4/vs/conntrack', `${o.vsConntrack}\n`)] : []),
      ],
      {},
      { config: CONF },
    );
  const check = fieldLvsChecks.find((c) => c.id === 'lvs-snat-conntrack')!;
  const run2 = (o: Parameters<typeof snap>[0]) => runCheck(check, new CheckContext(snap(o)));

  it('SNAT to the real servers with vs.conntrack 0: error, the rule and the sysctl as evidence', () => {
    const r = run2({ rule: '-A POSTROUTING -d 10.0.1.0/24 -o eth1 -j MASQUERADE', vsConntrack: '0' });
    expect(r.findings).toHaveLength(1);
    const f = r.findings[0]!;
    expect(f).toMatchObject({ code: 'lvs-snat-conntrack-off', severity: 'error' });
    expect(f.title).toBe('SNAT for the real servers (10.0.1.21, 10.0.1.22) never applies to IPVS traffic: net.ipv4.vs.conntrack = 0');
    expect(f.evidence).toEqual([
      { probe: 'sysctl:net.ipv4.vs.conntrack', excerpt: 'net.ipv4.vs.conntrack = 0' },
      { probe: 'iptables-save', excerpt: expect.stringMatching(/POSTROUTING: .*-d 10\.0\.1\.0\/24 .*MASQUERADE/) },
    ]);
  });

  it('quiet with vs.conntrack 1, for a general MASQUERADE (no destination), and for SNAT to other hosts; unread sysctl: could not judge', () => {
    expect(run2({ rule: '-A POSTROUTING -d 10.0.1.0/24 -o eth1 -j MASQUERADE', vsConntrack: '1' }).findings).toEqual([]);
    expect(run2({ rule: '-A POSTROUTING -o eth0 -j MASQUERADE', vsConntrack: '0' }).findings).toEqual([]);
    expect(run2({ rule: '-A POSTROUTING -d 192.0.2.0/24 -j SNAT --to-source 10.0.0.11', vsConntrack: '0' }).findings).toEqual([]);
    expect(run2({ rule: '-A POSTROUTING -d 10.0.1.21/32 -j SNAT --to-source 10.0.1.1' }).run).toMatchObject({ status: 'skip' });
  });
});
