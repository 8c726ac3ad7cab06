import { describe, expect, it } from 'vitest';
import { parseNftJson } from '../../../src/netfilter/nft.js';
import { walk, verdictOf } from '../../../src/netfilter/evaluate.js';
import { fixture } from './helpers.js';

describe('nft -j list ruleset parser on captured output', () => {
  const rs = parseNftJson(fixture('nft-ruleset.json'));
  const table = (family: string, name: string) => rs.tables.find((t) => t.family === family && t.name === name)!;

  it('reads every table, chain hook/type/priority and policy', () => {
    expect(rs.version).toBe('1.0.6');
    expect(rs.problems).toEqual([]);
    expect(rs.tables.map((t) => `${t.family} ${t.name}`)).toEqual(['ip nat', 'ip raw', 'ip filter', 'ip mangle', 'ip keepalived', 'inet gw']);
    const input = table('inet', 'gw').chains.input!;
    expect(input).toMatchObject({ hook: 'input', type: 'filter', priority: 0, policy: 'DROP' });
    expect(table('inet', 'gw').chains.post).toMatchObject({ hook: 'postrouting', type: 'nat', priority: 100 });
  });

  it("reads keepalived's own vrrp_strict table with its VIP set", () => {
    const ka = table('ip', 'keepalived');
    expect(ka.sets.vips).toEqual(['10.0.0.254']);
    const rule = ka.chains.in!.rules[0]!;
    expect(rule.text).toBe('ip daddr @vips drop');
    expect(rule.conds).toEqual([
      { kind: 'family', family: 'ip', neg: false },
      { kind: 'addr', dir: 'dst', cidrs: ['10.0.0.254'], neg: false },
    ]);
    expect(walk(ka, 'in', { proto: 6, dst: '10.0.0.254' }).hit?.rule.action.kind).toBe('drop');
    expect(verdictOf(walk(ka, 'in', { proto: 112, src: '10.0.0.2', dst: '224.0.0.18' }))).toBe('ACCEPT');
  });

  it('renders rules as nft prints them and converts matches and verdicts', () => {
    const post = table('inet', 'gw').chains.post!.rules;
    expect(post.map((r) => r.text)).toEqual([
      'ip daddr 100.64.0.0/10 return',
      'ip saddr 192.168.0.0/16 oifname eth1 ip protocol != vrrp snat to 198.51.100.10',
      'ip saddr 10.0.0.0/24 masquerade',
    ]);
    expect(post[1]!.conds).toEqual([
      { kind: 'family', family: 'ip', neg: false },
      { kind: 'addr', dir: 'src', cidrs: ['192.168.0.0/16'], neg: false },
      { kind: 'iface', dir: 'out', name: 'eth1', neg: false },
      { kind: 'family', family: 'ip', neg: false },
      { kind: 'proto', proto: 112, name: 'vrrp', neg: true },
    ]);
    expect(post[1]!.action).toEqual({ kind: 'snat', toSource: '198.51.100.10' });
    expect(post[1]!.handle).toBe(9);
    expect(table('inet', 'gw').chains.raw_pre!.rules[0]!.action).toEqual({ kind: 'notrack' });
    expect(table('inet', 'gw').chains.input!.rules[0]!.conds).toEqual([{ kind: 'state', states: ['ESTABLISHED', 'RELATED'], neg: false }]);
  });

  it('keeps iptables-nft compat expressions as unknown (xt match/target)', () => {
    const r = table('ip', 'filter').chains.INPUT!.rules[1]!;
    expect(r.conds).toEqual([{ kind: 'unknown', text: 'xt match conntrack' }]);
    expect(table('ip', 'raw').chains.PREROUTING!.rules[0]!.action).toEqual({ kind: 'terminal', name: 'CT' });
  });

  it('reads implicit protocol dependencies (tcp dport) and wildcard interface names', () => {
    const r = table('ip', 'nat').chains.PREROUTING!.rules[0]!;
    expect(r.conds).toContainEqual({ kind: 'proto', proto: 6, name: 'tcp', neg: false });
    const masq = table('ip', 'nat').chains.POSTROUTING!.rules[1]!;
    expect(masq.conds).toContainEqual({ kind: 'iface', dir: 'out', name: 'va*', neg: false });
  });
});

describe('nft parser on broken output', () => {
  it('reports what it cannot read', () => {
    expect(parseNftJson('').problems[0]).toMatch(/not JSON/);
    expect(parseNftJson('{"foo": 1}').problems).toEqual(['no "nftables" array']);
    const rs = parseNftJson(
      JSON.stringify({
        nftables: [
          { table: { family: 'ip', name: 't' } },
          { rule: { family: 'ip', table: 't', chain: 'c', expr: [{ accept: null }] } },
          { chain: { family: 'ip', table: 'nope', name: 'x' } },
          { rule: { family: 'ip', table: 't', chain: 'missing', expr: [] } },
          { chain: { family: 'ip', table: 't', name: 'c', hook: 'input', type: 'filter', prio: 0 } },
          { rule: { family: 'ip', table: 't', chain: 'c', expr: [{ weird: { a: 1 } }, { drop: null }] } },
          'noise',
        ],
      }),
    );
    expect(rs.problems).toEqual(['chain x of unknown table nope', 'rule in unknown chain t/missing']);
    const c = rs.tables[0]!.chains.c!;
    expect(c.policy).toBe('ACCEPT');
    expect(c.rules.map((r) => r.action.kind)).toEqual(['accept', 'drop']);
    expect(c.rules[1]!.conds).toEqual([{ kind: 'unknown', text: 'weird {"a":1}' }]);
  });
});
