import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckContext } from '../../../src/context.js';
import { runCheck } from '../../../src/check.js';
import type { FileStat, ProbeRecord } from '../../../src/types.js';
import { keepalivedConfigChecks } from '../../../checks/keepalived-config.js';
import { keepalivedPairChecks } from '../../../checks/keepalived-pair.js';
import { keepalivedScriptProvider } from '../../../src/probes/keepalived.js';
import { cmd, file, ipAddrJson, makeSnapshot } from '../../support/snapshot.js';

const FIX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/keepalived');
const CONF = '/etc/keepalived/keepalived.conf';
const fixture = (name: string) => readFileSync(path.join(FIX, name), 'utf8');
const check = (id: string) => [...keepalivedConfigChecks, ...keepalivedPairChecks].find((c) => c.id === id)!;

function stat(p: string, s: Partial<FileStat>): ProbeRecord {
  const st: FileStat = {
    exists: true,
    isFile: true,
    isDir: false,
    isSymlink: false,
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 100,
    mtimeMs: 0,
    parents: [
      { path: path.dirname(p), mode: 0o755, uid: 0, gid: 0 },
      { path: '/etc/keepalived', mode: 0o755, uid: 0, gid: 0 },
      { path: '/etc', mode: 0o755, uid: 0, gid: 0 },
      { path: '/', mode: 0o755, uid: 0, gid: 0 },
    ],
    ...s,
  };
  return { id: `stat:${p}`, kind: 'stat', path: p, status: 'ok', stdout: JSON.stringify(st), stderr: '', ms: 0 };
}

function run(id: string, records: ProbeRecord[], options = {}) {
  const ctx = new CheckContext(makeSnapshot(records, {}, { config: CONF, ...options }));
  return runCheck(check(id), ctx);
}

const configtest = (out: string, code: number) => cmd('keepalived-configtest', ['keepalived', '-t', '-f', CONF], '', code, out);

describe('keepalived-config-parse', () => {
  it('reports parser errors with FILE:LINE, skipping lines keepalived -t already named', () => {
    const text = fixture('broken-braces.conf');
    // keepalived -t named line 8 and 11 (captured in configtest/broken-braces.out, paths rewritten to CONF)
    const out = readFileSync(path.join(FIX, 'configtest/broken-braces.out'), 'utf8').replace(/\([^():]*broken-braces\.conf:/g, `(${CONF}:`); // captured where the repo was checked out then
    const r = run('keepalived-config-parse', [file(`kconf:${CONF}`, CONF, text), configtest(out, 5)]);
    expect(r.run.status).toBe('fail');
    const locs = r.findings.map((f) => [f.code, f.severity, f.location?.line]);
    expect(locs).toContainEqual(['keepalived-config-invalid', 'error', 12]);
    expect(locs).toContainEqual(['keepalived-config-invalid', 'error', 16]);
    expect(locs.map((l) => l[2])).not.toContain(8);
    expect(locs.map((l) => l[2])).not.toContain(11);
  });

  it('reports everything when keepalived -t did not run', () => {
    const r = run('keepalived-config-parse', [file(`kconf:${CONF}`, CONF, fixture('broken-vrid-352.conf'))]);
    expect(r.findings[0]).toMatchObject({ code: 'keepalived-config-invalid', severity: 'error', location: { file: CONF, line: 4 } });
  });

  it.each(['cloud-snat-havip.conf', 'lvs-nat-director.conf', 'dsnat.conf', 'multicast-cloud-vip.conf'])('passes on the valid design config %s', (f) => {
    expect(run('keepalived-config-parse', [file(`kconf:${CONF}`, CONF, fixture(f))]).findings).toEqual([]);
  });

  it('skips when the config is unreadable', () => {
    expect(run('keepalived-config-parse', []).run.status).toBe('skip');
  });
});

describe('keepalived-notify-scripts', () => {
  const scripts = ['notify_master', 'notify_backup', 'notify_fault', 'notify_stop'].map((n) => `/etc/keepalived/scripts/${n}.sh`);
  const good = [...scripts, '/etc/keepalived/scripts/check_snat.sh'].map((p) => stat(p, {}));

  it('the provider asks for a stat of every script the config runs', () => {
    const specs = keepalivedScriptProvider.probes({
      round: 1,
      records: { [`kconf:${CONF}`]: file(`kconf:${CONF}`, CONF, fixture('cloud-snat-havip.conf')) },
      options: { config: CONF },
      isRoot: true,
    });
    expect(specs.map((s) => s.id).sort()).toEqual([...scripts, '/etc/keepalived/scripts/check_snat.sh'].map((p) => `stat:${p}`).sort());
    expect(specs.every((s) => s.kind === 'stat')).toBe(true);
  });

  it('passes with root-owned executable scripts in safe directories', () => {
    expect(run('keepalived-notify-scripts', [file(`kconf:${CONF}`, CONF, fixture('cloud-snat-havip.conf')), ...good]).run.status).toBe('pass');
  });

  it('finds a missing, a non-executable and an unsafe script', () => {
    const records = [
      file(`kconf:${CONF}`, CONF, fixture('cloud-snat-havip.conf')),
      stat(scripts[0]!, { exists: false, parents: [] }),
      stat(scripts[1]!, { mode: 0o644 }),
      stat(scripts[2]!, { parents: [{ path: '/etc/keepalived/scripts', mode: 0o777, uid: 0, gid: 0 }] }),
      stat(scripts[3]!, { uid: 1000 }),
      stat('/etc/keepalived/scripts/check_snat.sh', {}),
    ];
    const r = run('keepalived-notify-scripts', records);
    expect(r.findings.map((f) => [f.code, f.location?.line, f.title])).toEqual([
      ['notify-script-invalid', 38, 'notify_master of vrrp_instance VI_SNAT: /etc/keepalived/scripts/notify_master.sh does not exist'],
      ['notify-script-invalid', 39, 'notify_backup of vrrp_instance VI_SNAT: /etc/keepalived/scripts/notify_backup.sh is not executable (mode 0644)'],
      [
        'notify-script-invalid',
        40,
        'notify_fault of vrrp_instance VI_SNAT: /etc/keepalived/scripts/notify_fault.sh its directory /etc/keepalived/scripts is group/world-writable (mode 0777)',
      ],
      ['notify-script-invalid', 41, 'notify_stop of vrrp_instance VI_SNAT: /etc/keepalived/scripts/notify_stop.sh is owned by uid 1000, not root'],
    ]);
  });

  it('ownership and directories only matter with enable_script_security', () => {
    const text = fixture('cloud-snat-havip.conf').replace('enable_script_security', '');
    const records = [
      file(`kconf:${CONF}`, CONF, text),
      ...good.slice(1),
      stat(scripts[0]!, { uid: 1000, parents: [{ path: '/tmp', mode: 0o1777, uid: 0, gid: 0 }] }),
    ];
    expect(run('keepalived-notify-scripts', records).run.status).toBe('pass');
  });

  it('skips when no stat was collected', () => {
    expect(run('keepalived-notify-scripts', [file(`kconf:${CONF}`, CONF, fixture('cloud-snat-havip.conf'))]).run.status).toBe('skip');
  });
});

describe('keepalived-unicast-peers', () => {
  const conf = file(`kconf:${CONF}`, CONF, fixture('cloud-snat-havip.conf'));
  it('passes when unicast_src_ip is local and the peer is not', () => {
    const r = run('keepalived-unicast-peers', [
      conf,
      cmd('ip-addr', ['ip', '-j', 'addr', 'show'], ipAddrJson({ lo: ['127.0.0.1/8'], eth0: ['172.16.0.11/24'] })),
    ]);
    expect(r.run.status).toBe('pass');
  });
  it('flags a foreign unicast_src_ip and self as peer', () => {
    const r = run('keepalived-unicast-peers', [conf, cmd('ip-addr', ['ip', '-j', 'addr', 'show'], ipAddrJson({ eth0: ['172.16.0.12/24'] }))]);
    expect(r.findings.map((f) => f.title)).toEqual([
      '(VI_SNAT) unicast_src_ip 172.16.0.11 is not an address of this node',
      '(VI_SNAT) unicast_peer 172.16.0.12 is this node itself',
    ]);
    expect(r.findings[1]!.location).toEqual({ file: CONF, line: 30 });
  });
  it('flags unicast keywords with an empty peer list, even without ip addr', () => {
    const r = run('keepalived-unicast-peers', [file(`kconf:${CONF}`, CONF, fixture('smells.conf'))]);
    expect(r.findings).toMatchObject([{ code: 'unicast-peer-invalid', severity: 'error', subject: 'VI_1', location: { line: 5 } }]);
  });
});

describe('keepalived-multicast-cloud', () => {
  const dmi = (vendor: string): ProbeRecord => ({
    id: 'dmi-sys-vendor',
    kind: 'file',
    path: '/sys/class/dmi/id/sys_vendor',
    status: 'ok',
    stdout: `${vendor}\n`,
    stderr: '',
    ms: 0,
  });
  it('warns on a cloud host with multicast adverts, and names the security group', () => {
    const r = run('keepalived-multicast-cloud', [file(`kconf:${CONF}`, CONF, fixture('multicast-cloud-vip.conf')), dmi('Alibaba Cloud')]);
    expect(r.findings).toMatchObject([{ code: 'vrrp-multicast-in-cloud', severity: 'warning', subject: 'VI_1' }]);
    expect(r.findings[0]!.detail).toMatch(/security group is not visible from the host/);
  });
  it('is quiet with unicast peers, and off the cloud', () => {
    expect(run('keepalived-multicast-cloud', [file(`kconf:${CONF}`, CONF, fixture('cloud-snat-havip.conf')), dmi('Alibaba Cloud')]).run.status).toBe('pass');
    expect(run('keepalived-multicast-cloud', [file(`kconf:${CONF}`, CONF, fixture('multicast-cloud-vip.conf')), dmi('QEMU')]).run.status).toBe('pass');
  });
});

describe('keepalived-config-smells', () => {
  it('long auth_pass, lower-case lb_kind, as warnings with the reason (nopreempt with MASTER is nopreempt-ineffective now)', () => {
    const r = run('keepalived-config-smells', [file(`kconf:${CONF}`, CONF, fixture('smells.conf'))]);
    expect(r.findings.map((f) => [f.severity, f.location?.line, f.title])).toEqual([
      ['warning', 11, '(VI_1) auth_pass is longer than 8 characters and is truncated to 8'],
      ['warning', 25, 'virtual_server 10.0.0.254 80: lb_kind nat must be upper case'],
    ]);
    // never the value, nor the 8 characters keepalived uses of it
    expect(r.findings[0]!.detail).toContain('first 8 of its 12 characters');
    expect(JSON.stringify(r.findings)).not.toContain('12345678');
  });
  it('lower-case dr is an error: keepalived falls back to NAT', () => {
    const text = fixture('smells.conf').replace('lb_kind nat', 'lb_kind dr');
    expect(run('keepalived-config-smells', [file(`kconf:${CONF}`, CONF, text)]).findings.at(-1)).toMatchObject({ severity: 'error' });
  });
});

describe('keepalived-pair', () => {
  const A = fixture('cloud-snat-havip.conf');
  const B = A.replace('priority 150', 'priority 100')
    .replace('unicast_src_ip 172.16.0.11', 'unicast_src_ip 172.16.0.12')
    .replace(/unicast_peer \{\s*172\.16\.0\.12/, 'unicast_peer {\n        172.16.0.11');
  const pair = (a: string, b: string) =>
    run('keepalived-pair', [file(`kconf:${CONF}`, CONF, a), file('peer-config', '/tmp/b.conf', b)], { peerConfig: '/tmp/b.conf' });

  it('a mirrored pair is consistent', () => {
    expect(pair(A, B).run.status).toBe('pass');
  });
  it('skips without --peer-config', () => {
    expect(run('keepalived-pair', [file(`kconf:${CONF}`, CONF, A)]).run).toMatchObject({ status: 'skip', reason: expect.stringContaining('--peer-config') });
  });
  it('auth, advert_int, VIPs, mirroring, equal priority, VRID', () => {
    const bad = B.replace('auth_pass snatpw1', 'auth_pass other')
      .replace('advert_int 1', 'advert_int 2')
      .replace('172.16.0.100/24', '172.16.0.101/24')
      .replace('unicast_peer {\n        172.16.0.11', 'unicast_peer {\n        172.16.0.13')
      .replace('priority 100', 'priority 150');
    const codes = pair(A, bad).findings.map((f) => [f.code, f.severity]);
    expect(codes).toEqual([
      ['vrrp-auth-mismatch', 'error'],
      ['vrrp-advert-int-mismatch', 'error'],
      ['keepalived-config-invalid', 'error'],
      ['unicast-peer-invalid', 'error'],
      ['keepalived-config-invalid', 'warning'],
    ]);
    expect(pair(A, B.replace('virtual_router_id 51', 'virtual_router_id 52')).findings).toMatchObject([
      { code: 'keepalived-config-invalid', title: '(VI_SNAT) VRID 51 here, 52 on the peer' },
    ]);
    expect(
      pair(A, fixture('multicast-cloud-vip.conf').replace('VI_1', 'VI_SNAT').replace('virtual_router_id 51', 'virtual_router_id 51')).findings.map(
        (f) => f.code,
      ),
    ).toContain('unicast-peer-invalid');
  });
  it('auth_pass agreeing in the first 8 characters is the same password', () => {
    const a = A.replace('auth_pass snatpw1', 'auth_pass 12345678xx');
    const b = B.replace('auth_pass snatpw1', 'auth_pass 12345678yy');
    expect(pair(a, b).findings.map((f) => f.code)).not.toContain('vrrp-auth-mismatch');
  });
});

describe('unknown keywords', () => {
  const text = 'vrrp_instance A {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress { 1.2.3.4 }\n prioirty 100\n}\n';
  it('are reported as info when keepalived -t could not run', () => {
    const r = run('keepalived-config-parse', [file(`kconf:${CONF}`, CONF, text)]);
    expect(r.findings).toMatchObject([
      {
        code: 'keepalived-config-invalid',
        severity: 'info',
        location: { line: 5 },
        title: expect.stringContaining("unknown keyword 'prioirty' in vrrp_instance A"),
      },
    ]);
  });
  it('are left to keepalived -t when it ran', () => {
    const r = run('keepalived-config-parse', [file(`kconf:${CONF}`, CONF, text), configtest(`(${CONF}: Line 5) Unknown keyword 'prioirty'\n`, 0)]);
    expect(r.findings).toEqual([]);
  });
});
