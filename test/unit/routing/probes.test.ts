import { describe, expect, it } from 'vitest';
import type { ProbeRecord, ProbeRoundContext } from '../../../src/types.js';
import {
  ifaceSysctlId,
  ifaceSysctlPath,
  interfacesFromLink,
  ipvsProvider,
  networkConfigFiles,
  nicProvider,
  policyRoutingProvider,
} from '../../../src/probes/routing.js';
import { cmd, dir, file, fixture } from './helpers.js';

const round = (n: number, recs: ProbeRecord[], isRoot = true): ProbeRoundContext => ({
  round: n,
  records: Object.fromEntries(recs.map((r) => [r.id, r])),
  options: {},
  isRoot,
});
const ids = (specs: Array<{ id: string }>) => specs.map((s) => s.id);

describe('routing probes', () => {
  it('per-interface probes come from the ip-link record, loopback excluded, dotted names in sysctl form', () => {
    const link = cmd('ip-link', fixture('routing', 'healthy.ip-link.json'));
    expect(interfacesFromLink(round(1, [link]).records)).toEqual(['eth1', 'eth0']);
    const specs = nicProvider.probes(round(1, [link]));
    expect(ids(specs)).toContain('ethtool-k:eth0');
    expect(ids(specs)).toContain('sysctl:net.ipv4.conf.eth1.rp_filter');
    expect(specs.find((s) => s.id === 'ethtool-k:eth0')).toMatchObject({ kind: 'command', argv: ['ethtool', '-k', 'eth0'] });
    expect(ifaceSysctlId('eth0.100', 'rp_filter')).toBe('sysctl:net.ipv4.conf.eth0/100.rp_filter');
    expect(ifaceSysctlPath('eth0.100', 'rp_filter')).toBe('/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  });

  it('never builds a path from a hostile interface name, and copes with unparsable ip-link', () => {
    const link = cmd(
      'ip-link',
      JSON.stringify([
        { ifname: '../../etc', link_type: 'ether' },
        { ifname: 'a/b' },
        { ifname: 'ok0', link_type: 'ether' },
        { ifname: 'down0', link_type: 'ether', flags: ['BROADCAST'] },
      ]),
    );
    expect(interfacesFromLink(round(1, [link]).records)).toEqual(['ok0', 'down0']);
    // ethtool only for interfaces that are up
    expect(ids(nicProvider.probes(round(1, [link]))).filter((id) => id.startsWith('ethtool'))).toEqual([]);
    expect(interfacesFromLink(round(1, [cmd('ip-link', 'not json')]).records)).toEqual([]);
  });

  it('network config files are read from the directory listings, by the names each system uses', () => {
    const specs = networkConfigFiles(
      round(1, [
        dir('/etc/sysconfig/network-scripts', ['ifcfg-eth0', 'route-eth0', 'rule-eth0', 'route6-eth0', 'ifup-routes']),
        dir('/etc/network/interfaces.d', ['eth0', 'setup.bak~', 'vlan.cfg']),
        dir('/etc/netplan', ['50-cloud-init.yaml', 'README']),
        dir('/etc/NetworkManager/system-connections', ['eth0.nmconnection']),
        dir('/etc/iproute2/rt_tables.d', ['lvs.conf', 'notes.txt']),
        dir('/etc/systemd/network', ['10-eth0.network', '10-eth0.link']),
      ]).records,
    );
    expect(ids(specs).sort()).toEqual(
      [
        'file:/etc/iproute2/rt_tables.d/lvs.conf',
        'file:/etc/sysconfig/network-scripts/route-eth0',
        'file:/etc/sysconfig/network-scripts/rule-eth0',
        'file:/etc/sysconfig/network-scripts/route6-eth0',
        'file:/etc/network/interfaces.d/eth0',
        'file:/etc/netplan/50-cloud-init.yaml',
        'file:/etc/NetworkManager/system-connections/eth0.nmconnection',
        'file:/etc/systemd/network/10-eth0.network',
      ].sort(),
    );
    expect(specs.find((s) => s.id.endsWith('.nmconnection'))).toMatchObject({ needsRoot: true });
    expect(ids(policyRoutingProvider.probes(round(0, [])))).toContain('file:/usr/share/iproute2/rt_tables');
  });

  it('ipvsadm only where ip_vs is loaded (it would load it); modinfo only for a config with virtual servers', () => {
    const first = ipvsProvider.probes(round(0, []));
    expect(first.map((s) => s.id)).not.toContain('ipvsadm-list');
    const loaded = {
      id: 'dir:/sys/module/ip_vs',
      kind: 'dir' as const,
      path: '/sys/module/ip_vs',
      status: 'ok' as const,
      stdout: '["parameters"]',
      stderr: '',
      ms: 0,
    };
    const second = ipvsProvider.probes(round(1, [loaded]));
    expect(second.find((s) => s.id === 'ipvsadm-list')).toMatchObject({ argv: ['ipvsadm', '-L', '-n'], needsRoot: true });
    expect(ids(ipvsProvider.probes(round(1, [])))).toEqual([]);
    const vs = file('kconf:/etc/keepalived/keepalived.conf', 'virtual_server 10.0.0.1 80 {\n}\n', '/etc/keepalived/keepalived.conf');
    expect(ids(ipvsProvider.probes(round(1, [vs])))).toEqual(['modinfo-ip_vs']);
  });

  it('ipvsadm -Lnc only for a persistent service with a quiesced server; -G only when the config has a local address pool', () => {
    expect(ids(ipvsProvider.probes(round(1, [cmd('ipvsadm-list', fixture('ipvs', 'ipvsadm-Ln.director.txt'))])))).toEqual(['ipvsadm-conns']);
    expect(ids(ipvsProvider.probes(round(1, [cmd('ipvsadm-list', fixture('ipvs', 'ipvsadm-Ln.healthy.txt'))])))).toEqual([]);
    const kconf = file('kconf:/etc/keepalived/keepalived.conf', 'virtual_server 0.0.0.0 0 {\n  laddr_group_name g\n}\n', '/etc/keepalived/keepalived.conf');
    expect(ids(ipvsProvider.probes(round(1, [kconf])))).toEqual(['modinfo-ip_vs', 'ipvsadm-laddr']);
  });
});
