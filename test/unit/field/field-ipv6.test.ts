// Snapshot-fixture tests of checks/field-ipv6.ts (catalogue 33): IPv6 forwarding on a gateway with
// IPv6 VIPs, and IPv6 addresses that failed duplicate address detection.
import { describe, expect, it } from 'vitest';
import { CheckContext } from '../../../src/context.js';
import { runCheck } from '../../../src/check.js';
import type { ProbeRecord } from '../../../src/types.js';
import { fieldIpv6Checks } from '../../../checks/field-ipv6.js';
import { file, internal, keepalivedProcess, makeSnapshot } from '../../support/snapshot.js';

const CONF = '/etc/keepalived/keepalived.conf';
const check = (id: string) => fieldIpv6Checks.find((c) => c.id === id)!;
const run = (id: string, records: ProbeRecord[]) => runCheck(check(id), new CheckContext(makeSnapshot(records, {}, { config: CONF })));
const kconf = (vip6: string, extra = '') =>
  file(
    `kconf:${CONF}`,
    CONF,
    `vrrp_instance VI_V6 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 61\n  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    ${vip6}\n  }\n${extra}}\n`,
  );
const sysctl = (key: string, v: string) => file(`sysctl:${key}`, `/proc/sys/${key.replace(/\./g, '/')}`, `${v}\n`);
// `ip -j addr` as iproute2 prints it (flags as booleans in addr_info)
const ipAddr = (links: Array<{ ifname: string; address: string; addrs: Array<Record<string, unknown>>; kind?: string }>) =>
  internal(
    'ip-addr',
    JSON.stringify(
      links.map((l, i) => ({
        ifindex: i + 2,
        ifname: l.ifname,
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        link_type: 'ether',
        address: l.address,
        ...(l.kind ? { linkinfo: { info_kind: l.kind } } : {}),
        addr_info: l.addrs,
      })),
    ),
  );
const MASTER_ADDRS = ipAddr([
  {
    ifname: 'eth0',
    address: '52:54:00:12:34:56',
    addrs: [
      { family: 'inet', local: '192.168.100.2', prefixlen: 24 },
      { family: 'inet6', local: '2001:db8:100::1', prefixlen: 64, scope: 'global', nodad: true },
    ],
  },
]);

describe('ipv6-forward-off', () => {
  const base = (fwd6: string, fwd4 = '1') => [
    keepalivedProcess(),
    kconf('2001:db8:100::1/64 dev eth0'),
    MASTER_ADDRS,
    sysctl('net.ipv4.ip_forward', fwd4),
    sysctl('net.ipv6.conf.all.forwarding', fwd6),
  ];

  it('a MASTER that routes IPv4 and holds an IPv6 VIP while IPv6 forwarding is off: critical, no automatic fix (RAs)', () => {
    const r = run('ipv6-forward', base('0'));
    expect(r.findings).toHaveLength(1);
    const f = r.findings[0]!;
    expect(f).toMatchObject({ code: 'ipv6-forward-off', severity: 'critical', subject: 'VI_V6' });
    expect(f.title).toMatch(/IPv6 forwarding is off on this master, which routes IPv4 and holds IPv6 VIPs \(2001:db8:100::1\)/);
    expect(f.detail).toMatch(/accept_ra = 2/);
    expect(f.fix).toBeUndefined();
    expect(f.evidence[0]).toEqual({ probe: 'sysctl:net.ipv6.conf.all.forwarding', excerpt: 'net.ipv6.conf.all.forwarding = 0' });
  });

  it('is quiet when IPv6 forwards, and skips a host that routes nothing (service VIPs)', () => {
    expect(run('ipv6-forward', base('1')).findings).toEqual([]);
    expect(run('ipv6-forward', base('0', '0')).run).toMatchObject({ status: 'skip' });
  });

  it('link-local IPv6 VIPs only (the VRRPv3 primary address) need no forwarding; an unread sysctl is could-not-judge, not OK', () => {
    expect(
      run('ipv6-forward', [
        keepalivedProcess(),
        kconf('fe80::61/64 dev eth0'),
        MASTER_ADDRS,
        sysctl('net.ipv4.ip_forward', '1'),
        sysctl('net.ipv6.conf.all.forwarding', '0'),
      ]).findings,
    ).toEqual([]);
    const blind = run('ipv6-forward', [keepalivedProcess(), kconf('2001:db8:100::1/64 dev eth0'), MASTER_ADDRS, sysctl('net.ipv4.ip_forward', '1')]);
    expect(blind.findings).toEqual([]);
    expect(blind.run.status).not.toBe('pass');
  });
});

describe('ipv6-dad-failed', () => {
  it('a VIP flagged dadfailed is named, with how to clear it', () => {
    const addrs = ipAddr([
      {
        ifname: 'eth0',
        address: '52:54:00:12:34:56',
        addrs: [{ family: 'inet6', local: '2001:db8:100::1', prefixlen: 64, scope: 'global', tentative: true, dadfailed: true }],
      },
    ]);
    const [f] = run('ipv6-dad', [kconf('2001:db8:100::1/64 dev eth0'), addrs]).findings;
    expect(f).toMatchObject({ code: 'ipv6-dad-failed', severity: 'error', subject: 'VI_V6' });
    expect(f!.title).toBe("VI_V6's VIP 2001:db8:100::1 failed duplicate address detection: the kernel does not use it");
    expect(f!.evidence[0]!.excerpt).toBe('eth0: inet6 2001:db8:100::1/64 dadfailed tentative');
  });

  it("the same link-local on both nodes' VMAC interfaces (00:00:5e:00:02:VRID)", () => {
    const addrs = ipAddr([
      { ifname: 'eth0', address: '52:54:00:12:34:56', addrs: [{ family: 'inet6', local: 'fe80::5054:ff:fe12:3456', prefixlen: 64, scope: 'link' }] },
      {
        ifname: 'vrrp6.61',
        address: '00:00:5e:00:02:3d',
        kind: 'macvlan',
        addrs: [{ family: 'inet6', local: 'fe80::200:5eff:fe00:23d', prefixlen: 64, scope: 'link', tentative: true, dadfailed: true }],
      },
    ]);
    const [f] = run('ipv6-dad', [kconf('2001:db8:100::1/64 dev eth0', '  use_vmac vrrp6.61\n'), addrs]).findings;
    expect(f!.title).toMatch(/the link-local address fe80::200:5eff:fe00:23d of the VMAC interface vrrp6\.61/);
    expect(f!.detail).toMatch(/addr_gen_mode=1/);
  });

  it('healthy addresses, and dadfailed on an interface keepalived does not use: nothing', () => {
    const addrs = ipAddr([
      { ifname: 'eth0', address: '52:54:00:12:34:56', addrs: [{ family: 'inet6', local: '2001:db8:100::1', prefixlen: 64, scope: 'global' }] },
      { ifname: 'eth9', address: '52:54:00:12:34:99', addrs: [{ family: 'inet6', local: '2001:db8:9::5', prefixlen: 64, dadfailed: true }] },
    ]);
    expect(run('ipv6-dad', [kconf('2001:db8:100::1/64 dev eth0'), addrs]).findings).toEqual([]);
  });
});
