import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseKeepalivedConfig } from '../../../src/keepalived/parse.js';
import { diskReader, memoryReader } from '../../../src/keepalived/reader.js';

const FIX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/keepalived');
const parseFixture = (name: string) => parseKeepalivedConfig(path.join(FIX, name), diskReader());
const parseText = (text: string, extra: Record<string, string> = {}) =>
  parseKeepalivedConfig('/etc/keepalived/keepalived.conf', memoryReader({ '/etc/keepalived/keepalived.conf': text, ...extra }));
const errors = (r: ReturnType<typeof parseText>) => r.diagnostics.filter((d) => d.severity === 'error');

describe('design-document configurations', () => {
  it('cloud SNAT on a HaVip: unicast, notify scripts, track script, script security', () => {
    const { config, diagnostics } = parseFixture('cloud-snat-havip.conf');
    expect(errors({ config, diagnostics })).toEqual([]);
    expect(config.globalDefs).toMatchObject({ routerId: 'snat-gw1', enableScriptSecurity: true, scriptUser: 'root' });
    const [vi] = config.vrrpInstances;
    expect(vi).toMatchObject({
      name: 'VI_SNAT',
      state: 'BACKUP',
      interface: 'eth0',
      virtualRouterId: 51,
      priority: 150,
      advertInt: 1,
      nopreempt: true,
      unicastSrcIp: '172.16.0.11',
      unicastKeywords: true,
      authentication: { type: 'PASS', pass: 'snatpw1' },
    });
    expect(vi!.unicastPeers.map((p) => p.address)).toEqual(['172.16.0.12']);
    expect(vi!.virtualIpaddresses[0]).toMatchObject({ address: '172.16.0.100', prefix: 24, dev: 'eth0', raw: '172.16.0.100/24 dev eth0' });
    expect(vi!.notify.master).toMatchObject({ path: '/etc/keepalived/scripts/notify_master.sh', args: [], loc: { line: 38 } });
    expect(vi!.notify.stop?.path).toBe('/etc/keepalived/scripts/notify_stop.sh');
    expect(vi!.trackScripts).toMatchObject([{ name: 'chk_snat' }]);
    expect(config.vrrpScripts[0]).toMatchObject({
      name: 'chk_snat',
      interval: 2,
      weight: -30,
      fall: 2,
      rise: 2,
      script: { path: '/etc/keepalived/scripts/check_snat.sh' },
    });
    expect(vi!.loc).toEqual({ file: path.join(FIX, 'cloud-snat-havip.conf'), line: 17 });
  });

  it('LVS-NAT director: sync group, virtual/real servers, TCP_CHECK, HTTP_GET digest, 1.x spellings', () => {
    const r = parseFixture('lvs-nat-director.conf');
    expect(errors(r)).toEqual([]);
    expect(r.config.vrrpSyncGroups).toMatchObject([
      { name: 'VG_LVS', members: ['VI_WAN', 'VI_LAN'], notify: { master: { path: '/etc/keepalived/scripts/notify_master.sh' } } },
    ]);
    expect(r.config.vrrpInstances.map((v) => [v.name, v.interface, v.virtualRouterId])).toEqual([
      ['VI_WAN', 'eth1', 61],
      ['VI_LAN', 'eth0', 62],
    ]);
    const [http, https] = r.config.virtualServers;
    expect(http).toMatchObject({ address: '203.0.113.10', port: 80, scheduler: 'wlc', method: 'NAT', persistenceTimeout: 300, protocol: 'TCP', delayLoop: 6 });
    expect(http!.realServers[0]).toMatchObject({
      address: '10.0.0.11',
      port: 80,
      weight: 1,
      inhibitOnFailure: true,
      checks: [{ kind: 'TCP_CHECK', connectPort: 80, connectTimeout: 3 }],
    });
    expect(http!.realServers[1]!.checks[0]).toMatchObject({ kind: 'HTTP_GET', urls: [{ path: '/health', digest: '9b3a0c85a887a256d6939da88aabd8cd' }] });
    expect(https).toMatchObject({ port: 443, scheduler: 'rr', method: 'NAT' });
    expect(r.config.unknown).toEqual([]);
  });

  it('dsnat: local_address_group, laddr_group_name, a 0.0.0.0 0 virtual server', () => {
    const r = parseFixture('dsnat.conf');
    expect(errors(r)).toEqual([]);
    expect(r.config.localAddressGroups).toMatchObject([{ name: 'laddr_g1', entries: ['198.51.100.20-29', '198.51.100.40'], loc: { line: 7 } }]);
    expect(r.config.virtualServers[0]).toMatchObject({ address: '0.0.0.0', port: 0, method: 'SNAT', laddrGroupName: 'laddr_g1' });
  });

  it('multicast cloud VIP: no unicast keywords', () => {
    const r = parseFixture('multicast-cloud-vip.conf');
    expect(r.diagnostics).toEqual([]);
    expect(r.config.vrrpInstances[0]).toMatchObject({
      unicastKeywords: false,
      unicastPeers: [],
      virtualIpaddresses: [{ address: '192.168.0.100', prefix: 32 }],
    });
  });

  it('includes with a glob, relative to the including file, in sorted order, with braces on odd lines', () => {
    const r = parseFixture('include/keepalived.conf');
    expect(r.diagnostics).toEqual([]);
    expect(r.config.files.map((f) => path.relative(FIX, f))).toEqual(['include/keepalived.conf', 'include/conf.d/10-vi1.conf', 'include/conf.d/20-vi2.conf']);
    expect(r.config.vrrpInstances.map((v) => [v.name, v.state, v.virtualRouterId, path.basename(v.loc.file), v.loc.line])).toEqual([
      ['VI_1', 'MASTER', 51, '10-vi1.conf', 1],
      ['VI_2', 'BACKUP', 52, '20-vi2.conf', 1],
      ['VI_3', undefined, 53, '20-vi2.conf', 6],
    ]);
    expect(r.config.vrrpInstances[1]!.virtualIpaddresses[0]!.address).toBe('10.0.0.253');
  });
});

describe('broken configurations', () => {
  it('VRID 352 at line 4, as keepalived -t says', () => {
    const r = parseFixture('broken-vrid-352.conf');
    const e = errors(r);
    expect(e[0]).toMatchObject({ message: expect.stringContaining("number '352' outside range [1, 255]"), loc: { line: 4 } });
    expect(r.config.vrrpInstances[0]!.virtualRouterId).toBeUndefined();
  });

  it('extra and missing braces, invalid VIP', () => {
    const r = parseFixture('broken-braces.conf');
    const e = errors(r).map((d) => [d.loc.line, d.message]);
    expect(e).toContainEqual([8, expect.stringContaining("invalid virtual IP '10.0.0.300/24'")]);
    expect(e).toContainEqual([11, "extra '}' found"]);
    expect(e).toContainEqual([12, expect.stringContaining("missing '}'")]);
    expect(e).toContainEqual([16, expect.stringContaining("missing '}'")]);
    expect(r.config.vrrpInstances.map((v) => v.name)).toEqual(['VI_1', 'VI_2']);
  });

  it('smells are diagnosed as warnings', () => {
    const r = parseFixture('smells.conf');
    const w = r.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message);
    expect(w).toContainEqual(expect.stringContaining('auth_pass is longer than 8'));
    expect(w).toContainEqual(expect.stringContaining('without any unicast peer'));
  });

  it('missing required keywords and out-of-range values', () => {
    const r = parseText('vrrp_instance X {\n priority 0\n advert_int 0\n state master\n virtual_ipaddress { 1.2.3.4 }\n}\n');
    const msgs = errors(r).map((d) => d.message);
    expect(msgs).toContainEqual(expect.stringContaining('virtual router id must be set'));
    expect(msgs).toContainEqual(expect.stringContaining('no interface'));
    expect(msgs).toContainEqual(expect.stringContaining("number '0' outside range [1, 255]"));
    expect(msgs).toContainEqual(expect.stringContaining("number '0' outside range [0.01, 255]"));
    expect(msgs).toContainEqual(expect.stringContaining("unknown state 'master'"));
  });

  it('a missing main file is one error, never a throw', () => {
    const r = parseKeepalivedConfig('/nope/keepalived.conf', memoryReader({}));
    expect(r.diagnostics).toMatchObject([{ severity: 'error', message: expect.stringContaining('cannot read') }]);
  });
});

describe('syntax details (checked against keepalived 2.2.7 -t)', () => {
  it('comments with ! and # anywhere outside quotes; quoted strings keep them', () => {
    const r = parseText(
      'vrrp_instance A { # c\n interface eth0 ! c\n virtual_router_id 5#1\n virtual_ipaddress {\n 10.0.0.1/24 # x\n }\n notify_master "/x/y.sh arg#1 \\"q\\""\n}\n',
    );
    const vi = r.config.vrrpInstances[0]!;
    expect(vi.virtualRouterId).toBe(5);
    expect(vi.virtualIpaddresses[0]!.raw).toBe('10.0.0.1/24');
    expect(vi.notify.master).toMatchObject({ path: '/x/y.sh', args: ['arg#1', 'q'] });
  });

  it('a trailing backslash is glued to the word before it, not a continuation (keepalived 2.2.7)', () => {
    const r = parseText('vrrp_instance A {\n interface eth0\n virtual_router_id \\\n 51\n virtual_ipaddress { 1.2.3.4 }\n}\n');
    expect(r.config.unknown.map((u) => u.keyword)).toEqual(['virtual_router_id\\', '51']);
    expect(errors(r).map((d) => d.message)).toContainEqual(expect.stringContaining('virtual router id must be set'));
  });

  it('$NAME definitions (continued with a backslash) are substituted', () => {
    const r = parseText(
      '$IF=eth7\n$VIPS=10.0.0.1/24 \\\n10.0.0.2/24\nvrrp_instance A {\n interface $IF\n virtual_router_id 9\n virtual_ipaddress {\n $VIPS\n }\n}\n',
    );
    const vi = r.config.vrrpInstances[0]!;
    expect(vi.interface).toBe('eth7');
    expect(vi.virtualIpaddresses.map((v) => v.address)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('@id lines follow the config id when known, and are listed as unknown otherwise', () => {
    const text = 'vrrp_instance A {\n interface eth0\n@gw1 priority 150\n@^gw1 priority 100\n virtual_router_id 9\n virtual_ipaddress { 1.2.3.4 }\n}\n';
    const file = '/etc/keepalived/keepalived.conf';
    expect(parseKeepalivedConfig(file, memoryReader({ [file]: text }), { configId: 'gw1' }).config.vrrpInstances[0]!.priority).toBe(150);
    expect(parseKeepalivedConfig(file, memoryReader({ [file]: text }), { configId: 'gw2' }).config.vrrpInstances[0]!.priority).toBe(100);
    const r = parseKeepalivedConfig(file, memoryReader({ [file]: text }));
    expect(r.config.vrrpInstances[0]!.priority).toBeUndefined();
    expect(r.config.unknown.map((u) => u.keyword)).toEqual(['@gw1', '@^gw1']);
  });

  it('include loops are reported, not followed forever', () => {
    const r = parseText('include a.conf\n', { '/etc/keepalived/a.conf': 'include keepalived.conf\n' });
    expect(errors(r)).toMatchObject([{ message: expect.stringContaining('include loop'), loc: { file: '/etc/keepalived/a.conf', line: 1 } }]);
  });

  it('unknown keywords are kept with their context and line', () => {
    const r = parseText('frobnicate 1\nvrrp_instance A {\n interface eth0\n virtual_router_id 9\n lb_kind NAT\n virtual_ipaddress { 1.2.3.4 }\n}\n');
    expect(r.config.unknown).toMatchObject([
      { keyword: 'frobnicate', context: 'top level', loc: { line: 1 } },
      { keyword: 'lb_kind', context: 'vrrp_instance A', loc: { line: 5 } },
    ]);
  });

  it('notify with a user, unquoted', () => {
    const r = parseText(
      'vrrp_instance A {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress { 1.2.3.4 }\n notify_backup /bin/n.sh keepalived_script\n}\n',
    );
    expect(r.config.vrrpInstances[0]!.notify.backup).toMatchObject({ path: '/bin/n.sh', user: 'keepalived_script', args: [] });
  });
});

describe('trailing backslash', () => {
  it("priority 100 \\ gives '100\\' as keepalived says: invalid number", () => {
    const r = parseText('vrrp_instance A {\n interface eth0\n virtual_router_id 51\n priority 100 \\\n advert_int 3\n virtual_ipaddress { 1.2.3.4 }\n}\n');
    expect(errors(r)).toMatchObject([{ message: expect.stringContaining("'100\\' is not a number"), loc: { line: 4 } }]);
    expect(r.config.vrrpInstances[0]!.advertInt).toBe(3);
  });
});
