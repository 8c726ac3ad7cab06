// Issue 14 (part A): the field's VRRP failures on a real keepalived pair, each detected on the right
// node (and fixed where a safe fix exists), each shown absent on the healthy pair first.
import { describe, expect, it } from 'vitest';
import { ADDR, createLab, destroyLabsAfterEach, pairLab, requireRoot, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';
import { keepalivedConf } from './keepalived-files.js';

requireRoot();
let lab: Lab | undefined;
destroyLabsAfterEach();

async function check(node: 'gw1' | 'gw2', args: string[] = []): Promise<{ exitCode: number | undefined; report: Report }> {
  const r = await lab!.report<Report>(node, args);
  expect(
    r.report.checks.filter((c) => c.status === 'error'),
    JSON.stringify(r.report.checks.filter((c) => c.status === 'error')),
  ).toEqual([]);
  return r;
}
const of = (r: Report, code: string) => r.findings.filter((f) => f.code === code);

/** The log lines keepalived wrote since `from` (its length before the change). */
async function logSince(node: 'gw1' | 'gw2', from: number): Promise<string> {
  return (await lab!.keepalivedLog(node)).slice(from);
}

describe('vrrp_strict without accept: the VIP drops traffic (catalogue 3)', () => {
  it("is detected naming keepalived's nft table, fixed node by node (strict mode off, its ignored auth blocks off, reload, the stale table deleted), and the VIP answers again", async () => {
    // gw1 first, so it is MASTER from the start (no preemption race between the notify scripts)
    lab = await pairLab({ keepalivedConf: (gw) => keepalivedConf(gw).replace('script_user root', 'script_user root\n    vrrp_strict') });
    // the failure is real: the client cannot reach its gateway's VIP
    expect(await lab.ping('client', ADDR.lanVip, { count: 2 })).toBe(false);
    const { exitCode, report } = await check('gw1');
    const f = of(report, 'vrrp-strict-blocks-vip');
    expect(f.map((x) => x.subject).sort(), JSON.stringify(report.findings, null, 2)).toEqual(['VI_LAN', 'VI_WAN']);
    expect(exitCode).toBe(2);
    const lan = f.find((x) => x.subject === 'VI_LAN')!;
    expect(lan.severity).toBe('critical');
    expect(lan.evidence.map((e) => e.excerpt).join('\n')).toMatch(/table ip keepalived chain in: ip daddr @vips drop \(set vips = \{ .*192\.168\.100\.1/);
    expect(lan.evidence.some((e) => /vrrp_strict \(global_defs\)/.test(e.excerpt))).toBe(true);
    expect(lan.fix).toBeDefined();
    // the backup carries the same latent finding (it installs the rule the moment it is MASTER)
    expect(of((await check('gw2')).report, 'vrrp-strict-blocks-vip').length).toBe(2);

    const dry = await lab.doctor('gw1', ['fix', 'vrrp-strict-blocks-vip', '--dry-run']);
    expect(dry.stdout).toMatch(/-\s+vrrp_strict\n.*hagw-doctor: strict mode drops.*\n\s*\+#\s+vrrp_strict/);
    expect(dry.stdout).toMatch(/kill -HUP \d+/);
    // fixed node by node, the pair keeps one master throughout
    for (const node of ['gw2', 'gw1'] as const) {
      const fixed = await lab.doctor(node, ['fix', 'vrrp-strict-blocks-vip', '--yes']);
      expect(fixed.exitCode, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
      const conf = await lab.readEtc(node, 'keepalived/keepalived.conf');
      expect(conf).toMatch(/^#\s+vrrp_strict/m);
      expect(conf).toMatch(/^#\s+authentication \{/m);
      expect(of((await check(node)).report, 'vrrp-strict-blocks-vip')).toEqual([]);
      await lab.waitForMaster('gw1');
      await lab.waitForNoVip('gw2');
    }
    // the reloaded keepalived stopped dropping: the VIP answers, and the pair is healthy
    expect(await lab.ping('client', ADDR.lanVip, { count: 2 })).toBe(true);
    expect(await lab.ping('client', ADDR.upstream, { count: 2, timeoutS: 5 })).toBe(true);
    const after = (await check('gw1')).report;
    expect(of(after, 'vrrp-auth-mismatch')).toEqual([]);
    expect(of(after, 'vrrp-split-brain')).toEqual([]);
  });
});

describe("the master's WAN link drops and the sync group puts the node in FAULT (catalogue 14, 32)", () => {
  it('names the down interface for VI_WAN and the sync group for VI_LAN, and exits 2', async () => {
    lab = await pairLab();
    const healthy = await check('gw1');
    expect(of(healthy.report, 'vrrp-instance-fault')).toEqual([]);
    await lab.runOk(['ip', '-n', lab.nodes.gw1, 'link', 'set', 'eth1', 'down']);
    await lab.waitFor(async () => /\(VI_LAN\) Entering FAULT STATE/.test(await lab!.keepalivedLog('gw1')), { what: 'VI_LAN to enter FAULT on gw1' });
    await lab.waitForMaster('gw2');
    const { exitCode, report } = await check('gw1');
    expect(report.role).toBe('fault');
    expect(exitCode).toBe(2);
    const f = of(report, 'vrrp-instance-fault');
    const wan = f.find((x) => x.subject === 'VI_WAN');
    const lan = f.find((x) => x.subject === 'VI_LAN');
    expect(wan?.title, JSON.stringify(report.findings, null, 2)).toMatch(/interface eth1 is administratively down/);
    expect(wan!.evidence.some((e) => e.probe === 'ip-link' && /eth1: <.*> state DOWN/.test(e.excerpt))).toBe(true);
    expect(lan?.title).toMatch(/sync group VG_GW holds it in FAULT because member VI_WAN is \(interface eth1 is administratively down/);
    expect(lan!.severity).toBe('critical');
    // the node that took over is fine
    expect(of((await check('gw2')).report, 'vrrp-instance-fault')).toEqual([]);
    await lab.runOk(['ip', '-n', lab.nodes.gw1, 'link', 'set', 'eth1', 'up']);
    await lab.waitForMaster('gw1', 30_000);
    expect(of((await check('gw1')).report, 'vrrp-instance-fault')).toEqual([]);
  });

  it('a forwarding gateway without a sync group whose LAN and WAN VIPs sit on different nodes', async () => {
    // no sync group; gw2 wins the WAN instance (higher priority there)
    const conf = (gw: 'gw1' | 'gw2') => {
      let c = keepalivedConf(gw).replace(/vrrp_sync_group VG_GW \{[\s\S]*?\n\}\n/, '');
      const wan = c.indexOf('vrrp_instance VI_WAN');
      c =
        c.slice(0, wan) +
        c
          .slice(wan)
          .replace(/priority \d+/, `priority ${gw === 'gw1' ? 100 : 150}`)
          .replace(/state \w+/, `state ${gw === 'gw1' ? 'BACKUP' : 'MASTER'}`);
      return c;
    };
    lab = await createLab({ start: false, keepalivedConf: conf });
    await lab.startKeepalived('gw1');
    await lab.startKeepalived('gw2');
    await lab.waitFor(
      async () => (await lab!.holdsVip('gw1', ADDR.lanVip)) && (await lab!.holdsVip('gw2', ADDR.wanVip)) && !(await lab!.holdsVip('gw1', ADDR.wanVip)),
      { what: 'LAN VIP on gw1 and WAN VIP on gw2', timeoutMs: 30_000 },
    );
    const { report } = await check('gw1');
    const f = of(report, 'vrrp-instance-fault');
    expect(f.length, JSON.stringify(report.findings, null, 2)).toBe(1);
    expect(f[0]!.title).toMatch(/split across the nodes: VI_LAN MASTER here, VI_WAN BACKUP \(no vrrp_sync_group\)/);
    expect(f[0]!.severity).toBe('error');
  });
});

describe('VRRPv3 on one node, VRRPv2 on the other: both are MASTER (catalogue 11)', () => {
  it("is detected from the log and from the peer's config", async () => {
    lab = await createLab({
      start: false,
      keepalivedConf: (gw) =>
        gw === 'gw1'
          ? keepalivedConf(gw)
              .replace(/advert_int 1/g, 'advert_int 1\n    version 3')
              .replace(/\n    authentication \{[^}]*\}/g, '')
          : undefined,
    });
    await lab.startKeepalived('gw1');
    await lab.startKeepalived('gw2');
    await lab.waitFor(async () => (await lab!.holdsVip('gw1', ADDR.lanVip)) && (await lab!.holdsVip('gw2', ADDR.lanVip)), {
      what: 'both nodes to hold the LAN VIP (split brain)',
      timeoutMs: 30_000,
    });
    await lab.waitFor(async () => /wrong version\. Received 3 and expect 2/.test(await logSince('gw2', 0)), { what: 'gw2 to log the version mismatch' });
    const { exitCode, report } = await check('gw2');
    const f = of(report, 'vrrp-version-mismatch');
    expect(f.map((x) => x.subject).sort(), JSON.stringify(report.findings, null, 2)).toEqual(['VI_LAN', 'VI_WAN']);
    expect(f[0]!.title).toMatch(/this node speaks VRRPv2, the peer VRRPv3/);
    expect(f[0]!.evidence.some((e) => /wrong version\. Received 3 and expect 2/.test(e.excerpt))).toBe(true);
    expect(exitCode).toBe(2);
    // the same from gw1's side, with the peer's config as a second witness
    const peerConf = lab.etcPath('gw2', 'keepalived/keepalived.conf');
    const g1 = (await check('gw1', ['--peer-config', peerConf])).report;
    const f1 = of(g1, 'vrrp-version-mismatch').find((x) => x.subject === 'VI_LAN');
    expect(f1?.title, JSON.stringify(g1.findings, null, 2)).toMatch(/this node speaks VRRPv3, the peer VRRPv2/);
    expect(f1!.evidence.some((e) => e.probe === 'peer-config' && /version 2 \(the default\)/.test(e.excerpt))).toBe(true);
    // not blamed on a VRID collision
    expect(of(g1, 'vrid-collision')).toEqual([]);
  });
});

describe('a backup whose adverts keep getting lost flaps (catalogue 16, 30)', () => {
  it('reports the transitions per hour with advert timeouts as the cause', async () => {
    lab = await pairLab();
    expect(of((await check('gw2')).report, 'vrrp-flapping')).toEqual([]);
    // drop the master's adverts on the backup, then let them through again: each round is two changes
    for (let i = 0; i < 3; i++) {
      await lab.execOk('gw2', ['iptables', '-w', '-I', 'INPUT', '-p', 'vrrp', '-j', 'DROP']);
      await lab.waitForMaster('gw2');
      await lab.execOk('gw2', ['iptables', '-w', '-D', 'INPUT', '-p', 'vrrp', '-j', 'DROP']);
      await lab.waitForNoVip('gw2');
    }
    const { exitCode, report } = await check('gw2');
    const f = of(report, 'vrrp-flapping');
    expect(f.length, JSON.stringify(report.findings, null, 2)).toBe(1);
    expect(f[0]!.title).toMatch(/VI_LAN changed state 6 times/);
    expect(f[0]!.detail).toMatch(/advert timeouts/);
    expect(f[0]!.severity).toBe('critical');
    expect(exitCode).toBe(2);
    // the master saw the peer take over and give back too, but never changed state itself
    expect(of((await check('gw1')).report, 'vrrp-flapping')).toEqual([]);
  });
});
