// Issue 14 (part B) on the real keepalived pair: each failure reproduced as operators meet it,
// detected by the doctor, and cured (by the doctor's fix where it has one, else by the operator's
// config change), with the effect shown on the wire or in the kernel, not only in the report.
import { describe, expect, it } from 'vitest';
import { ADDR, createLab, destroyLabsAfterEach, requireRoot, waitFor, type Lab } from './harness.js';
import type { Finding, Report } from '../../src/types.js';
import { keepalivedConf } from './keepalived-files.js';

requireRoot();
let lab: Lab | undefined;
destroyLabsAfterEach();

async function findings(node: 'gw1' | 'gw2', code: string, args: string[] = []): Promise<Finding[]> {
  const { report } = await lab!.report<Report>(node, args);
  expect(
    report.checks.filter((c) => c.id.startsWith('field-') && c.status === 'error'),
    JSON.stringify(report.checks),
  ).toEqual([]);
  return report.findings.filter((f) => f.code === code);
}

async function mac(node: 'gw1' | 'gw2' | 'client', ifname: string): Promise<string> {
  const r = await lab!.runOk(['ip', '-n', lab!.nodes[node], '-j', 'link', 'show', ifname]);
  return (JSON.parse(r.stdout) as Array<{ address: string }>)[0]!.address;
}

async function neighMac(addr: string): Promise<string | undefined> {
  const r = await lab!.runOk(['ip', '-n', lab!.nodes.client, '-j', 'neigh', 'show', addr]);
  return (JSON.parse(r.stdout || '[]') as Array<{ lladdr?: string }>)[0]?.lladdr;
}

async function restart(node: 'gw1' | 'gw2', conf: string): Promise<void> {
  await lab!.writeEtc(node, 'keepalived/keepalived.conf', conf);
  await lab!.stopKeepalived(node);
  await lab!.startKeepalived(node);
}

const countLines = async (node: 'gw1' | 'gw2', re: RegExp) => (await lab!.keepalivedLog(node)).split('\n').filter((l) => re.test(l)).length;

describe('garp-refresh-missing (catalogue 7)', () => {
  it('a stale ARP entry upstream stays wrong without periodic GARP; with vrrp_garp_master_refresh the master corrects it', async () => {
    lab = await createLab();
    const before = await findings('gw1', 'garp-refresh-missing');
    expect(before.map((f) => f.subject).sort()).toEqual(['VI_LAN', 'VI_WAN']);
    expect(before[0]!.evidence.some((e) => /SNAT --to-source/.test(e.excerpt))).toBe(true);

    // the transition's GARP bursts are over once both (at once, and garp_master_delay later) are logged
    const garp = /Sending gratuitous ARP on eth0 for 192\.168\.100\.1/;
    await waitFor(async () => (await countLines('gw1', garp)) >= 10, { what: 'both GARP bursts of the transition on gw1', timeoutMs: 20_000 });
    // what a router keeps after a short split brain: the VIP at the other node's MAC, for a long time
    await lab.execOk('client', ['sysctl', '-qw', 'net.ipv4.neigh.eth0.base_reachable_time_ms=600000']);
    const wrong = await mac('gw2', 'eth0');
    const right = await mac('gw1', 'eth0');
    await lab.execOk('client', ['ip', 'neigh', 'replace', ADDR.lanVip, 'lladdr', wrong, 'dev', 'eth0', 'nud', 'reachable']);
    // nothing re-announces the VIP: the entry is still wrong after several advert intervals
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      expect(await neighMac(ADDR.lanVip)).toBe(wrong);
      await new Promise((r) => setTimeout(r, 500));
    }

    // the operator's fix the finding names: periodic GARP, on both nodes
    const cure = (n: 'gw1' | 'gw2') =>
      keepalivedConf(n).replace('    script_user root\n', '    script_user root\n    vrrp_garp_master_refresh 2\n    vrrp_garp_master_refresh_repeat 1\n');
    await lab.writeEtc('gw2', 'keepalived/keepalived.conf', cure('gw2'));
    await restart('gw1', cure('gw1'));
    await lab.waitForMaster('gw1', 30_000);
    expect(await findings('gw1', 'garp-refresh-missing')).toEqual([]);
    // once the restart's own bursts are over, poison the entry again: the periodic refresh corrects it
    // past the restart's two bursts (5 at once, 5 after garp_master_delay): 5 + 5 + at least 5 refreshes
    const start = await countLines('gw1', garp);
    await waitFor(async () => (await countLines('gw1', garp)) >= start + 15, {
      what: "the restart's GARP bursts and three refreshes on gw1",
      timeoutMs: 30_000,
    });
    await lab.execOk('client', ['ip', 'neigh', 'replace', ADDR.lanVip, 'lladdr', wrong, 'dev', 'eth0', 'nud', 'reachable']);
    await waitFor(async () => (await neighMac(ADDR.lanVip)) === right, {
      what: `the client's ARP entry for ${ADDR.lanVip} to be corrected to gw1 (${right})`,
      timeoutMs: 8000,
    });
  });
});

describe('nopreempt-ineffective (catalogue 17, 18)', () => {
  const CHECK = '/etc/keepalived/scripts/chk.sh';
  const TRACK = '    track_script {\n        chk\n    }\n';
  /** where: 'instance' tracks chk on VI_LAN, 'group' in the sync group (every member) */
  const withCheck = (lab: Lab, n: 'gw1' | 'gw2', groupExtra = '', where: 'instance' | 'group' = 'instance') => {
    let c = keepalivedConf(n)
      .replace(
        'vrrp_sync_group VG_GW {',
        `vrrp_script chk {\n    script "${CHECK}"\n    interval 1\n    weight -60\n    fall 1\n    rise 1\n}\n\nvrrp_sync_group VG_GW {`,
      )
      .replace('    notify_master', `${groupExtra}${where === 'group' ? TRACK : ''}    notify_master`)
      .replace('# hagw lab', `# hagw lab (${lab.id})`);
    if (where === 'instance') c = c.replace(/(vrrp_instance VI_LAN \{[\s\S]*?)(\n\}\n)/, `$1\n    track_script {\n        chk\n    }$2`);
    return c;
  };
  const staysOn = async (node: 'gw1' | 'gw2', ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      expect(await lab!.holdsVip(node, ADDR.lanVip)).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  it('a weighted track script in the sync group: dropped by keepalived, then (with sync_group_tracking_weight) on one member only; the VIP moves only when the group tracks it', async () => {
    lab = await createLab({ start: false });
    // each node's check looks at a file of its own in the run dir (which both nodes see)
    const okOf = (n: 'gw1' | 'gw2') => `${lab!.runDir}/check-ok-${n}`;
    const ok = okOf('gw1');
    for (const n of ['gw1', 'gw2'] as const) {
      await lab.writeEtc(n, 'keepalived/scripts/chk.sh', `#!/bin/sh\ntest -e ${okOf(n)}\n`, 0o755);
      await lab.writeEtc(n, 'keepalived/keepalived.conf', withCheck(lab, n));
      await lab.execOk(n, ['touch', okOf(n)]);
    }
    await lab.startKeepalived('gw1');
    await lab.startKeepalived('gw2');
    await lab.waitForSteadyState();
    expect(await lab.keepalivedLog('gw1')).toMatch(/\(VI_LAN\) ignoring tracked script chk with weights due to SYNC group/);

    const f = await findings('gw1', 'nopreempt-ineffective');
    expect(f.map((x) => x.title)).toEqual(['(VI_LAN) track script chk (weight -60) is ignored by keepalived: its failure never moves the VIP']);
    // the failure the operator sees: the check fails (150 - 60 < 100), yet gw1 stays MASTER
    await lab.execOk('gw1', ['rm', '-f', ok]);
    await staysOn('gw1', 5000);

    // the operator's first try: sync_group_tracking_weight; now the weight counts, but for VI_LAN only
    await lab.execOk('gw1', ['touch', ok]);
    const half = (n: 'gw1' | 'gw2') => withCheck(lab!, n, '    sync_group_tracking_weight\n');
    await restart('gw2', half('gw2'));
    await restart('gw1', half('gw1'));
    await lab.waitForSteadyState();
    expect((await findings('gw1', 'nopreempt-ineffective')).map((x) => x.title)).toEqual([
      '(VI_LAN) track_script chk (weight -60) lowers only VI_LAN: sync group VG_GW still cannot move',
    ]);
    await lab.execOk('gw1', ['rm', '-f', ok]);
    await waitFor(async () => /\(VI_LAN\) Changing effective priority from 150 to 90/.test(await lab!.keepalivedLog('gw1')), {
      what: 'gw1 to lower VI_LAN to 90',
      timeoutMs: 10_000,
    });
    await staysOn('gw1', 5000);

    // the cure the finding names: track the script in the sync group
    await lab.execOk('gw1', ['touch', ok]);
    const cured = (n: 'gw1' | 'gw2') => withCheck(lab!, n, '    sync_group_tracking_weight\n', 'group');
    await restart('gw2', cured('gw2'));
    await restart('gw1', cured('gw1'));
    await lab.waitForSteadyState();
    expect(await findings('gw1', 'nopreempt-ineffective')).toEqual([]);
    await lab.execOk('gw1', ['rm', '-f', ok]);
    await lab.waitForMaster('gw2', 15_000);
    await lab.waitForNoVip('gw1', 15_000);
  });

  it('nopreempt with a weighted check: the finding names it, and the lab shows the VIP staying on the failing node', async () => {
    lab = await createLab({ start: false });
    const okOf = (n: 'gw1' | 'gw2') => `${lab!.runDir}/check-ok-${n}`;
    const ok = okOf('gw1');
    const conf = (n: 'gw1' | 'gw2') =>
      withCheck(lab!, n, '    sync_group_tracking_weight\n', 'group')
        .replace(/state MASTER/g, 'state BACKUP')
        .replace(/priority 150\n/g, 'priority 150\n    nopreempt\n')
        .replace(/priority 100\n/g, 'priority 100\n    nopreempt\n');
    for (const n of ['gw1', 'gw2'] as const) {
      await lab.writeEtc(n, 'keepalived/scripts/chk.sh', `#!/bin/sh\ntest -e ${okOf(n)}\n`, 0o755);
      await lab.writeEtc(n, 'keepalived/keepalived.conf', conf(n));
      await lab.execOk(n, ['touch', okOf(n)]);
    }
    await lab.startKeepalived('gw1');
    await lab.waitForMaster('gw1', 30_000);
    await lab.startKeepalived('gw2');
    await lab.waitForNoVip('gw2');
    const f = await findings('gw1', 'nopreempt-ineffective');
    expect(f.map((x) => x.title)).toEqual([
      '(VI_LAN) nopreempt with track_script chk weight -60: a failure lowers the priority but the VIP stays',
      '(VI_WAN) nopreempt with track_script chk weight -60: a failure lowers the priority but the VIP stays',
    ]);
    await lab.execOk('gw1', ['rm', '-f', ok]);
    await waitFor(async () => /\(VI_LAN\) Changing effective priority from 150 to 90/.test(await lab!.keepalivedLog('gw1')), {
      what: 'gw1 to lower its priority to 90',
      timeoutMs: 10_000,
    });
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      expect(await lab.holdsVip('gw1', ADDR.lanVip)).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
    }
  });
});

describe('vip-address-invalid (catalogue 36)', () => {
  it('a VIP written /16 in a /24 subnet: its connected route captures foreign traffic on the master; /24 cures it', async () => {
    const wide = (n: 'gw1' | 'gw2') => keepalivedConf(n).replace(`${ADDR.lanVip}/${ADDR.prefixLen} dev eth0`, `${ADDR.lanVip}/16 dev eth0`);
    lab = await createLab({ keepalivedConf: wide });
    const f = await findings('gw1', 'vip-address-invalid');
    expect(f.map((x) => x.title)).toEqual([
      expect.stringMatching(/^\(VI_LAN\) VIP 192\.168\.100\.1\/16: it lies in eth0's subnet 192\.168\.100\.0\/24 but is written \/16/),
    ]);
    expect(f[0]!.severity).toBe('error');
    // the effect: 192.168.200.5 (not on this LAN) is now "connected" on eth0 instead of following the default route
    const hijacked = await lab.execOk('gw1', ['ip', 'route', 'get', '192.168.200.5']);
    expect(hijacked.stdout).toMatch(/dev eth0/);
    for (const n of ['gw2', 'gw1'] as const) await restart(n, keepalivedConf(n));
    await lab.waitForSteadyState();
    expect(await findings('gw1', 'vip-address-invalid')).toEqual([]);
    expect((await lab.exec('gw1', ['ip', 'route', 'get', '192.168.200.5'])).stdout).not.toMatch(/dev eth0/);
  });
});

describe('virtual-routes-conflict (catalogue 31)', () => {
  it('the default route only as a virtual route: the backup has no way out; a static fallback with a higher metric cures it', async () => {
    const vr = (n: 'gw1' | 'gw2') =>
      keepalivedConf(n).replace(
        /(vrrp_instance VI_WAN \{[\s\S]*?)(\n\}\n?)$/,
        `$1\n    virtual_routes {\n        default via ${ADDR.upstream} dev eth1\n    }$2`,
      );
    lab = await createLab({ keepalivedConf: vr });
    // the master has the virtual default route, the backup has none
    expect((await lab.execOk('gw1', ['ip', 'route', 'show', 'default'])).stdout).toMatch(
      new RegExp(`default via ${ADDR.upstream.replace(/\./g, '\\.')} dev eth1`),
    );
    expect((await lab.exec('gw2', ['ip', 'route', 'get', '203.0.113.5'])).ok).toBe(false);
    const backup = await findings('gw2', 'virtual-routes-conflict');
    expect(backup.map((x) => x.title)).toEqual([`(VI_WAN) virtual route default via ${ADDR.upstream} dev eth1: this BACKUP node has no default route`]);
    const master = await findings('gw1', 'virtual-routes-conflict');
    expect(master.map((x) => x.title)).toEqual([
      `(VI_WAN) virtual route default via ${ADDR.upstream} dev eth1: the default route vanishes when this node becomes BACKUP`,
    ]);
    // the cure the finding names: a static default with a higher metric on each node
    for (const n of ['gw1', 'gw2'] as const) await lab.execOk(n, ['ip', 'route', 'add', 'default', 'via', ADDR.upstream, 'dev', 'eth1', 'metric', '100']);
    expect(await findings('gw2', 'virtual-routes-conflict')).toEqual([]);
    expect(await findings('gw1', 'virtual-routes-conflict')).toEqual([]);
    expect((await lab.exec('gw2', ['ip', 'route', 'get', '203.0.113.5'])).ok).toBe(true);
  });
});

describe('vmac-arp-settings (catalogue 23)', () => {
  it('VMAC without arp_announce: clients re-learn the base MAC; `fix vmac-arp-settings --yes` keeps the VMAC; a later reset is found again', async () => {
    const vmac = (n: 'gw1' | 'gw2') => keepalivedConf(n).replace(/(vrrp_instance VI_LAN \{\n)/, '$1    use_vmac\n    vmac_xmit_base\n');
    lab = await createLab({ keepalivedConf: vmac });
    const vmacMac = `00:00:5e:00:01:${ADDR.vridLan.toString(16).padStart(2, '0')}`;
    const baseMac = await mac('gw1', 'eth0');
    expect(await mac('gw1', 'vrrp.51')).toBe(vmacMac);
    /** the client asks for the VIP afresh; gw1 has to ask for the client too (its reply leaves through eth0) */
    const fresh = async () => {
      await lab!.execOk('client', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
      await lab!.execOk('gw1', ['ip', 'neigh', 'flush', 'all']);
      expect(await lab!.ping('client', ADDR.lanVip)).toBe(true);
      await waitFor(async () => /lladdr/.test((await lab!.exec('gw1', ['ip', 'neigh', 'show', ADDR.client, 'dev', 'eth0'])).stdout), {
        what: 'gw1 to resolve the client on eth0',
      });
    };

    // keepalived's own settings: the ARP reply carries the VMAC, but gw1's own ARP request (sent from
    // eth0 with the VIP as sender, arp_announce 0) re-teaches the client eth0's MAC
    await fresh();
    await waitFor(async () => (await neighMac(ADDR.lanVip)) === baseMac, { what: `the client to learn the VIP at gw1's eth0 MAC ${baseMac}`, timeoutMs: 5000 });
    const f = await findings('gw1', 'vmac-arp-settings');
    expect(f.map((x) => x.title)).toEqual(['(VI_LAN) VMAC vrrp.51 on eth0: eth0.arp_announce=0']);
    const fixed = await lab.doctor('gw1', ['fix', 'vmac-arp-settings', '--yes']);
    expect(fixed.exitCode, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    expect(await findings('gw1', 'vmac-arp-settings')).toEqual([]);
    await fresh();
    expect(await neighMac(ADDR.lanVip)).toBe(vmacMac);

    // what a later `sysctl --system` or configuration management does to keepalived's own settings
    await lab.execOk('gw1', ['sysctl', '-qw', 'net.ipv4.conf.all.arp_filter=1', 'net.ipv4.conf.eth0.arp_ignore=0']);
    const again = await findings('gw1', 'vmac-arp-settings');
    expect(again.map((x) => x.title)).toEqual(['(VI_LAN) VMAC vrrp.51 on eth0: eth0.arp_ignore=0, all.arp_filter=1']);
    await fresh();
    expect(await neighMac(ADDR.lanVip)).toBe(baseMac);
    expect((await lab.doctor('gw1', ['fix', 'vmac-arp-settings', '--yes'])).exitCode).toBe(0);
    await fresh();
    expect(await neighMac(ADDR.lanVip)).toBe(vmacMac);
  });
});

describe('cloud-vip-not-routed (catalogue 5, 6)', () => {
  it("quiet on the lab's plain network; on an OpenStack port (Neutron MAC) it names allowed_address_pairs; no fix", async () => {
    lab = await createLab();
    expect(await findings('gw1', 'cloud-vip-not-routed')).toEqual([]);
    // what a Neutron port looks like from inside the guest (DMI cannot be changed in the lab; the MAC can)
    await lab.execOk('gw1', ['ip', 'link', 'set', 'eth1', 'address', 'fa:16:3e:5a:01:02']);
    const f = await findings('gw1', 'cloud-vip-not-routed');
    expect(f.map((x) => x.title)).toEqual([`VIPs ${ADDR.lanVip}, ${ADDR.wanVip} on OpenStack: the provider must route them too`]);
    expect(f[0]!.detail).toMatch(/allowed_address_pairs/);
    expect(f[0]!.evidence[0]!.excerpt).toBe("eth1: link/ether fa:16:3e:5a:01:02 (fa:16:3e: is OpenStack Neutron's MAC prefix)");
    expect(f[0]!.fix).toBeUndefined();
  });
});
