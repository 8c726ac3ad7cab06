// Issue 6's proof on the real keepalived pair: the routing-area checks stay silent on the healthy
// pair; a rule into an empty named table is detected and fixed with `hagw-doctor fix
// policy-table-empty --yes`; strict rp_filter on a forwarding interface is detected and fixed;
// GRO on a forwarding interface is detected and turned off.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { ADDR, createLab, requireRoot, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';

const ROUTING_CODES = [
  'policy-table-empty',
  'policy-table-unnamed',
  'policy-not-persistent',
  'rp-filter-strict',
  'nic-lro-on-forwarder',
  'ipvs-module-missing',
  'ipvs-realserver-down',
];
const ROUTING_CHECKS = [
  'policy-table-empty',
  'policy-table-unnamed',
  'policy-not-persistent',
  'lvs-nat-local-trap',
  'vip-stray-local',
  'ipvs-module',
  'ipvs-realservers',
  'ipvs-dsnat',
  'rp-filter',
  'nic-offload',
  'lvs-dr-arp',
  'vip-bind-nonlocal',
  'nic-irq',
];

requireRoot();
let lab: Lab;
beforeEach(async () => {
  lab = await createLab();
});
afterEach(async () => {
  await lab?.destroy();
});

async function check(node: 'gw1' | 'gw2'): Promise<Report> {
  const { report } = await lab.report<Report>(node);
  expect(report.checks.filter((c) => ROUTING_CHECKS.includes(c.id) && c.status === 'error')).toEqual([]);
  return report;
}
const routingFindings = (r: Report) => r.findings.filter((f) => ROUTING_CODES.includes(f.code));

/** The node's own /etc/iproute2 (ip netns exec binds /etc/netns/NS/iproute2 over it): the host's
 *  files plus rt_tables with the extra lines. */
async function nodeRtTables(node: 'gw1', extra: string): Promise<void> {
  for (const name of readdirSync('/etc/iproute2')) {
    const p = `/etc/iproute2/${name}`;
    if (!statSync(p).isFile()) continue;
    const text = readFileSync(p, 'utf8');
    await lab.writeEtc(node, `iproute2/${name}`, name === 'rt_tables' ? `${text}${extra}` : text);
  }
}

describe('routing area on the lab pair', () => {
  it('stays silent on the healthy pair', async () => {
    for (const node of ['gw1', 'gw2'] as const) {
      const report = await check(node);
      expect(routingFindings(report), node).toEqual([]);
      const ran = report.checks.filter((c) => ROUTING_CHECKS.includes(c.id)).map((c) => c.id);
      expect(ran.sort()).toEqual([...ROUTING_CHECKS].sort());
    }
  });

  it('a rule into an empty named table: detected, fixed with `fix policy-table-empty --yes`, re-checked clean', async () => {
    await nodeRtTables('gw1', '100\tlvs_nat\n');
    await lab.execOk('gw1', ['ip', 'rule', 'add', 'from', ADDR.gw1.lan, 'table', 'lvs_nat', 'priority', '1000']);
    expect((await lab.execOk('gw1', ['ip', 'rule', 'show'])).stdout).toMatch(/1000:\s+from 192\.168\.100\.2 lookup lvs_nat/);

    const before = await check('gw1');
    const empty = before.findings.filter((f) => f.code === 'policy-table-empty');
    expect(empty).toHaveLength(1);
    expect(empty[0]!.subject).toBe('table lvs_nat');
    expect(empty[0]!.evidence[0]!.excerpt).toBe(`1000:\tfrom ${ADDR.gw1.lan} lookup lvs_nat`);
    expect(empty[0]!.fix).toBeDefined();
    // the named table is named: no policy-table-unnamed
    expect(before.findings.filter((f) => f.code === 'policy-table-unnamed')).toEqual([]);

    const fixed = await lab.doctor('gw1', ['fix', 'policy-table-empty', '--yes']);
    expect(fixed.exitCode, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    expect((await lab.execOk('gw1', ['ip', 'rule', 'show'])).stdout).not.toMatch(/lvs_nat/);
    const after = await check('gw1');
    expect(after.findings.filter((f) => f.code.startsWith('policy-'))).toEqual([]);
    // the pair still behaves
    await lab.waitForMaster('gw1');
    expect(await lab.ping('client', ADDR.upstream, { count: 2, timeoutS: 5 })).toBe(true);
  });

  it('strict rp_filter on a forwarding interface: detected, fixed, persisted in the drop-in', async () => {
    await lab.execOk('gw1', ['sysctl', '-w', 'net.ipv4.conf.eth1.rp_filter=1']);
    const before = await check('gw1');
    const strict = before.findings.filter((f) => f.code === 'rp-filter-strict');
    expect(strict).toHaveLength(1);
    expect(strict[0]!.subject).toBe('eth1');
    expect(strict[0]!.evidence.map((e) => e.excerpt)).toContain('net.ipv4.conf.eth1.rp_filter = 1 (effective 1)');
    // gw2 was not touched
    expect((await check('gw2')).findings.filter((f) => f.code === 'rp-filter-strict')).toEqual([]);

    const fixed = await lab.doctor('gw1', ['fix', 'rp-filter-strict', '--yes']);
    expect(fixed.exitCode, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    expect((await lab.execOk('gw1', ['cat', '/proc/sys/net/ipv4/conf/eth1/rp_filter'])).stdout.trim()).toBe('2');
    expect(await lab.readEtc('gw1', 'sysctl.d/90-hagw-doctor.conf')).toMatch(/^net\.ipv4\.conf\.eth1\.rp_filter = 2$/m);
    expect((await check('gw1')).findings.filter((f) => f.code === 'rp-filter-strict')).toEqual([]);
  });

  it('GRO on a forwarding interface: detected from ethtool -k, fixed with ethtool -K', async () => {
    await lab.execOk('gw2', ['ethtool', '-K', 'eth0', 'gro', 'on']);
    const before = await check('gw2');
    const gro = before.findings.filter((f) => f.code === 'nic-lro-on-forwarder');
    expect(gro.map((f) => f.subject)).toEqual(['eth0']);
    expect(gro[0]!.evidence[0]).toEqual({ probe: 'ethtool-k:eth0', excerpt: 'generic-receive-offload: on' });

    const fixed = await lab.doctor('gw2', ['fix', 'nic-lro-on-forwarder', '--yes']);
    expect(fixed.exitCode, `${fixed.stdout}\n${fixed.stderr}`).toBe(0);
    expect((await lab.execOk('gw2', ['ethtool', '-k', 'eth0'])).stdout).toMatch(/^generic-receive-offload: off$/m);
    expect((await check('gw2')).findings.filter((f) => f.code === 'nic-lro-on-forwarder')).toEqual([]);
  });
});
