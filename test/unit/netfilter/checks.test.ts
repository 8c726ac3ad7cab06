import { describe, expect, it } from 'vitest';
import { CheckContext } from '../../../src/context.js';
import { nodeRole } from '../../../src/state.js';
import { findings, gateway, HEALTHY_NAT, rec, runNetfilter } from './gateway.js';
import { fixture } from './helpers.js';

const WIDE = '-A POSTROUTING -s 192.168.100.0/24 -j SNAT --to-source 198.51.100.10';
const NATED = 'unknown  112 599 src=192.168.100.2 dst=192.168.100.3 [UNREPLIED] src=192.168.100.3 dst=198.51.100.10 mark=0 use=2\n';
const HEALTHY_CT = 'unknown  112 599 src=192.168.100.2 dst=192.168.100.3 [UNREPLIED] src=192.168.100.3 dst=192.168.100.2 mark=0 use=2\n';
const codes = (snap: ReturnType<typeof gateway>) =>
  findings(snap)
    .map((f) => f.code)
    .sort();

describe('netfilter checks on a healthy pair', () => {
  it('the fixture roles come from VIP presence', () => {
    expect(nodeRole(new CheckContext(gateway({ master: true })))).toBe('master');
    expect(nodeRole(new CheckContext(gateway({ master: false })))).toBe('backup');
  });

  it('a healthy master and backup only get the NOTRACK advice', () => {
    expect(codes(gateway({ master: true, conntrack: { '192.168.100.2>192.168.100.3': HEALTHY_CT } }))).toEqual(['vrrp-notrack-missing']);
    expect(codes(gateway({ master: false }))).toEqual(['vrrp-notrack-missing']);
  });

  it('a hardened pair (NOTRACK, VRRP accepted under a DROP policy) is clean', () => {
    const snap = gateway({
      master: true,
      raw: ['-A PREROUTING -p vrrp -j CT --notrack', '-A OUTPUT -p vrrp -j CT --notrack'],
      filter: [
        '-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT',
        '-A INPUT -s 192.168.100.3/32 -p vrrp -j ACCEPT',
        '-A INPUT -s 198.51.100.3/32 -p vrrp -j ACCEPT',
      ],
      policies: { 'filter:INPUT': 'DROP' },
    });
    expect(codes(snap)).toEqual([]);
    expect(runNetfilter(snap).map((o) => o.run.status)).not.toContain('error');
  });
});

describe('vrrp-conntrack-nat', () => {
  it('finds the NATed advert entry by tuple and plans NOTRACK + delete', () => {
    const snap = gateway({ master: true, conntrack: { '192.168.100.2>192.168.100.3': NATED, '198.51.100.2>198.51.100.3': '' } });
    const [f] = findings(snap, 'vrrp-conntrack-nat');
    expect(f!.severity).toBe('critical');
    expect(f!.evidence).toEqual([{ probe: 'conntrack-vrrp:192.168.100.2>192.168.100.3', excerpt: NATED.trimEnd() }]);
    const plan = f!.fix!;
    expect(plan.steps.map((s) => ('argv' in s ? s.argv.join(' ') : ''))).toEqual([
      'iptables -w -t raw -I PREROUTING 1 -p vrrp -j CT --notrack',
      'iptables -w -t raw -I OUTPUT 1 -p vrrp -j CT --notrack',
      'conntrack -D -p 112 -s 192.168.100.2 -d 192.168.100.3',
    ]);
    expect(plan.steps[0]).toMatchObject({ undo: [['iptables', '-w', '-t', 'raw', '-D', 'PREROUTING', '-p', 'vrrp', '-j', 'CT', '--notrack']] });
    expect(plan.steps[2]).toMatchObject({ optional: true, undo: [] });
    expect(plan.touches).toMatchObject({ iptables: ['raw'], conntrack: true });
    expect(plan.risk).toBe('safe');
    expect(plan.verifies).toEqual(['vrrp-conntrack-nat']);
    expect(plan.persistence.persistent).toBe(false);
  });

  it('accepts UNTRACKED where the filter matches on state (and says the change is disruptive)', () => {
    const snap = gateway({
      master: true,
      filter: ['-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'],
      policies: { 'filter:INPUT': 'DROP' },
      conntrack: { '192.168.100.2>192.168.100.3': NATED },
    });
    const plan = findings(snap, 'vrrp-conntrack-nat')[0]!.fix!;
    expect(plan.steps.map((s) => ('argv' in s ? s.argv.join(' ') : ''))).toContain(
      'iptables -w -t filter -I INPUT 1 -p vrrp -m conntrack --ctstate UNTRACKED -j ACCEPT',
    );
    expect(plan.risk).toBe('disruptive');
    expect(plan.touches.iptables).toEqual(['raw', 'filter']);
  });

  it('writes the static rules into an existing Debian rule store', () => {
    const store = '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n';
    const snap = gateway({
      master: true,
      conntrack: { '192.168.100.2>192.168.100.3': NATED },
      records: [rec('os-release', 'ID=debian\n', { kind: 'file' }), rec('file:/etc/iptables/rules.v4', store, { kind: 'file' })],
    });
    const plan = findings(snap, 'vrrp-conntrack-nat')[0]!.fix!;
    const write = plan.steps.find((s) => 'write' in s) as { write: { path: string; content: string } };
    expect(write.write.path).toBe('/etc/iptables/rules.v4');
    expect(write.write.content).toContain(
      '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p vrrp -j CT --notrack\n-A OUTPUT -p vrrp -j CT --notrack\nCOMMIT',
    );
    expect(plan.touches.files).toEqual(['/etc/iptables/rules.v4']);
    expect(plan.persistence.persistent).toBe(true);
  });

  it('speaks nft on an nft-only host', () => {
    const snap = gateway({
      master: true,
      nat: [],
      nftJson: fixture('nft-ruleset.json').replace(/"table": "raw"[\s\S]*?\}\}/, '"table": "raw"}}'),
      conntrack: { '192.168.100.2>192.168.100.3': NATED },
    });
    // the captured ruleset has iptables-nft tables too; keep only the nft-native ones
    const native = JSON.parse(fixture('nft-ruleset.json')) as { nftables: Array<Record<string, { family?: string; table?: string; name?: string }>> };
    native.nftables = native.nftables.filter((o) => {
      const v = Object.values(o)[0]!;
      return !(v.family === 'ip' && ['nat', 'raw', 'filter', 'mangle'].includes(v.table ?? v.name ?? ''));
    });
    snap.probes['nft-ruleset'] = rec('nft-ruleset', JSON.stringify(native));
    const f = findings(snap, 'vrrp-conntrack-nat')[0]!;
    const argv = f.fix!.steps.map((s) => ('argv' in s ? s.argv.join(' ') : ''));
    expect(argv[0]).toBe('nft add table inet hagw_doctor');
    expect(argv).toContain('nft add rule inet hagw_doctor raw_output ip protocol vrrp notrack');
    // the captured inet gw table NOTRACKs at prerouting already
    expect(argv.some((a) => a.includes('raw_prerouting'))).toBe(false);
    expect(f.fix!.touches.nft).toBe(true);
  });

  it('a healthy entry, a missing entry and the multicast entry are not findings', () => {
    expect(findings(gateway({ conntrack: { '192.168.100.2>192.168.100.3': HEALTHY_CT, '198.51.100.2>198.51.100.3': '' } }), 'vrrp-conntrack-nat')).toEqual([]);
    const snap = gateway({ records: [rec('conntrack-vrrp:10.0.0.1>224.0.0.18', fixture('conntrack-G-multicast.txt'))] });
    expect(findings(snap, 'vrrp-conntrack-nat')).toEqual([]);
  });

  it('skips with the reason when the lookups could not run', () => {
    const snap = gateway({ records: [rec('conntrack-vrrp:192.168.100.2>192.168.100.3', '', { status: 'skipped', reason: 'needs root' })] });
    expect(runNetfilter(snap, 'netfilter-vrrp-conntrack')[0]!.run).toMatchObject({ status: 'skip', reason: 'conntrack lookups did not run: needs root' });
  });
});

describe('snat-matches-vrrp', () => {
  it('finds the too-wide rule with the evaluator and replaces it in place with ! -p vrrp', () => {
    const snap = gateway({ master: true, nat: ['-A POSTROUTING -d 100.64.0.0/10 -j RETURN', WIDE] });
    const [f] = findings(snap, 'snat-matches-vrrp');
    expect(f!.severity).toBe('error');
    expect(f!.evidence).toEqual([{ probe: 'iptables-nft-save', excerpt: WIDE }]);
    const step = f!.fix!.steps[0] as { argv: string[]; undo: string[][] };
    expect(step.argv.join(' ')).toBe('iptables -w -t nat -R POSTROUTING 2 -s 192.168.100.0/24 ! -p vrrp -j SNAT --to-source 198.51.100.10');
    expect(step.undo[0]!.join(' ')).toBe('iptables -w -t nat -R POSTROUTING 2 -s 192.168.100.0/24 -j SNAT --to-source 198.51.100.10');
    expect(f!.fix!.persistence.how).toContain('notify_master /etc/keepalived/scripts/notify_master.sh');
  });

  it('is not fooled by a RETURN for the peer, an -o for another interface, or ! -p vrrp', () => {
    expect(
      findings(
        gateway({ nat: ['-A POSTROUTING -d 192.168.100.3/32 -j RETURN', WIDE.replace('192.168.100.0/24', '192.168.100.0/24 -d 192.168.100.0/24')] }),
        'snat-matches-vrrp',
      ),
    ).toHaveLength(0);
    expect(findings(gateway({ nat: ['-A POSTROUTING -s 192.168.0.0/16 -o eth9 -j MASQUERADE'] }), 'snat-matches-vrrp')).toHaveLength(0);
    expect(findings(gateway({ nat: HEALTHY_NAT }), 'snat-matches-vrrp')).toHaveLength(0);
  });

  it('follows the jump into a user chain and quotes the path', () => {
    const f = findings(gateway({ nat: ['-A POSTROUTING -j GW_SNAT', '-A GW_SNAT -o eth+ -j MASQUERADE'] }), 'snat-matches-vrrp');
    expect(f.map((x) => x.evidence[0]!.excerpt)).toEqual(['-A POSTROUTING -j GW_SNAT -> -A GW_SNAT -o eth+ -j MASQUERADE']);
    expect((f[0]!.fix!.steps[0] as { argv: string[] }).argv.join(' ')).toBe('iptables -w -t nat -R GW_SNAT 1 -o eth+ ! -p vrrp -j MASQUERADE');
  });

  it('lowers to a warning when an unknown match decides, or when NOTRACK hides it', () => {
    const unsure = findings(gateway({ nat: ['-A POSTROUTING -m mark --mark 0x1 -j MASQUERADE'] }), 'snat-matches-vrrp');
    expect(unsure[0]!.severity).toBe('warning');
    expect(unsure[0]!.detail).toContain('-m mark --mark 0x1');
    const latent = findings(gateway({ nat: [WIDE], raw: ['-A OUTPUT -p vrrp -j CT --notrack'] }), 'snat-matches-vrrp');
    expect(latent[0]!.severity).toBe('warning');
    expect(latent[0]!.detail).toContain('NOTRACKed');
  });

  it('uses iptables-legacy for a legacy rule on an nf_tables host', () => {
    const f = findings(gateway({ legacy: { nat: ['-A POSTROUTING -s 192.168.0.0/16 -j MASQUERADE'] } }), 'snat-matches-vrrp');
    expect(f[0]!.evidence[0]!.probe).toBe('iptables-legacy-save');
    expect((f[0]!.fix!.steps[0] as { argv: string[] }).argv[0]).toBe('iptables-legacy');
  });
});

describe('SNAT and the role', () => {
  it('snat-on-backup: the master-only rules on the backup, removed last first, undone in place', () => {
    const snap = gateway({ master: false, nat: HEALTHY_NAT });
    expect(
      findings(snap)
        .map((f) => f.code)
        .sort(),
    ).toEqual(['snat-on-backup', 'vrrp-notrack-missing']);
    const [f] = findings(snap, 'snat-on-backup');
    expect(f!.evidence.map((e) => e.excerpt)).toEqual([HEALTHY_NAT[4]]);
    const step = f!.fix!.steps[0] as { argv: string[]; undo: string[][] };
    expect(step.argv.join(' ')).toBe('iptables -w -t nat -D POSTROUTING -s 192.168.100.0/24 ! -p vrrp -j SNAT --to-source 198.51.100.10');
    expect(step.undo[0]!.join(' ')).toBe('iptables -w -t nat -I POSTROUTING 5 -s 192.168.100.0/24 ! -p vrrp -j SNAT --to-source 198.51.100.10');
    expect(f!.detail).toContain('notify_backup /etc/keepalived/scripts/notify_backup.sh');
  });

  it('the same rules on the master are right', () => {
    expect(findings(gateway({ master: true, nat: HEALTHY_NAT }), 'snat-on-backup')).toEqual([]);
  });

  it('snat-missing-on-master when notify_master adds SNAT but nat POSTROUTING has none', () => {
    const [f] = findings(gateway({ master: true, nat: [] }), 'snat-missing-on-master');
    expect(f!.severity).toBe('critical');
    expect(f!.evidence[0]).toEqual({
      probe: 'script:/etc/keepalived/scripts/notify_master.sh',
      excerpt: 'iptables -t nat -A POSTROUTING -s 192.168.100.0/24 ! -p vrrp -j SNAT --to-source 198.51.100.10',
    });
    expect(findings(gateway({ master: false, nat: [] }), 'snat-missing-on-master')).toEqual([]);
  });

  it('snat-source-not-local for an address no interface holds', () => {
    const [f] = findings(
      gateway({ master: true, nat: [...HEALTHY_NAT, '-A POSTROUTING -s 192.168.200.0/24 ! -p vrrp -j SNAT --to-source 203.0.113.7'] }),
      'snat-source-not-local',
    );
    expect(f!.title).toContain('203.0.113.7');
    expect(f!.evidence[0]!.excerpt).toContain('--to-source 203.0.113.7');
  });
});

describe('snat-exclusion-order', () => {
  it('a RETURN for an internal range after the SNAT rule', () => {
    const nat = [HEALTHY_NAT[4]!, '-A POSTROUTING -d 100.64.0.0/10 -j RETURN'];
    const [f] = findings(gateway({ master: true, nat }), 'snat-exclusion-order');
    expect(f!.evidence.map((e) => e.excerpt)).toEqual(nat);
  });

  it('exclusions first are fine, and the 10/8 RETURN is wrong when the VPC is inside 10/8', () => {
    expect(findings(gateway({ master: true, nat: HEALTHY_NAT }), 'snat-exclusion-order')).toEqual([]);
    const vpc = ['-A POSTROUTING -d 10.0.0.0/8 -j RETURN', '-A POSTROUTING -s 10.20.0.0/16 ! -p vrrp -j SNAT --to-source 198.51.100.10'];
    const [f] = findings(gateway({ master: true, nat: vpc }), 'snat-exclusion-order');
    expect(f!.title).toContain('10.0.0.0/8');
    expect(f!.evidence[0]!.excerpt).toBe(vpc[0]);
  });
});

describe('vrrp-input-blocked / vrrp-output-blocked', () => {
  it('an explicit DROP for VRRP in INPUT is named, with a fix above it', () => {
    const snap = gateway({ master: false, filter: ['-A INPUT -i lo -j ACCEPT', '-A INPUT -p vrrp -j DROP'] });
    const f = findings(snap, 'vrrp-input-blocked');
    expect(f).toHaveLength(2);
    expect(f[0]!.evidence).toEqual([{ probe: 'iptables-nft-save', excerpt: '-A INPUT -p vrrp -j DROP' }]);
    const plan = f[0]!.fix!;
    expect((plan.steps[0] as { argv: string[] }).argv.join(' ')).toBe('iptables -w -t filter -I INPUT 2 -p vrrp -s 192.168.100.2 -j ACCEPT');
    expect((plan.steps[0] as { undo: string[][] }).undo[0]!.join(' ')).toBe('iptables -w -t filter -D INPUT -p vrrp -s 192.168.100.2 -j ACCEPT');
    expect(plan.risk).toBe('disruptive');
    expect(plan.verifies).toEqual(['vrrp-input-blocked']);
  });

  it('a DROP policy with only ESTABLISHED,RELATED accepted blocks; UNTRACKED acceptance with NOTRACK does not', () => {
    const f = findings(
      gateway({ filter: ['-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT'], policies: { 'filter:INPUT': 'DROP' } }),
      'vrrp-input-blocked',
    );
    expect(f[0]!.evidence.map((e) => e.excerpt)).toEqual(['*filter :INPUT DROP', '-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT']);
    expect(f[0]!.detail).toContain('ESTABLISHED/RELATED');
    expect((f[0]!.fix!.steps[0] as { argv: string[] }).argv.join(' ')).toBe('iptables -w -t filter -I INPUT 1 -p vrrp -s 192.168.100.3 -j ACCEPT');
    expect(
      findings(
        gateway({
          raw: ['-A PREROUTING -p vrrp -j CT --notrack'],
          filter: ['-A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT'],
          policies: { 'filter:INPUT': 'DROP' },
        }),
        'vrrp-input-blocked',
      ),
    ).toEqual([]);
  });

  it('a legacy DROP hidden from iptables -S is found (and the backends are mixed)', () => {
    const snap = gateway({ master: false, filter: ['-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT'], legacy: { filter: ['-A INPUT -p vrrp -j DROP'] } });
    const f = findings(snap, 'vrrp-input-blocked');
    expect(f[0]!.evidence[0]).toEqual({ probe: 'iptables-legacy-save', excerpt: '-A INPUT -p vrrp -j DROP' });
    expect((f[0]!.fix!.steps[0] as { argv: string[] }).argv[0]).toBe('iptables-legacy');
    expect(findings(snap, 'firewall-backend-mixed')).toHaveLength(1);
  });

  it('an nft-native input chain dropping VRRP is found', () => {
    const nft = JSON.stringify({
      nftables: [
        { table: { family: 'inet', name: 'fw' } },
        { chain: { family: 'inet', table: 'fw', name: 'input', type: 'filter', hook: 'input', prio: 0, policy: 'drop' } },
        {
          rule: {
            family: 'inet',
            table: 'fw',
            chain: 'input',
            handle: 4,
            expr: [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } }, { accept: null }],
          },
        },
      ],
    });
    const f = findings(gateway({ nftJson: nft }), 'vrrp-input-blocked');
    expect(f).toHaveLength(2);
    expect(f[0]!.evidence[0]!.excerpt).toBe('table inet fw chain input { type filter hook input priority 0; policy drop; }');
    expect((f[0]!.fix!.steps[0] as { argv: string[] }).argv.join(' ')).toBe('nft insert rule inet fw input ip protocol vrrp ip saddr 192.168.100.3 accept');
  });

  it('an unknown match before the drop lowers the finding to a warning and says why', () => {
    const f = findings(gateway({ filter: ['-A INPUT -m set --match-set peers src -j ACCEPT', '-A INPUT -p vrrp -j DROP'] }), 'vrrp-input-blocked');
    expect(f[0]!.severity).toBe('warning');
    expect(f[0]!.detail).toContain('--match-set peers src');
  });

  it('vrrp-output-blocked for an OUTPUT drop', () => {
    const f = findings(gateway({ filter: ['-A OUTPUT -p vrrp -j REJECT --reject-with icmp-port-unreachable'] }), 'vrrp-output-blocked');
    expect(f).toHaveLength(2);
    expect(f[0]!.evidence[0]!.excerpt).toBe('-A OUTPUT -p vrrp -j REJECT --reject-with icmp-port-unreachable');
  });
});

describe('firewall-backend-mixed', () => {
  it('empty legacy tables do not count', () => {
    expect(findings(gateway({ legacy: { filter: [] } }), 'firewall-backend-mixed')).toEqual([]);
  });
  it("keepalived's own nft table alone does not make a mix", () => {
    const ka = JSON.stringify({
      nftables: [
        { table: { family: 'ip', name: 'keepalived' } },
        { chain: { family: 'ip', table: 'keepalived', name: 'in', type: 'filter', hook: 'prerouting', prio: -1, policy: 'accept' } },
        { rule: { family: 'ip', table: 'keepalived', chain: 'in', expr: [{ drop: null }] } },
      ],
    });
    const snap = gateway({ nat: [], legacy: { nat: ['-A POSTROUTING -s 192.168.100.0/24 ! -p vrrp -j MASQUERADE'] }, nftJson: ka });
    expect(findings(snap, 'firewall-backend-mixed')).toEqual([]);
  });
});

describe('conntrack-table-pressure', () => {
  const ct = (count: number, max: number, dmesg?: string) =>
    gateway({
      records: [
        rec('sysctl:net.netfilter.nf_conntrack_count', `${count}\n`, { kind: 'file' }),
        rec('sysctl:net.netfilter.nf_conntrack_max', `${max}\n`, { kind: 'file' }),
        rec('conntrack-stats', fixture('conntrack-S.txt')),
        ...(dmesg !== undefined ? [rec('dmesg', dmesg)] : []),
      ],
    });
  it('warning at 80%, critical at 95%, nothing below', () => {
    expect(findings(ct(79, 100), 'conntrack-table-pressure')).toEqual([]);
    expect(findings(ct(80, 100), 'conntrack-table-pressure')[0]!.severity).toBe('warning');
    expect(findings(ct(95, 100), 'conntrack-table-pressure')[0]!.severity).toBe('critical');
  });
  it('"table full" in the kernel log is critical, quoted', () => {
    const [f] = findings(ct(10, 100, '[ 12.3] nf_conntrack: nf_conntrack: table full, dropping packet\n'), 'conntrack-table-pressure');
    expect(f!.severity).toBe('critical');
    expect(f!.evidence).toContainEqual({ probe: 'dmesg', excerpt: '[ 12.3] nf_conntrack: nf_conntrack: table full, dropping packet' });
  });
  it('skips with both reasons when neither count nor log is readable', () => {
    const snap = gateway({ records: [rec('dmesg', '', { exitCode: 1, stderr: 'dmesg: read kernel buffer failed: Operation not permitted\n' })] });
    expect(runNetfilter(snap, 'netfilter-conntrack-pressure')[0]!.run.reason).toContain('Operation not permitted');
  });
});
