import { describe, expect, it } from 'vitest';
import type { ProbeRecord } from '../../../src/types.js';
import { policyNotPersistent, policyTableEmpty, policyTableUnnamed } from '../../../checks/routing-policy.js';
import { cmd, DEBIAN, dir, file, fixture, missing, ROCKY, run } from './helpers.js';

const RT = file('file:/etc/iproute2/rt_tables', fixture('routing', 'rt_tables.lvs_nat'));
const IFACES_PERSISTED = `auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet static\n    address 10.0.0.11/24\n    up ip rule add from 10.0.0.11 table lvs_nat priority 100\n    up ip route add default via 10.0.0.254 dev eth0 table lvs_nat\n\nauto eth1\niface eth1 inet static\n    address 192.0.2.50/24\n    gateway 192.0.2.1\n`;

function healthy(extra: ProbeRecord[] = []): ProbeRecord[] {
  return [
    cmd('ip-rule', fixture('routing', 'healthy.ip-rule.json')),
    cmd('ip-route', fixture('routing', 'healthy.ip-route.json')),
    cmd('ip-addr', fixture('routing', 'healthy.ip-addr.json')),
    cmd('ip-link', fixture('routing', 'healthy.ip-link.json')),
    RT,
    file('os-release', DEBIAN, '/etc/os-release'),
    file('file:/etc/network/interfaces', IFACES_PERSISTED),
    ...extra,
  ];
}

function broken(extra: ProbeRecord[] = []): ProbeRecord[] {
  return [
    cmd('ip-rule', fixture('routing', 'broken.ip-rule.json')),
    cmd('ip-route', fixture('routing', 'broken.ip-route.json')),
    cmd('ip-addr', fixture('routing', 'broken.ip-addr.json')),
    cmd('ip-link', fixture('routing', 'broken.ip-link.json')),
    RT,
    ...extra,
  ];
}

/** Applies a plan's file writes to the records, as the change engine would to the disk. */
function applyWrites(records: ProbeRecord[], steps: NonNullable<ReturnType<typeof run>['findings'][number]['fix']>['steps']): ProbeRecord[] {
  let out = [...records];
  for (const s of steps)
    if ('write' in s) {
      const id = `file:${s.write.path}`;
      out = out.filter((r) => r.id !== id);
      out.push(file(id, s.write.content));
      // the new file shows in its directory's listing too
      const parent = s.write.path.slice(0, s.write.path.lastIndexOf('/'));
      const name = s.write.path.slice(parent.length + 1);
      const listing = out.filter((r) => r.id === `dir:${parent}`).at(-1);
      if (listing) {
        const names = JSON.parse(listing.stdout) as string[];
        if (!names.includes(name)) out.push(dir(parent, [...names, name].sort()));
      }
    }
  return out;
}

describe('policy-table-empty', () => {
  it('finds the rules into empty tables, with a delete-and-undo fix', () => {
    const { run: r, findings } = run(policyTableEmpty, broken());
    expect(r.status).toBe('fail');
    expect(findings.map((f) => f.subject)).toEqual(['table 200', 'table 300']);
    const fix = findings[1]!.fix!;
    expect(fix.steps).toEqual([
      expect.objectContaining({
        argv: ['ip', 'rule', 'del', 'not', 'from', 'all', 'fwmark', '0x5/0xff', 'priority', '1003', 'table', '300'],
        undo: [['ip', 'rule', 'add', 'not', 'from', 'all', 'fwmark', '0x5/0xff', 'priority', '1003', 'table', '300']],
      }),
    ]);
    expect(fix.touches.routes).toBe(true);
    expect(fix.verifies).toEqual(['policy-table-empty']);
    expect(fix.persistence.persistent).toBe(true);
  });

  it('a rule into an empty NAMED table whose routes the config defines: the fix adds those routes', () => {
    const rules = JSON.stringify([
      { priority: 0, src: 'all', table: 'local' },
      { priority: 100, src: '10.0.0.11', table: 'lvs_nat' },
      { priority: 32766, src: 'all', table: 'main' },
    ]);
    const routes = JSON.stringify([{ dst: '10.0.0.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.0.0.11', flags: [] }]);
    const records = [
      cmd('ip-rule', rules),
      cmd('ip-route', routes),
      RT,
      dir('/etc/sysconfig/network-scripts', ['ifcfg-eth0', 'route-eth0', 'rule-eth0']),
      file('file:/etc/sysconfig/network-scripts/route-eth0', 'default via 10.0.0.254 dev eth0 table lvs_nat\n'),
      file('file:/etc/sysconfig/network-scripts/rule-eth0', 'from 10.0.0.11 table lvs_nat\n'),
    ];
    const { findings } = run(policyTableEmpty, records);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.title).toBe('rule 100 looks up table lvs_nat, which holds no route');
    expect(findings[0]!.detail).toMatch(/route-eth0:1/);
    expect(findings[0]!.fix!.steps).toEqual([
      expect.objectContaining({
        argv: ['ip', 'route', 'add', 'default', 'via', '10.0.0.254', 'dev', 'eth0', 'table', 'lvs_nat'],
        undo: [['ip', 'route', 'del', 'default', 'via', '10.0.0.254', 'dev', 'eth0', 'table', 'lvs_nat']],
      }),
    ]);
  });

  it('a table holding only IPv6 routes is empty for an IPv4 rule; a rule whose table is filled is fine', () => {
    const rules = JSON.stringify([
      { priority: 10, src: '10.0.0.11', table: '7' },
      { priority: 11, src: '10.0.0.12', table: '8' },
    ]);
    const routes = JSON.stringify([
      { dst: '2001:db8::/64', dev: 'eth0', table: '7' },
      { dst: 'default', gateway: '10.0.0.1', table: '8' },
    ]);
    const { findings } = run(policyTableEmpty, [cmd('ip-rule', rules), cmd('ip-route', routes)]);
    expect(findings.map((f) => f.subject)).toEqual(['table 7']);
  });

  it('skips, naming the probe, when ip rule was not collected or is not JSON', () => {
    expect(run(policyTableEmpty, [cmd('ip-route', '[]')]).run).toMatchObject({ status: 'skip', reason: 'ip -j rule show was not collected' });
    expect(run(policyTableEmpty, [cmd('ip-rule', 'Object "rule" is unknown'), cmd('ip-route', '[]')]).run.status).toBe('skip');
  });
});

describe('policy-table-unnamed', () => {
  it('names each bare table number once', () => {
    const { findings } = run(policyTableUnnamed, broken());
    expect(findings.map((f) => f.subject)).toEqual(['table 200', 'table 250', 'table 300']);
    expect(findings[0]!.severity).toBe('warning');
  });

  it('a config file using a table name rt_tables does not define', () => {
    const { findings } = run(
      policyTableUnnamed,
      healthy([file('file:/etc/network/interfaces', `${IFACES_PERSISTED}    up ip route add default via 192.0.2.1 table lvs_dr\n`)]),
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]!.title).toMatch(/table name lvs_dr has no number/);
    expect(findings[0]!.location).toEqual({ file: '/etc/network/interfaces', line: 14 });
  });
});

describe('policy-not-persistent', () => {
  it('silent when ifupdown hooks recreate every rule and route', () => {
    expect(run(policyNotPersistent, healthy()).findings).toEqual([]);
  });

  it('Debian: the fix adds up hooks to the stanza, and a re-check of the written file is silent', () => {
    const records = healthy([
      file('file:/etc/network/interfaces', 'auto eth0\niface eth0 inet static\n    address 10.0.0.11/24\n\nauto eth1\niface eth1 inet dhcp\n'),
    ]);
    const { findings } = run(policyNotPersistent, records);
    expect(findings).toHaveLength(1);
    const fix = findings[0]!.fix!;
    const write = fix.steps[0]! as { write: { path: string; content: string } };
    expect(write.write.path).toBe('/etc/network/interfaces');
    expect(write.write.content).toBe(
      'auto eth0\niface eth0 inet static\n    address 10.0.0.11/24\n    up ip rule add from 10.0.0.11 priority 100 table lvs_nat\n    up ip route add default via 10.0.0.254 dev eth0 table lvs_nat\n\nauto eth1\niface eth1 inet dhcp\n',
    );
    expect(run(policyNotPersistent, applyWrites(records, fix.steps)).findings).toEqual([]);
  });

  it('RHEL: the fix writes rule-IF/route-IF, and a re-check of the written files is silent', () => {
    const records = healthy([
      file('os-release', ROCKY, '/etc/os-release'),
      missing('file:/etc/network/interfaces'),
      dir('/etc/sysconfig/network-scripts', ['ifcfg-eth0', 'ifcfg-eth1']),
    ]);
    const { findings } = run(policyNotPersistent, records);
    const fix = findings[0]!.fix!;
    expect(fix.steps).toEqual([
      expect.objectContaining({
        write: { path: '/etc/sysconfig/network-scripts/rule-eth0', content: 'from 10.0.0.11 priority 100 table lvs_nat\n', mode: 0o644 },
      }),
      expect.objectContaining({
        write: { path: '/etc/sysconfig/network-scripts/route-eth0', content: 'default via 10.0.0.254 dev eth0 table lvs_nat\n', mode: 0o644 },
      }),
    ]);
    expect(fix.touches.files).toEqual(['/etc/sysconfig/network-scripts/rule-eth0', '/etc/sysconfig/network-scripts/route-eth0']);
    expect(run(policyNotPersistent, applyWrites(records, fix.steps)).findings).toEqual([]);
  });

  it('systemd-networkd files that recreate the rule and route count as persistent', () => {
    const records = healthy([
      missing('file:/etc/network/interfaces'),
      dir('/etc/systemd/network', ['10-eth0.network']),
      file(
        'file:/etc/systemd/network/10-eth0.network',
        '[Match]\nName=eth0\n[RoutingPolicyRule]\nFrom=10.0.0.11\nTable=lvs_nat\nPriority=100\n[Route]\nGateway=10.0.0.254\nTable=lvs_nat\n',
      ),
    ]);
    expect(run(policyNotPersistent, records).findings).toEqual([]);
  });

  it('netplan hosts get no automatic fix but the netplan form in the detail; keepalived-managed rules count as persistent', () => {
    const records = healthy([
      missing('file:/etc/network/interfaces'),
      dir('/etc/netplan', ['50-cloud-init.yaml']),
      file('file:/etc/netplan/50-cloud-init.yaml', 'network:\n  version: 2\n'),
    ]);
    const [f] = run(policyNotPersistent, records).findings;
    expect(f!.fix).toBeUndefined();
    expect(f!.detail).toMatch(/routing-policy:/);
    const kconf = file(
      'kconf:/etc/keepalived/keepalived.conf',
      'static_rules {\n  from 10.0.0.11 table lvs_nat\n}\nstatic_routes {\n  default via 10.0.0.254 table lvs_nat\n}\n',
      '/etc/keepalived/keepalived.conf',
    );
    expect(run(policyNotPersistent, [...records, kconf]).findings).toEqual([]);
  });
});
