import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { describeVrid, parseAdverts, summariseAdverts } from '../../../src/vrrp/adverts.js';

const fx = (name: string) => readFileSync(new URL(`../../fixtures/vrrp/${name}`, import.meta.url), 'utf8');

describe('parseAdverts (captured tcpdump 4.99.3 output)', () => {
  it('reads VRRPv2 multicast adverts with simple auth', () => {
    const cap = parseAdverts(fx('tcpdump-v2-multicast-pass.txt'));
    expect(cap.adverts).toHaveLength(3);
    expect(cap.unparsed).toEqual([]);
    // this capture is stdout only: tcpdump writes its banner and counters to stderr
    expect(cap.stats).toEqual({});
    expect(parseAdverts(fx('tcpdump-v2-stop-master.txt')).stats).toEqual({ captured: 5, receivedByFilter: 5, droppedByKernel: 0 });
    expect(parseAdverts(fx('tcpdump-v2-stop-master.txt')).listening).toBe('eth0');
    expect(cap.adverts[0]).toMatchObject({
      time: '02:40:43.509200',
      src: '10.9.0.1',
      dst: '224.0.0.18',
      multicast: true,
      version: 2,
      type: 'Advertisement',
      vrid: 51,
      priority: 150,
      advertInt: 1,
      authType: 'simple',
      authPass: 'secret1',
      vips: ['10.9.0.254', '10.9.0.253'],
      ttl: 255,
    });
  });

  it('reads VRRPv3 unicast adverts (interval in centiseconds, no auth, one address)', () => {
    const cap = parseAdverts(fx('tcpdump-v3-unicast.txt'));
    expect(cap.adverts).toHaveLength(4);
    expect(cap.adverts[0]).toMatchObject({
      src: '10.9.0.2',
      dst: '10.9.0.1',
      multicast: false,
      version: 3,
      vrid: 52,
      priority: 100,
      advertInt: 1,
      vips: ['10.9.0.250'],
    });
    expect(cap.adverts[0]!.authType).toBeUndefined();
  });

  it('reads -e link headers and -i any direction', () => {
    const eth = parseAdverts(fx('tcpdump-v2-split-brain-eth.txt')).adverts;
    expect(eth).toHaveLength(5);
    expect(eth[0]).toMatchObject({ srcMac: '2a:1d:da:11:6b:fd', src: '10.9.0.2' });
    const any = parseAdverts(fx('tcpdump-v2-split-brain-any-eth.txt')).adverts;
    expect(any.map((a) => [a.iface, a.direction, a.src])).toEqual([
      ['eth0', 'out', '10.9.0.2'],
      ['eth0', 'in', '10.9.0.1'],
      ['eth0', 'out', '10.9.0.2'],
      ['eth0', 'in', '10.9.0.1'],
    ]);
    const plain = parseAdverts(fx('tcpdump-v2-any-count.txt'));
    expect(plain.adverts.map((a) => a.direction)).toEqual(['out', 'in']);
    expect(plain.listening).toBe('any');
  });

  it('reads priority 0 (a master leaving) and authtype none', () => {
    expect(parseAdverts(fx('tcpdump-v2-stop-master.txt')).adverts.map((a) => a.priority)).toEqual([150, 0, 100, 100, 100]);
    const coll = parseAdverts(fx('tcpdump-v2-collision-authtype.txt')).adverts;
    expect(coll.map((a) => a.authType)).toEqual(['simple', 'none', 'none']);
    expect(coll[1]!.vips).toEqual(['10.9.0.200']);
  });

  it('survives broken and foreign output', () => {
    const ugly = [
      'tcpdump: verbose output suppressed',
      'garbage',
      '02:40:43.509200 IP (tos 0xc0, ttl 255, id 1, offset 0, flags [none], proto VRRP (112), length 44)',
      '    10.9.0.1 > 224.0.0.18: VRRPv2, Advertisement, vrid x, prio 150, authtype simple',
      '02:40:43.509200 IP (tos 0xc0, ttl 255, id 1, offset 0, flags [none], proto VRRP (112), length 44)',
      '    10.9.0.1 > 224.0.0.18: VRRPv2, Advertisement, vrid 9, prio 150, authtype simple, intvl 1s, length 24, addrs(1): 10.0.0.1 auth "a\\"b"',
      '02:40:44.0 IP (truncated',
      '',
    ].join('\n');
    const cap = parseAdverts(ugly);
    expect(cap.adverts).toHaveLength(1);
    expect(cap.adverts[0]!.authPass).toBe('a\\"b');
    expect(cap.unparsed).toHaveLength(1);
    expect(parseAdverts('').adverts).toEqual([]);
  });
});

describe('summariseAdverts', () => {
  it('groups by VRID and source, marks this node, computes the rate', () => {
    const cap = parseAdverts(fx('tcpdump-v2-split-brain.txt'));
    const [s] = summariseAdverts(cap.adverts, { localAddresses: ['10.9.0.2'] });
    expect(s!.vrid).toBe(51);
    expect(s!.sources.map((x) => [x.src, x.local, x.count, x.priority])).toEqual([
      ['10.9.0.2', true, 3, 100],
      ['10.9.0.1', false, 3, 150],
    ]);
    expect(s!.sources[1]!.rate).toBeCloseTo(1, 1);
    expect(describeVrid(s!)).toContain('10.9.0.2 (this node) prio 100');
  });

  it('sees two VIP lists for one VRID', () => {
    const a = parseAdverts(fx('tcpdump-v2-collision-authtype.txt')).adverts;
    const [s] = summariseAdverts(a);
    expect(s!.sources.flatMap((x) => x.vipLists)).toEqual(['10.9.0.253,10.9.0.254', '10.9.0.200']);
  });
});
