import { describe, expect, it } from 'vitest';
import {
  IpvsParseError,
  mergeStats,
  parseIpvsConnections,
  parseIpvsList,
  parseIpvsRate,
  parseIpvsStats,
  parseLargeNumber,
  parseLocalAddresses,
  parseProcIpVs,
} from '../../../src/ipvs/ipvsadm.js';
import { fixture } from '../routing/helpers.js';

describe('ipvsadm -Ln', () => {
  const t = parseIpvsList(fixture('ipvs', 'ipvsadm-Ln.director.txt'));

  it('reads the header, services, flags, persistence and every forwarding method', () => {
    expect(t.version).toBe('1.2.1');
    expect(t.size).toBe(4096);
    expect(t.services.map((s) => s.key)).toEqual(['TCP 203.0.113.10:443', 'TCP 203.0.113.10:80', 'UDP 203.0.113.10:53', 'FWM 1', 'TCP [2001:db8::10]:80']);
    expect(t.services[0]).toMatchObject({ scheduler: 'wlc', persistent: 300, flags: [] });
    expect(t.services[2]).toMatchObject({ scheduler: 'rr', flags: ['ops'] });
    expect(t.services[3]).toMatchObject({ fwmark: 1, scheduler: 'sh', persistent: 600, netmask: '255.255.255.0' });
    expect(t.services[0]!.realServers[1]).toMatchObject({ address: '10.0.0.12', port: 443, forward: 'Masq', weight: 0, activeConn: 0, inActConn: 3 });
    expect(t.services[3]!.realServers.map((r) => r.forward)).toEqual(['Route', 'Tunnel']);
    expect(t.services[4]!.realServers[0]).toMatchObject({ address: '2001:db8::11', port: 80 });
  });

  it('an empty table is just the header; a kernel without IPVS is not a listing', () => {
    expect(parseIpvsList(fixture('ipvs', 'ipvsadm-Ln.empty.txt')).services).toEqual([]);
    expect(() => parseIpvsList(fixture('ipvs', 'ipvsadm-Ln.no-ipvs-kernel.txt'))).toThrow(IpvsParseError);
  });

  it('rejects broken lines instead of guessing', () => {
    const head = 'IP Virtual Server version 1.2.1 (size=4096)\n';
    expect(() => parseIpvsList(`${head}  -> 10.0.0.1:80 Masq 1 0 0\n`)).toThrow(/before any service/);
    expect(() => parseIpvsList(`${head}TCP  10.0.0.1:80 rr\n  -> 10.0.0.2:80 Masq one 0 0\n`)).toThrow(/bad numbers/);
    expect(() => parseIpvsList(`${head}TCP  10.0.0.1 rr\n`)).toThrow(/ADDRESS:PORT/);
    expect(() => parseIpvsList(`${head}FWM  x rr\n`)).toThrow(/firewall mark/);
    expect(() => parseIpvsList(`${head}TCP  10.0.0.1:80 rr\n  -> 10.0.0.2:80 Masq\n`)).toThrow(/short/);
  });
});

describe('--stats and --rate, K/M/G suffixes', () => {
  it('parses suffixed counters as approximate lower bounds', () => {
    expect(parseLargeNumber('99999999')).toEqual({ value: 99999999, approximate: false });
    expect(parseLargeNumber('141298K')).toEqual({ value: 141298000, approximate: true });
    expect(parseLargeNumber('18500G')).toEqual({ value: 18500e9, approximate: true });
    expect(() => parseLargeNumber('12X')).toThrow(IpvsParseError);
  });

  it('reads service and real-server counters', () => {
    const s = parseIpvsStats(fixture('ipvs', 'ipvsadm-Ln-stats.director.txt'));
    expect(s.services[0]!.realServers[0]!.stats).toEqual({ conns: 5210, inPkts: 981234, outPkts: 0, inBytes: 141298000, outBytes: 0, approximate: true });
    expect(s.services[1]!.stats).toMatchObject({ conns: 6100000, inPkts: 501000000, outBytes: 18500e9, approximate: true });
    const r = parseIpvsRate(fixture('ipvs', 'ipvsadm-Ln-rate.director.txt'));
    expect(r.services[1]!.realServers[0]!.stats).toMatchObject({ conns: 3000, inPkts: 250000, outPkts: 240000, inBytes: 180000000 });
    expect(() => parseIpvsStats('IP Virtual Server version 1.2.1 (size=4096)\nTCP  10.0.0.1:80  1 2 3\n')).toThrow(/5 counters/);
  });

  it('merges stats into the listing by service and real server', () => {
    const merged = mergeStats(parseIpvsList(fixture('ipvs', 'ipvsadm-Ln.director.txt')), parseIpvsStats(fixture('ipvs', 'ipvsadm-Ln-stats.director.txt')));
    expect(merged.services[0]!.realServers[0]).toMatchObject({ weight: 1, forward: 'Masq', stats: { inPkts: 981234, outPkts: 0 } });
    expect(merged.services[4]!.realServers[0]!.stats?.outPkts).toBe(88);
  });
});

describe('/proc/net/ip_vs (hex)', () => {
  it('decodes addresses, ports, marks, persistence and IPv6 into the same keys as ipvsadm', () => {
    const t = parseProcIpVs(fixture('ipvs', 'proc-net-ip_vs.director.txt'));
    expect(t.services.map((s) => s.key)).toEqual(['TCP 203.0.113.10:443', 'FWM 1', 'UDP 203.0.113.10:53', 'TCP [2001:db8::10]:80']);
    expect(t.services[0]).toMatchObject({ persistent: 300, netmask: '255.255.255.255', scheduler: 'wlc' });
    expect(t.services[1]).toMatchObject({ persistent: 600, netmask: '255.255.255.0' });
    expect(t.services[2]!.flags).toEqual(['ops']);
    expect(t.services[0]!.realServers[1]).toMatchObject({ address: '10.0.0.12', port: 443, forward: 'Masq', weight: 0 });
    expect(t.services[3]!.realServers[0]!.address).toBe('2001:db8::11');
  });

  it('rejects what is not the kernel table', () => {
    expect(() => parseProcIpVs('')).toThrow(/header/);
    expect(() => parseProcIpVs('IP Virtual Server version 1.2.1 (size=4096)\nTCP  10.0.0.1:80 rr\n')).toThrow(/HEXADDR/);
  });
});

describe('-Lnc', () => {
  it('tells persistence templates from connections; IPv6 and firewall-mark templates too', () => {
    const c = parseIpvsConnections(fixture('ipvs', 'ipvsadm-Lnc.director.txt'));
    expect(c).toHaveLength(7);
    expect(c.filter((x) => x.template).map((x) => `${x.client}>${x.destination}`)).toEqual([
      '198.51.100.7>10.0.0.12',
      '198.51.100.9>10.0.0.12',
      '198.51.100.20>10.0.0.11',
      '198.51.100.30>10.0.0.11',
    ]);
    expect(c[0]).toMatchObject({ protocol: 'TCP', expire: 898, state: 'ESTABLISHED', clientPort: 52344, virtual: '203.0.113.10', virtualPort: 443 });
    expect(c[6]).toMatchObject({ client: '2001:db8::99', destination: '2001:db8::11', template: false });
    expect(() => parseIpvsConnections('TCP 1:2:3 NONE a b c\n')).toThrow(IpvsParseError);
  });
});

describe('-G (dsnat / FNAT local addresses)', () => {
  it('reads pools and their addresses', () => {
    const p = parseLocalAddresses(fixture('ipvs', 'ipvsadm-G.dsnat.txt'));
    expect(p).toEqual([
      {
        service: '0.0.0.0:0',
        total: 2,
        addresses: [
          { address: '192.168.100.10', conflicts: 0, conns: 1534 },
          { address: '192.168.100.11', conflicts: 3, conns: 1490 },
        ],
      },
      { service: '0.0.0.0:0', total: 0, addresses: [] },
    ]);
    expect(() => parseLocalAddresses('                              192.168.0.1  0  1\n')).toThrow(/local address line/);
    expect(() => parseLocalAddresses("ipvsadm: invalid option -- 'G'\n")).toThrow(IpvsParseError);
  });
});
