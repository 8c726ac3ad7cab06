import { describe, expect, it } from 'vitest';
import { readIptablesSave } from '../../../src/netfilter/iptables-save.js';
import { describeRef, ifaceMatches, verdictOf, walk } from '../../../src/netfilter/evaluate.js';
import { fixture } from './helpers.js';

const table = (rules: string, name = 'nat', chains = ':POSTROUTING ACCEPT [0:0]') => readIptablesSave(`*${name}\n${chains}\n${rules}\nCOMMIT\n`).tables[name]!;
const advert = { proto: 'vrrp', src: '192.168.1.1', dst: '192.168.1.2', outIface: 'eth0' } as const;

describe('rule evaluator: POSTROUTING and VRRP adverts', () => {
  it('finds the too-wide SNAT rule of the seed failure', () => {
    const w = walk(table('-A POSTROUTING -s 192.168.0.0/16 -j SNAT --to-source 198.51.100.10'), 'POSTROUTING', advert);
    expect(verdictOf(w)).toBe('SNAT');
    expect(w.hit!.rule.position).toBe(1);
  });

  it.each([
    ['-A POSTROUTING -s 192.168.0.0/16 ! -p vrrp -j SNAT --to-source 1.2.3.4', 'ACCEPT'],
    ['-A POSTROUTING -s 192.168.0.0/16 ! -p 112 -j MASQUERADE', 'ACCEPT'],
    ['-A POSTROUTING -p 112 -j MASQUERADE', 'MASQUERADE'],
    ['-A POSTROUTING -o eth+ -j MASQUERADE', 'MASQUERADE'],
    ['-A POSTROUTING -o eth1 -j MASQUERADE', 'ACCEPT'],
    ['-A POSTROUTING ! -o eth1 -j MASQUERADE', 'MASQUERADE'],
    ['-A POSTROUTING -p tcp -j MASQUERADE', 'ACCEPT'],
    ['-A POSTROUTING ! -d 192.168.0.0/16 -j MASQUERADE', 'ACCEPT'],
    ['-A POSTROUTING -s 10.0.0.0/8,192.168.1.0/24 -j MASQUERADE', 'MASQUERADE'],
    ['-A POSTROUTING -m iprange --src-range 192.168.1.1-192.168.1.9 -j MASQUERADE', 'MASQUERADE'],
  ])('honours ! -p vrrp, -p 112, -o with + wildcards and negated interfaces: %s -> %s', (rule, verdict) => {
    expect(verdictOf(walk(table(rule), 'POSTROUTING', advert))).toBe(verdict);
  });

  it('follows jumps into user chains, RETURNs and gotos', () => {
    const chains = ':POSTROUTING ACCEPT [0:0]\n:SNAT_RULES - [0:0]';
    const t = (r: string) => walk(table(r, 'nat', chains), 'POSTROUTING', advert);
    const viaChain = t(
      '-A POSTROUTING -j SNAT_RULES\n-A SNAT_RULES -d 192.168.0.0/16 -j RETURN\n-A SNAT_RULES -j MASQUERADE\n-A POSTROUTING -j SNAT --to-source 1.2.3.4',
    );
    expect(verdictOf(viaChain)).toBe('SNAT');
    expect(viaChain.hit!.via).toEqual([]);
    const inside = t('-A POSTROUTING -j SNAT_RULES\n-A SNAT_RULES -d 10.0.0.0/8 -j RETURN\n-A SNAT_RULES -j MASQUERADE');
    expect(verdictOf(inside)).toBe('MASQUERADE');
    expect(describeRef(inside.hit!)).toBe('-A POSTROUTING -j SNAT_RULES -> -A SNAT_RULES -j MASQUERADE');
    const gone = t('-A POSTROUTING -g SNAT_RULES\n-A SNAT_RULES -p vrrp -j RETURN\n-A POSTROUTING -j MASQUERADE');
    expect(verdictOf(gone)).toBe('ACCEPT');
  });

  it('does not loop on a jump cycle', () => {
    const t = table('-A POSTROUTING -j A\n-A A -j B\n-A B -j A\n-A B -j MASQUERADE', 'nat', ':POSTROUTING ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]');
    expect(verdictOf(walk(t, 'POSTROUTING', advert))).toBe('MASQUERADE');
  });

  it('reports a rule with an unknown match as a maybe and never concludes from it', () => {
    const w = walk(
      table('-A POSTROUTING -m mark --mark 0x1 -j MASQUERADE\n-A POSTROUTING -s 192.168.0.0/16 -j SNAT --to-source 1.2.3.4'),
      'POSTROUTING',
      advert,
    );
    expect(verdictOf(w)).toBe('SNAT');
    expect(w.maybes).toHaveLength(1);
    expect(w.maybes[0]!.unknown).toEqual([{ kind: 'unknown', text: '-m mark --mark 0x1' }]);
    const inChain = walk(
      table('-A POSTROUTING -m set --match-set x src -j X\n-A X -j MASQUERADE', 'nat', ':POSTROUTING ACCEPT [0:0]\n:X - [0:0]'),
      'POSTROUTING',
      advert,
    );
    expect(inChain.hit).toBeUndefined();
    expect(inChain.maybes.map((m) => m.rule.text)).toEqual(['-A X -j MASQUERADE']);
  });

  it('treats a missing packet field as unknown', () => {
    const w = walk(table('-A POSTROUTING -o eth0 -j MASQUERADE'), 'POSTROUTING', { proto: 112, src: '1.1.1.1', dst: '224.0.0.18' });
    expect(w.hit).toBeUndefined();
    expect(w.maybes).toHaveLength(1);
  });

  it('reads wildcard interface patterns', () => {
    expect(ifaceMatches('eth+', 'eth0')).toBe(true);
    expect(ifaceMatches('va*', 'vabc')).toBe(true);
    expect(ifaceMatches('eth0', 'eth01')).toBe(false);
  });
});

describe('rule evaluator: filter verdicts for VRRP from the peer', () => {
  const filter = readIptablesSave(fixture('iptables-nft-save.txt')).tables.filter!;
  const fromPeer = { proto: 112, src: '10.0.0.2', dst: '224.0.0.18', inIface: 'eth0', state: 'NEW' };

  it('accepts VRRP from the peer in the captured firewall, drops it from elsewhere by policy', () => {
    expect(verdictOf(walk(filter, 'INPUT', fromPeer))).toBe('ACCEPT');
    const other = walk(filter, 'INPUT', { ...fromPeer, src: '10.0.0.3' });
    expect(verdictOf(other)).toBe('DROP');
    expect(other.policy).toBe('DROP');
  });

  it('accepts untracked adverts where the filter matches UNTRACKED', () => {
    expect(walk(filter, 'INPUT', { ...fromPeer, src: '10.0.0.3', state: 'UNTRACKED' }).hit!.rule.position).toBe(3);
  });

  it('a DROP policy with only ESTABLISHED,RELATED accepted drops a NEW advert', () => {
    const t = table('-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT', 'filter', ':INPUT DROP [0:0]');
    expect(verdictOf(walk(t, 'INPUT', fromPeer))).toBe('DROP');
    expect(verdictOf(walk(t, 'INPUT', { ...fromPeer, state: 'ESTABLISHED' }))).toBe('ACCEPT');
  });

  it('names an explicit REJECT in a user chain', () => {
    const t = table('-A INPUT -j CHK\n-A CHK -p vrrp -j REJECT --reject-with icmp-proto-unreachable', 'filter', ':INPUT ACCEPT [0:0]\n:CHK - [0:0]');
    const w = walk(t, 'INPUT', fromPeer);
    expect(verdictOf(w)).toBe('REJECT');
    expect(w.hit!.via.map((r) => r.position)).toEqual([1]);
  });

  it('stops at the asked action (notrack in raw)', () => {
    const raw = readIptablesSave(fixture('iptables-nft-save.txt')).tables.raw!;
    const w = walk(raw, 'PREROUTING', fromPeer, { stopAt: (a) => a.kind === 'notrack' });
    expect(w.hit!.rule.text).toBe('-A PREROUTING -p vrrp -j CT --notrack');
  });
});
