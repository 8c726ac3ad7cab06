import { describe, expect, it, afterEach } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, readFileSync, mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateCommand, generatePair, validateGenerateInput } from '../../../src/generate/cli.js';
import { parseKeepalivedConfig } from '../../../src/keepalived/parse.js';
import { memoryReader } from '../../../src/keepalived/reader.js';
import { snatRules } from '../../../src/generate/render.js';

const base = { role: 'master', interface: 'eth0', vip: '192.168.100.1/24', self: '192.168.100.2', peer: '192.168.100.3', out: '/tmp/x' } as const;
const lab = { ...base, wanInterface: 'eth1', wanVip: '198.51.100.10/24' };
const ok = (raw: Record<string, unknown>) => {
  const v = validateGenerateInput(raw);
  if (!v.ok) throw new Error(v.error);
  return v.value;
};
const err = (raw: Record<string, unknown>) => {
  const v = validateGenerateInput(raw);
  return v.ok ? 'accepted' : v.error;
};

describe('validateGenerateInput', () => {
  it('applies defaults', () => {
    expect(ok(base)).toMatchObject({
      vrid: 51,
      priority: 150,
      advertInt: 1,
      multicast: false,
      snatSources: ['192.168.100.0/24'],
      exclude: ['100.64.0.0/10', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
    });
    expect(ok({ ...base, role: 'backup' }).priority).toBe(100);
  });
  it.each([
    [{ role: 'primary' }, '--role: expects master or backup'],
    [{ interface: 'a'.repeat(16) }, '--interface: an interface name has 1 to 15 characters'],
    [{ interface: 'eth/0' }, '--interface: an interface name has no "/"'],
    [{ interface: 'eth 0' }, '--interface: an interface name has no "/"'],
    [{ interface: '..' }, "--interface: '..' is not an interface name"],
    [{ interface: 'eth0#x' }, 'cannot hold safely'],
    [{ interface: 'e"}' }, 'cannot hold safely'],
    [{ vip: '192.168.100.1' }, '--vip: '],
    [{ vip: '192.168.100.300/24' }, '--vip: '],
    [{ vip: '192.168.100.1/33' }, '--vip: '],
    [{ self: '192.168.100.2; rm -rf /' }, '--self: '],
    [{ peer: '192.168.100.2' }, '--peer: is the same address as --self'],
    [{ vrid: '0' }, '--vrid: 0 is outside 1-255'],
    [{ vrid: '352' }, '--vrid: 352 is outside 1-255'],
    [{ vrid: '5x' }, "--vrid: '5x' is not a whole number"],
    [{ priority: '255' }, '--priority: 255 is outside 1-254'],
    [{ authPass: '123456789' }, '--auth-pass: expects 1 to 8'],
    [{ authPass: 'a b' }, '--auth-pass: expects 1 to 8'],
    [{ authPass: 'a"b' }, '--auth-pass: must not contain quotes'],
    [{ snatSource: '10.0.0.0/40' }, '--snat-source: '],
    [{ exclude: '1.2.3.4/8,x' }, "--exclude: 'x' is not"],
    [{ wanVip: '198.51.100.10/24' }, '--wan-vip: needs --wan-interface'],
    [{ wanInterface: 'eth0' }, '--wan-interface: must differ'],
    [{ out: undefined }, '--out: is required'],
  ])('refuses %o', (patch, message) => {
    expect(err({ ...base, ...patch })).toContain(message);
  });
  it('normalises CIDRs and leaves 10/8 out of the exclusions when the clients are inside it', () => {
    const v = ok({ ...base, snatSource: '10.1.2.3/16,192.168.5.0/24', exclude: '203.0.113.0/24' });
    expect(v.snatSources).toEqual(['10.1.0.0/16', '192.168.5.0/24']);
    expect(v.exclude).toEqual(['100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16', '203.0.113.0/24']);
  });
});

describe('generatePair', () => {
  it('writes a keepalived.conf the parser reads back as intended, unicast by default', () => {
    const files = generatePair(ok(lab));
    const conf = files['keepalived.conf']!.content;
    const { config, diagnostics } = parseKeepalivedConfig('/k.conf', memoryReader({ '/k.conf': conf }));
    expect(diagnostics).toEqual([]);
    // periodic GARP, so the doctor's garp-refresh-missing is not raised on a pair it generated
    expect(config.globalDefs).toMatchObject({ enableScriptSecurity: true, scriptUser: 'root', vrrpGarpMasterRefresh: 60 });
    expect(config.vrrpSyncGroups).toMatchObject([
      {
        members: ['VI_LAN', 'VI_WAN'],
        notify: { master: { path: '/etc/keepalived/scripts/notify_master.sh' }, stop: { path: '/etc/keepalived/scripts/notify_stop.sh' } },
      },
    ]);
    expect(
      config.vrrpInstances.map((v) => [
        v.name,
        v.state,
        v.virtualRouterId,
        v.priority,
        v.unicastSrcIp,
        v.unicastPeers.map((p) => p.address),
        v.virtualIpaddresses.map((a) => a.raw),
      ]),
    ).toEqual([
      ['VI_LAN', 'MASTER', 51, 150, '192.168.100.2', ['192.168.100.3'], ['192.168.100.1/24 dev eth0']],
      ['VI_WAN', 'MASTER', 52, 150, '192.168.100.2', ['192.168.100.3'], ['198.51.100.10/24 dev eth1']],
    ]);
  });
  it('--multicast drops the unicast keywords; without a WAN VIP the notify scripts sit on the instance', () => {
    const { config } = parseKeepalivedConfig(
      '/k.conf',
      memoryReader({ '/k.conf': generatePair(ok({ ...base, multicast: true }))['keepalived.conf']!.content }),
    );
    expect(config.vrrpInstances[0]).toMatchObject({ unicastKeywords: false, notify: { master: { path: '/etc/keepalived/scripts/notify_master.sh' } } });
    expect(config.vrrpSyncGroups).toEqual([]);
  });
  it('SNAT rules: exclusions first, then SNAT with ! -p vrrp to the WAN VIP; MASQUERADE without one', () => {
    const rules = snatRules(ok(lab)).map((r) => r.join(' '));
    expect(rules.at(-1)).toBe('-s 192.168.100.0/24 -o eth1 ! -p vrrp -m comment --comment hagw-doctor -j SNAT --to-source 198.51.100.10');
    expect(rules.slice(0, -1).every((r) => r.endsWith('-j RETURN'))).toBe(true);
    expect(rules[0]).toContain('-d 100.64.0.0/10');
    expect(snatRules(ok(base)).at(-1)!.join(' ')).toBe('-s 192.168.100.0/24 ! -p vrrp -m comment --comment hagw-doctor -j MASQUERADE');
  });
  it('backup/fault/stop delete exactly the rules master inserts', () => {
    const files = generatePair(ok(lab));
    const inserted = [...files['scripts/notify_master.sh']!.content.matchAll(/-I POSTROUTING \d+ (.*) \|\| status=1/g)].map((m) => m[1]);
    for (const n of ['backup', 'fault', 'stop']) {
      const deleted = [...files[`scripts/notify_${n}.sh`]!.content.matchAll(/-D POSTROUTING (.*) 2>\/dev\/null/g)].map((m) => m[1]);
      expect(deleted).toEqual(inserted);
    }
    expect(files['scripts/notify_master.sh']!.mode).toBe(0o755);
  });
  it('rules.v4 accepts VRRP from the peer and never tracks it; sysctl turns forwarding on', () => {
    const files = generatePair(ok(lab));
    expect(files['rules.v4']!.content).toMatch(/\*raw\n(?:#.*\n)?-I PREROUTING -p vrrp -j CT --notrack\n-I OUTPUT -p vrrp -j CT --notrack\nCOMMIT/);
    expect(files['rules.v4']!.content).toContain('-I INPUT -s 192.168.100.3/32 -p vrrp -j ACCEPT');
    expect(files['sysctl.conf']!.content).toMatch(/^net\.ipv4\.ip_forward = 1$/m);
    expect(files['INSTALL.md']!.content).toContain('iptables-restore --noflush < rules.v4');
  });
  it("--lvs-nat adds a virtual server with TCP_CHECK and the real servers' policy routing", () => {
    const files = generatePair(ok({ ...lab, lvsNat: true, realServer: '192.168.100.11:80,192.168.100.12:80', virtualServer: '198.51.100.10:80' }));
    const { config, diagnostics } = parseKeepalivedConfig('/k.conf', memoryReader({ '/k.conf': files['keepalived.conf']!.content }));
    expect(diagnostics).toEqual([]);
    expect(config.virtualServers[0]).toMatchObject({
      address: '198.51.100.10',
      port: 80,
      method: 'NAT',
      scheduler: 'wlc',
      realServers: [{ address: '192.168.100.11', checks: [{ kind: 'TCP_CHECK', connectPort: 80 }] }, { address: '192.168.100.12' }],
    });
    expect(files['realservers/192.168.100.11/rhel/rule-IFACE']!.content).toBe('from 192.168.100.11 table lvs_nat\n');
    expect(files['realservers/192.168.100.11/rhel/route-IFACE']!.content).toBe('default via 192.168.100.1 table lvs_nat\n');
    expect(files['realservers/192.168.100.11/rt_tables.append']!.content).toBe('100 lvs_nat\n');
  });
});

describe('generateCommand', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(path.join(os.tmpdir(), 'hagw-gen-test-'));
    dirs.push(d);
    return d;
  };
  const capture = async (opts: Record<string, string | boolean | undefined>) => {
    const out: string[] = [];
    const errw: string[] = [];
    const o = process.stdout.write.bind(process.stdout);
    const e = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => (errw.push(s), true)) as typeof process.stderr.write;
    try {
      const rc = await generateCommand(opts);
      return { rc, stdout: out.join(''), stderr: errw.join('') };
    } finally {
      process.stdout.write = o;
      process.stderr.write = e;
    }
  };

  it('refuses bad input with one line and exit 3, writing nothing', async () => {
    const d = tmp();
    const r = await capture({ ...lab, vip: '192.168.100.1/99', out: path.join(d, 'out') });
    expect(r.rc).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--vip');
    expect(readdirSync(d)).toEqual([]);
  });

  it('writes the layout, validated by keepalived -t and iptables-restore --test here', async () => {
    const d = tmp();
    const out = path.join(d, 'gw1');
    const r = await capture({ ...lab, out });
    expect(r.stderr).toBe('');
    expect(r.rc).toBe(0);
    expect(r.stdout).toContain('checked: keepalived -t');
    expect(r.stdout).toContain('checked: iptables-restore --test');
    expect(readdirSync(out).sort()).toEqual(['INSTALL.md', 'keepalived.conf', 'rules.v4', 'scripts', 'sysctl.conf']);
    expect(readdirSync(path.join(out, 'scripts')).sort()).toEqual(['notify_backup.sh', 'notify_fault.sh', 'notify_master.sh', 'notify_stop.sh']);
    expect(statSync(path.join(out, 'scripts/notify_master.sh')).mode & 0o777).toBe(0o755);
    expect(readdirSync(d)).toEqual(['gw1']); // no temporary directory left behind
  });

  it('refuses a non-empty --out without --force, writing nothing', async () => {
    const d = tmp();
    mkdirSync(path.join(d, 'o'));
    writeFileSync(path.join(d, 'o', 'keepalived.conf'), 'mine\n');
    const r = await capture({ ...base, out: path.join(d, 'o') });
    expect(r.rc).toBe(3);
    expect(r.stderr).toContain('is not empty');
    expect(r.stderr).toContain('--force');
    expect(readdirSync(path.join(d, 'o'))).toEqual(['keepalived.conf']);
    expect(readFileSync(path.join(d, 'o', 'keepalived.conf'), 'utf8')).toBe('mine\n');
  });

  it('never writes through a symlinked scripts/ (or a symlinked --out)', async () => {
    const d = tmp();
    mkdirSync(path.join(d, 'o'));
    mkdirSync(path.join(d, 'elsewhere'));
    symlinkSync(path.join(d, 'elsewhere'), path.join(d, 'o', 'scripts'));
    const r = await capture({ ...base, out: path.join(d, 'o'), force: true });
    expect(r.rc).toBe(3);
    expect(r.stderr).toContain('symbolic link');
    expect(readdirSync(path.join(d, 'elsewhere'))).toEqual([]);
    expect(readdirSync(path.join(d, 'o'))).toEqual(['scripts']);
    symlinkSync(path.join(d, 'elsewhere'), path.join(d, 'linked'));
    const r2 = await capture({ ...base, out: path.join(d, 'linked') });
    expect(r2.rc).toBe(3);
    expect(r2.stderr).toContain('symbolic link');
    expect(readdirSync(path.join(d, 'elsewhere'))).toEqual([]);
  });

  it('with --force writes into an existing directory file by file, keeping other files', async () => {
    const d = tmp();
    mkdirSync(path.join(d, 'o'));
    writeFileSync(path.join(d, 'o', 'mine.txt'), 'x');
    expect((await capture({ ...base, out: path.join(d, 'o'), force: true })).rc).toBe(0);
    expect(existsSync(path.join(d, 'o', 'mine.txt'))).toBe(true);
    expect(readFileSync(path.join(d, 'o', 'keepalived.conf'), 'utf8')).toContain('vrrp_instance VI_LAN');
  });
});

describe('--lvs-nat input', () => {
  it('refuses a virtual server that is not the WAN VIP, and bad real servers', () => {
    expect(err({ ...lab, lvsNat: true, realServer: '192.168.100.11:80', virtualServer: '198.51.100.99:80' })).toContain(
      '--virtual-server: the service address must be the WAN VIP',
    );
    expect(err({ ...lab, lvsNat: true, realServer: '192.168.100.11' })).toContain("--real-server: '192.168.100.11' is not ADDR:PORT");
    expect(err({ ...base, lvsNat: true, realServer: '192.168.100.11:80' })).toContain('--lvs-nat: needs --wan-vip');
  });
});
