import { describe, expect, it } from 'vitest';
import { readIptablesSave, tokenize, snatAddresses } from '../../../src/netfilter/iptables-save.js';
import { fixture } from './helpers.js';

describe('iptables-save parser on captured output', () => {
  const dump = readIptablesSave(fixture('iptables-nft-save.txt'), 'iptables-nft-save');

  it('reads the backend and version from the header', () => {
    expect(dump.backend).toBe('nf_tables');
    expect(dump.version).toBe('1.8.9');
    expect(Object.keys(dump.tables).sort()).toEqual(['filter', 'mangle', 'nat', 'raw']);
    expect(dump.tables.nat!.backend).toBe('nf_tables');
    expect(dump.tables.nat!.probe).toBe('iptables-nft-save');
    expect(dump.problems).toEqual([]);
  });

  it('reads chains, policies and user chains', () => {
    const f = dump.tables.filter!;
    expect(f.chains.INPUT!.policy).toBe('DROP');
    expect(f.chains.FORWARD!.policy).toBe('ACCEPT');
    expect(f.chains.LOGDROP!.policy).toBeNull();
    expect(f.chains.INPUT!.rules).toHaveLength(8);
    expect(dump.tables.nat!.chains.HAGW_SNAT!.rules.map((r) => r.position)).toEqual([1, 2, 3]);
  });

  it('reads built-in matches, negations, targets and their options', () => {
    const snat = dump.tables.nat!.chains.HAGW_SNAT!.rules[2]!;
    expect(snat.text).toBe('-A HAGW_SNAT -s 192.168.0.0/16 -o eth1 ! -p vrrp -j SNAT --to-source 198.51.100.10');
    expect(snat.conds).toEqual([
      { kind: 'addr', dir: 'src', cidrs: ['192.168.0.0/16'], neg: false },
      { kind: 'iface', dir: 'out', name: 'eth1', neg: false },
      { kind: 'proto', proto: 112, name: 'vrrp', neg: true },
    ]);
    expect(snat.action).toEqual({ kind: 'snat', toSource: '198.51.100.10' });
    expect(snat.spec).toEqual(['-s', '192.168.0.0/16', '-o', 'eth1', '!', '-p', 'vrrp', '-j', 'SNAT', '--to-source', '198.51.100.10']);
    const masq = dump.tables.nat!.chains.POSTROUTING!.rules[1]!;
    expect(masq.action).toEqual({ kind: 'masquerade' });
    expect(masq.target).toEqual({ name: 'MASQUERADE', options: [{ name: '--random-fully', neg: false, values: [] }], goto: false });
    expect(dump.tables.nat!.chains.POSTROUTING!.rules[0]!.action).toEqual({ kind: 'jump', chain: 'HAGW_SNAT' });
  });

  it('reads state, conntrack, comment and quoted values', () => {
    const input = dump.tables.filter!.chains.INPUT!.rules;
    expect(input[1]!.conds).toEqual([{ kind: 'state', states: ['RELATED', 'ESTABLISHED'], neg: false }]);
    expect(input[2]!.conds).toEqual([{ kind: 'state', states: ['UNTRACKED'], neg: false }]);
    const comment = dump.tables.nat!.chains.POSTROUTING!.rules[3]!;
    expect(comment.matches[1]).toEqual({ module: 'comment', options: [{ name: '--comment', neg: false, values: ['hagw: master only'] }] });
    expect(comment.conds).toContainEqual({ kind: 'addr', dir: 'dst', cidrs: ['172.16.0.0/12'], neg: true });
    const log = dump.tables.filter!.chains.LOGDROP!.rules[0]!;
    expect(log.target!.options).toContainEqual({ name: '--log-prefix', neg: false, values: ['drop: '] });
    expect(log.action).toEqual({ kind: 'continue', name: 'LOG' });
  });

  it('keeps matches it does not model verbatim as unknown conditions', () => {
    const rule = dump.tables.filter!.chains.INPUT!.rules[4]!;
    expect(rule.matches.map((m) => m.module)).toEqual(['', 'tcp', 'multiport']);
    expect(rule.conds).toContainEqual({ kind: 'unknown', text: '-m multiport --dports 22,80' });
    const mss = dump.tables.mangle!.chains.FORWARD!.rules[0]!;
    expect(mss.matches[1]!.options[0]).toEqual({ name: '--tcp-flags', neg: false, values: ['SYN,RST', 'SYN'] });
    expect(mss.action).toEqual({ kind: 'continue', name: 'TCPMSS' });
    expect(dump.tables.filter!.chains.INPUT!.rules[7]!.conds).toEqual([{ kind: 'addrtype', dir: 'dst', types: ['MULTICAST'], neg: false }]);
  });

  it('reads the raw-table NOTRACK forms', () => {
    expect(dump.tables.raw!.chains.PREROUTING!.rules[0]!.action).toEqual({ kind: 'notrack' });
    const old = readIptablesSave('*raw\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p 112 -j NOTRACK\n-A OUTPUT -p vrrp -j CT --zone 1\nCOMMIT\n');
    expect(old.tables.raw!.chains.OUTPUT!.rules.map((r) => r.action.kind)).toEqual(['notrack', 'continue']);
    expect(old.tables.raw!.chains.OUTPUT!.rules[0]!.conds).toEqual([{ kind: 'proto', proto: 112, name: '112', neg: false }]);
  });

  it('reads counters with -c', () => {
    const c = readIptablesSave(fixture('iptables-nft-save-counters.txt'));
    expect(c.tables.filter!.chains.INPUT!.counters).toEqual({ packets: 0, bytes: 0 });
    const r = c.tables.nat!.chains.HAGW_SNAT!.rules[2]!;
    expect(r.counters).toEqual({ packets: 0, bytes: 0 });
    expect(r.text.startsWith('-A HAGW_SNAT')).toBe(true);
  });

  it('reads legacy output (no backend marker since 1.8) and the (legacy) marker', () => {
    const l = readIptablesSave(fixture('iptables-legacy-save-counters.txt'), 'iptables-legacy-save');
    expect(l.backend).toBe('legacy');
    expect(l.tables.filter!.chains.INPUT!.rules[0]!.text).toBe('-A INPUT -p vrrp -j DROP');
    expect(readIptablesSave('# Generated by iptables-save v1.8.4 (legacy) on x\n*nat\nCOMMIT\n').backend).toBe('legacy');
    expect(readIptablesSave('').backend).toBe('unknown');
  });
});

describe('iptables-save parser on ugly and broken output', () => {
  it('reports lines it cannot read and keeps going', () => {
    const d = readIptablesSave(['-A INPUT -j ACCEPT', '*filter', ':INPUT', 'garbage here', '-A INPUT -p vrrp -j ACCEPT', '-A', 'COMMIT', ''].join('\n'));
    expect(d.problems.map((p) => p.line)).toEqual([1, 3, 4, 6]);
    expect(d.tables.filter!.chains.INPUT!.rules).toHaveLength(1);
    expect(d.tables.filter!.chains.INPUT!.policy).toBe('ACCEPT');
  });

  it('survives a truncated dump (no COMMIT) and CRLF line ends', () => {
    const d = readIptablesSave('*nat\r\n:POSTROUTING ACCEPT [1:2]\r\n-A POSTROUTING -s 10.0.0.0/8 -j MASQ');
    const r = d.tables.nat!.chains.POSTROUTING!.rules[0]!;
    expect(r.action).toEqual({ kind: 'terminal', name: 'MASQ' });
  });

  it('keeps unknown options and targets verbatim', () => {
    const d = readIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m bpf --bytecode "4,48 0 0 9" --weird ! --flag x -j NFQUEUE --queue-num 3\nCOMMIT\n');
    const r = d.tables.filter!.chains.INPUT!.rules[0]!;
    expect(r.matches[1]).toEqual({
      module: 'bpf',
      options: [
        { name: '--bytecode', neg: false, values: ['4,48 0 0 9'] },
        { name: '--weird', neg: false, values: [] },
        { name: '--flag', neg: true, values: ['x'] },
      ],
    });
    expect(r.conds.every((c) => c.kind === 'unknown')).toBe(true);
    expect(r.action).toEqual({ kind: 'terminal', name: 'NFQUEUE' });
  });

  it('tokenizes escaped quotes', () => {
    expect(tokenize('--comment "say \\"hi\\"" -j X').map((t) => t.text)).toEqual(['--comment', 'say "hi"', '-j', 'X']);
  });

  it('reads SNAT address ranges and ports', () => {
    expect(snatAddresses('198.51.100.10')).toEqual(['198.51.100.10']);
    expect(snatAddresses('198.51.100.10-198.51.100.12:1024-65535')).toEqual(['198.51.100.10', '198.51.100.12']);
  });
});
