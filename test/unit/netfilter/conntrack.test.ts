import { describe, expect, it } from 'vitest';
import { conntrackSummaryCount, isNated, parseConntrack, parseConntrackLine, parseConntrackStats } from '../../../src/netfilter/conntrack.js';
import { fixture } from './helpers.js';

describe('conntrack parser on captured output', () => {
  it('reads conntrack -L lines and tells the NATed advert flow from the healthy one', () => {
    const [nated, healthy] = parseConntrack(fixture('conntrack-L-vrrp.txt'));
    expect(nated).toMatchObject({
      l4: 'unknown',
      proto: 112,
      timeout: 599,
      flags: ['UNREPLIED'],
      original: { src: '192.168.1.1', dst: '192.168.1.2' },
      reply: { src: '192.168.1.2', dst: '198.51.100.10' },
      fields: { mark: '0', use: '2' },
    });
    expect(isNated(nated!)).toBe(true);
    expect(healthy!.original).toEqual({ src: '10.0.0.1', dst: '224.0.0.18', extra: {} });
    expect(isNated(healthy!)).toBe(false);
  });

  it('reads conntrack -G output and its stderr summary', () => {
    expect(parseConntrack(fixture('conntrack-G-nated.txt')).map(isNated)).toEqual([true]);
    expect(parseConntrack(fixture('conntrack-G-multicast.txt')).map(isNated)).toEqual([false]);
    expect(parseConntrack(fixture('conntrack-G-none.txt'))).toEqual([]);
    expect(conntrackSummaryCount(fixture('conntrack-G-nated.stderr'))).toBe(1);
    expect(conntrackSummaryCount(fixture('conntrack-G-none.stderr'))).toBeUndefined();
  });

  it('reads /proc/net/nf_conntrack (ipv4 2 prefix, zone=)', () => {
    const entries = parseConntrack(fixture('proc-nf_conntrack.txt'));
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ l3: 'ipv4', l4: 'unknown', proto: 112, fields: { zone: '0', use: '3' } });
    expect(isNated(entries[0]!)).toBe(true);
  });

  it('sums conntrack -S per-CPU counters', () => {
    expect(parseConntrackStats(fixture('conntrack-S.txt'))).toMatchObject({ found: 0, drop: 0, insert_failed: 0, early_drop: 0 });
    expect(parseConntrackStats('cpu=0 found=1 drop=2\ncpu=1 found=3 drop=4 insert_failed=7\n')).toEqual({ found: 4, drop: 6, insert_failed: 7 });
  });
});

describe('conntrack parser on other and broken lines', () => {
  it('reads a TCP entry with state, ports, ASSURED and extra fields', () => {
    const e = parseConntrackLine(
      'tcp      6 431999 ESTABLISHED src=10.0.0.5 dst=203.0.113.9 sport=40000 dport=443 src=203.0.113.9 dst=198.51.100.10 sport=443 dport=40000 [ASSURED] mark=0 secctx=system_u:object_r use=1 labels=0x1',
    )!;
    expect(e).toMatchObject({ l4: 'tcp', proto: 6, state: 'ESTABLISHED', flags: ['ASSURED'], fields: { secctx: 'system_u:object_r', labels: '0x1' } });
    expect(e.original).toEqual({ src: '10.0.0.5', dst: '203.0.113.9', sport: 40000, dport: 443, extra: {} });
    expect(isNated(e)).toBe(true);
  });

  it('reads icmp tuples and a line without a reply tuple', () => {
    const e = parseConntrackLine('icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=5 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=5 mark=0 use=1')!;
    expect(e.original.extra).toEqual({ type: '8', code: '0', id: '5' });
    expect(isNated(e)).toBe(false);
    const half = parseConntrackLine('unknown 112 599 src=10.0.0.1 dst=10.0.0.2')!;
    expect(half.reply).toBeUndefined();
    expect(isNated(half)).toBe(false);
  });

  it('ignores noise, summaries and truncated lines', () => {
    expect(
      parseConntrack(
        'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.\n\n garbage\nunknown 112 599 src=10.0.0.1\nunknown  112 599 src=10.0.0.1 dst=224.0.0.18 [UNREPLIED] src=224.0.0.18 dst=10.0.0.1 mark=0 use=1',
      ),
    ).toHaveLength(1);
  });
});
