import { describe, expect, it } from 'vitest';
import { mergeRtTables, parseRtTables, TableNames } from '../../../src/routing/rt-tables.js';
import { IpJsonError, parseIpRoutes, parseIpRules, ruleSelector, ruleText } from '../../../src/routing/iproute.js';
import {
  parseInterfacesFile,
  parseKeepalivedRoutingBlocks,
  parseNetplan,
  parseNetworkdFile,
  parseNmKeyfile,
  parseRouteFile,
  parseRuleFile,
} from '../../../src/routing/persist.js';
import { fixture } from './helpers.js';

describe('rt_tables', () => {
  it('reads the captured Debian file with an added lvs_nat entry', () => {
    const t = parseRtTables(fixture('routing', 'rt_tables.lvs_nat'), '/etc/iproute2/rt_tables');
    expect(t.problems).toEqual([]);
    expect(t.entries.map((e) => [e.id, e.name])).toEqual([
      [255, 'local'],
      [254, 'main'],
      [253, 'default'],
      [0, 'unspec'],
      [100, 'lvs_nat'],
    ]);
    const names = new TableNames(t);
    expect(names.resolve('lvs_nat')).toBe(100);
    expect(names.resolve('0x64')).toBe(100);
    expect(names.nameOf(100)).toBe('lvs_nat');
    expect(names.resolve('nope')).toBeUndefined();
  });

  it('reports a name with no number, a number with no name, and a name given two numbers', () => {
    const a = parseRtTables('100 lvs_nat\nlvs_dr\n200\n  # comment\n0x10 hexy trailing words\n', 'a');
    expect(a.entries.map((e) => [e.id, e.name, e.line])).toEqual([
      [100, 'lvs_nat', 1],
      [16, 'hexy', 5],
    ]);
    expect(a.problems.map((p) => [p.line, p.why])).toEqual([
      [2, 'a name with no number'],
      [3, 'a number with no name'],
    ]);
    const merged = mergeRtTables([a, parseRtTables('101 lvs_nat\n', 'b')]);
    expect(merged.problems.at(-1)?.why).toMatch(/lvs_nat is already table 100/);
    expect(new TableNames(merged).resolve('lvs_nat')).toBe(101);
  });

  it('survives binary junk and an empty file', () => {
    expect(parseRtTables('', 'x')).toEqual({ entries: [], problems: [] });
    expect(parseRtTables('\u0000\u0001 ###\n99999999999 big\n', 'x').problems).toHaveLength(2);
  });
});

describe('ip -j rule / route (captured in a scratch netns)', () => {
  it('parses every selector form ip printed', () => {
    const rules = parseIpRules(fixture('routing', 'broken.ip-rule.json'));
    expect(rules.map((r) => r.priority)).toEqual([0, 900, 1000, 1001, 1002, 1003, 1010, 2000, 32766, 32767]);
    const byPrio = new Map(rules.map((r) => [r.priority, r]));
    expect(byPrio.get(1000)).toMatchObject({ from: '10.0.0.11', table: 'lvs_nat', not: false });
    expect(byPrio.get(1002)).toMatchObject({ from: '10.0.0.0/24', table: '250' });
    expect(byPrio.get(900)).toMatchObject({ to: '198.51.100.0/24', iif: 'eth0', table: 'main' });
    expect(byPrio.get(1003)).toMatchObject({ not: true, fwmark: '0x5', fwmask: '0xff', table: '300' });
    expect(byPrio.get(2000)).toMatchObject({ action: 'unreachable' });
    expect(byPrio.get(2000)!.table).toBeUndefined();
    expect(ruleSelector(byPrio.get(1003)!)).toEqual(['not', 'from', 'all', 'fwmark', '0x5/0xff']);
    expect(ruleText(byPrio.get(1000)!)).toBe('1000:\tfrom 10.0.0.11 lookup lvs_nat');
    expect(rules.every((r) => r.extra.length === 0)).toBe(true);
  });

  it('gives main-table routes the table main and tells IPv6 from IPv4', () => {
    const routes = parseIpRoutes(fixture('routing', 'broken.ip-route.json'));
    expect(routes.find((r) => r.table === 'lvs_nat')).toMatchObject({ dst: 'default', gateway: '10.0.0.254', dev: 'eth0', family: 'inet' });
    expect(routes.find((r) => r.dst === 'default' && r.table === 'main')).toMatchObject({ gateway: '203.0.113.1' });
    expect(routes.filter((r) => r.family === 'inet6').length).toBeGreaterThan(0);
    expect(routes.find((r) => r.dst === '10.0.0.11' && r.table === 'local')?.type).toBe('local');
  });

  it('keeps keys it does not model, so such a rule is not re-created blindly', () => {
    const [r] = parseIpRules('[{"priority":5,"src":"all","l3mdev":null,"table":"10"}]');
    expect(r!.extra).toEqual(['l3mdev']);
  });

  it('rejects output that is not a JSON array, and reads empty output as no rules', () => {
    expect(() => parseIpRules('Error: ipv4: FIB table does not exist.')).toThrow(IpJsonError);
    expect(() => parseIpRoutes('{"dst":"default"}')).toThrow(IpJsonError);
    expect(parseIpRules('')).toEqual([]);
    expect(parseIpRules('[1, null, {"priority": 3, "src": "all", "table": "7"}]')).toHaveLength(1);
  });
});

describe('network configuration that recreates rules and routes', () => {
  it('RHEL rule-IF and route-IF (both route formats)', () => {
    expect(parseRuleFile('# lvs\nfrom 10.0.0.11 table lvs_nat\nfrom 10.0.0.12/32 lookup 100 priority 1000\n', '/r')).toMatchObject([
      { from: '10.0.0.11', table: 'lvs_nat', line: 2 },
      { from: '10.0.0.12/32', table: '100', priority: 1000, line: 3 },
    ]);
    const routes = parseRouteFile(
      'default via 10.0.0.254 dev eth0 table lvs_nat\nADDRESS0=10.1.0.0\nGATEWAY0=10.0.0.1\n192.0.2.0/24 via 10.0.0.1 table 200 # x\n',
      '/route-eth0',
    );
    expect(routes).toMatchObject([
      { dst: 'default', via: '10.0.0.254', dev: 'eth0', table: 'lvs_nat' },
      { dst: '192.0.2.0/24', table: '200', line: 4 },
    ]);
  });

  it('Debian ifupdown up/post-up hooks, chained commands, /sbin/ip and abbreviations', () => {
    const p = parseInterfacesFile(
      `auto eth0\niface eth0 inet static\n    address 10.0.0.11/24\n    up ip rule add from 10.0.0.11 table lvs_nat\n    post-up /sbin/ip -4 route add default via 10.0.0.254 table lvs_nat || true\n    pre-up ip ru a fwmark 1 lookup 200; ip ro replace 10.9.0.0/16 dev eth0 table 200\n    down ip rule del from 10.0.0.11 table lvs_nat\n`,
      '/etc/network/interfaces',
    );
    expect(p.rules).toMatchObject([
      { from: '10.0.0.11', table: 'lvs_nat', line: 4 },
      { fwmark: '1', table: '200', line: 6 },
    ]);
    expect(p.routes).toMatchObject([
      { dst: 'default', via: '10.0.0.254', table: 'lvs_nat' },
      { dst: '10.9.0.0/16', table: '200' },
    ]);
  });

  it('netplan routing-policy and routes, block and flow style', () => {
    const p = parseNetplan(
      `network:\n  version: 2\n  ethernets:\n    eth0:\n      addresses: [10.0.0.11/24]\n      routes:\n        - to: default\n          via: 10.0.0.254\n          table: 100\n        - {to: 192.0.2.0/24, via: 10.0.0.1, table: 200}\n      routing-policy:\n        - from: 10.0.0.11\n          table: 100\n          priority: 1000\n    eth1:\n      routing-policy: [{from: 10.0.1.0/24, table: 101}]\n`,
      '/etc/netplan/50.yaml',
    );
    expect(p.routes).toMatchObject([
      { dst: 'default', via: '10.0.0.254', table: '100', line: 7 },
      { dst: '192.0.2.0/24', table: '200' },
    ]);
    expect(p.rules).toMatchObject([
      { from: '10.0.0.11', table: '100', priority: 1000 },
      { from: '10.0.1.0/24', table: '101' },
    ]);
  });

  it('NetworkManager keyfile routing-rule and route options', () => {
    const p = parseNmKeyfile(
      '[connection]\nid=eth0\n[ipv4]\nmethod=manual\naddress1=10.0.0.11/24\nroute1=0.0.0.0/0,10.0.0.254\nroute1_options=table=100\nroute2=192.0.2.0/24,10.0.0.1,10\nrouting-rule1=priority 1000 from 10.0.0.11 table 100\n[ipv6]\nrouting-rule1=priority 5 from ::1 table 9\n',
      '/nm',
    );
    expect(p.rules).toMatchObject([{ from: '10.0.0.11', table: '100', priority: 1000 }]);
    expect(p.routes).toMatchObject([{ dst: '0.0.0.0/0', via: '10.0.0.254', table: '100' }, { dst: '192.0.2.0/24' }]);
    expect(p.routes[1]!.table).toBeUndefined();
  });

  it("keepalived's own static/virtual rules and routes blocks", () => {
    const p = parseKeepalivedRoutingBlocks(
      'vrrp_instance X {\n  virtual_rules {\n    from 10.0.0.11 table 100\n  }\n}\nstatic_routes {\n  default via 10.0.0.254 table 100 # c\n}\n',
      '/k',
    );
    expect(p.rules).toMatchObject([{ from: '10.0.0.11', table: '100', source: 'keepalived' }]);
    expect(p.routes).toMatchObject([{ dst: 'default', via: '10.0.0.254', table: '100' }]);
  });

  it('systemd-networkd [RoutingPolicyRule] and [Route] sections', () => {
    const p = parseNetworkdFile(
      '[Match]\nName=eth0\n[Network]\nAddress=10.0.0.11/24\n[RoutingPolicyRule]\nFrom=10.0.0.11\nTable=100\nPriority=1000\n[Route]\nGateway=10.0.0.254\nTable=100\n[Route]\nDestination=192.0.2.0/24\nGateway=10.0.0.1\n',
      '/etc/systemd/network/10-eth0.network',
    );
    expect(p.rules).toMatchObject([{ from: '10.0.0.11', table: '100', priority: 1000, line: 5, source: 'networkd' }]);
    expect(p.routes).toMatchObject([
      { dst: 'default', via: '10.0.0.254', table: '100' },
      { dst: '192.0.2.0/24', via: '10.0.0.1' },
    ]);
    expect(p.routes[1]!.table).toBeUndefined();
  });

  it('ignores garbage without throwing', () => {
    expect(parseRuleFile('from\n\n###\n', '/r')).toMatchObject([{}]);
    expect(parseNetplan('routes:\n- [broken\n  :: x\n', '/n').routes).toEqual([]);
    expect(parseNmKeyfile('[ipv4\nroute1=', '/n')).toEqual({ rules: [], routes: [] });
  });
});
