// Issue 14: what no host can see (catalogue 4: a cloud security group / NACL; 24: a switch's IGMP
// snooping) and the log-only split brain that healed. The "outside" is the lab's switch namespace:
// its bridges sit between the gateways, outside both, and an nft bridge rule there drops VRRP the
// way a security group or a snooping switch does. Each node's own view is silent (both MASTER, no
// advert received, nothing dropped by either host), so the pair's finding must name the outside.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ADDR, destroyLabsAfterEach, pairLab, requireRoot, waitFor, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';
import { keepalivedConf } from './keepalived-files.js';
import type { GatewayNode } from './topology.js';

requireRoot();
let lab: Lab | undefined;
destroyLabsAfterEach();

/** The lab pair as multicast VRRP (224.0.0.18): no unicast_src_ip / unicast_peer. */
const multicastConf = (gw: GatewayNode) =>
  keepalivedConf(gw)
    .replace(/ {4}check_unicast_src\n/g, '')
    .replace(/ {4}unicast_src_ip \S+\n {4}unicast_peer \{\n\s+\S+\n {4}\}\n/g, '');

const pairOf = (conf: (gw: GatewayNode) => string): Promise<Lab> => pairLab({ keepalivedConf: conf });

/** gw1's check with gw2's snapshot beside it (--peer-snapshot). */
async function pairCheck(): Promise<Report> {
  const peerFile = path.join(lab!.runDir, `gw2-${Date.now()}.json`);
  const snap = await lab!.doctor('gw2', ['snapshot', '-o', peerFile]);
  expect(snap.exitCode, snap.stderr).toBe(0);
  const r = await lab!.report<Report>('gw1', ['--peer-snapshot', peerFile]);
  expect(r.report.checks.filter((c) => c.status === 'error')).toEqual([]);
  return r.report;
}

const splitBrains = (r: Report) => r.findings.filter((f) => f.code === 'vrrp-split-brain');

/** The switch drops what `match` selects between its ports (a bridge-family nft rule in PFX-sw). */
async function switchDrops(match: string): Promise<void> {
  await lab!.execOk('sw', ['nft', '-f', '-'], {
    input: `table bridge hagw_outside {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n    ${match} drop\n  }\n}\n`,
  });
}
const switchHeals = () => lab!.execOk('sw', ['nft', 'delete', 'table', 'bridge', 'hagw_outside']);

describe('adverts lost between the hosts: the finding names the outside cause (catalogue 4, 24)', () => {
  it('a switch that does not forward the VRRP multicast group (IGMP snooping): both MASTER, the split brain names the switch and what to check', async () => {
    lab = await pairOf(multicastConf);
    // the healthy multicast pair: no split brain
    expect(splitBrains(await pairCheck())).toEqual([]);

    await switchDrops('ip daddr 224.0.0.18');
    await lab.waitForMaster('gw2');
    expect(await lab.holdsVip('gw1', ADDR.lanVip)).toBe(true);

    const r = await pairCheck();
    // neither host drops anything: the host firewall evaluation passed on this node
    expect(r.checks.find((c) => c.id === 'netfilter-vrrp-filter')?.status).toBe('pass');
    expect(r.findings.filter((f) => f.code === 'vrrp-input-blocked' || f.code === 'vrrp-output-blocked')).toEqual([]);
    const sb = splitBrains(r);
    expect(sb.map((f) => f.title).sort()).toEqual([
      `VI_LAN (VRID ${ADDR.vridLan}): both nodes hold ${ADDR.lanVip}`,
      `VI_WAN (VRID ${ADDR.vridWan}): both nodes hold ${ADDR.wanVip}`,
    ]);
    for (const f of sb) {
      expect(f.severity).toBe('critical');
      expect(f.detail).toMatch(/Cause: outside both hosts\. Neither node shows one: both rule sets pass VRRP in and out/);
      expect(f.detail).toMatch(/a switch with IGMP snooping \(or a filter on 224\.0\.0\.0\/24\)/);
      expect(f.detail).toMatch(/tcpdump -ni eth[01] 'ip proto 112'/);
    }

    // the switch forwards again: gw2 steps down and the pair is quiet
    await switchHeals();
    await lab.waitForNoVip('gw2');
    expect(splitBrains(await pairCheck())).toEqual([]);
  });

  it('a security group that does not pass IP protocol 112 (unicast pair): the split brain names the security group, not the switch', async () => {
    lab = await pairOf((gw) => keepalivedConf(gw));
    await switchDrops('ip protocol vrrp');
    await lab.waitForMaster('gw2');
    const sb = splitBrains(await pairCheck());
    expect(sb).toHaveLength(2);
    for (const f of sb) {
      expect(f.detail).toMatch(/Cause: outside both hosts/);
      expect(f.detail).toMatch(/a cloud security group \/ network ACL that does not pass IP protocol 112 \(VRRP\) between the nodes/);
      // unicast adverts do not depend on multicast handling
      expect(f.detail).not.toMatch(/IGMP/);
    }
  });
});

describe('a split brain that healed while this node stayed MASTER is not reported', () => {
  it('gw1 heard the other master ("forcing new election"); once gw2 is BACKUP again, neither gw1 alone nor the pair reports a split brain', async () => {
    lab = await pairOf((gw) => keepalivedConf(gw));
    const from = (await lab.keepalivedLog('gw1')).length;
    // one way only: gw1's adverts do not reach gw2, gw2's reach gw1 (gw1 logs "forcing new election")
    await switchDrops(`ip saddr { ${ADDR.gw1.lan}, ${ADDR.gw1.wan} } ip protocol vrrp`);
    await lab.waitForMaster('gw2');
    await waitFor(async () => ((await lab!.keepalivedLog('gw1')).slice(from).match(/forcing new election/g) ?? []).length >= 4, {
      what: 'gw1 to log gw2\'s master adverts ("forcing new election")',
      timeoutMs: 20_000,
    });
    // while it lasts, gw1 alone reports it from its log
    const during = await lab.report<Report>('gw1');
    expect(
      splitBrains(during.report)
        .map((f) => f.subject)
        .sort(),
    ).toEqual(['VI_LAN', 'VI_WAN']);
    expect(splitBrains(during.report)[0]!.detail).toContain('forcing new election');

    await switchHeals();
    await lab.waitForNoVip('gw2');
    const healedAt = Date.now();
    // with the peer read: gw2 is BACKUP, so the episode in gw1's log is over, at once
    expect(splitBrains(await pairCheck())).toEqual([]);
    // gw1 alone: once five advert intervals + 5 s passed without another master advert
    await waitFor(async () => Date.now() - healedAt > 11_000, { what: 'the recency window (10 s) to pass', timeoutMs: 20_000, intervalMs: 500 });
    const after = await lab.report<Report>('gw1');
    expect(splitBrains(after.report), JSON.stringify(splitBrains(after.report), null, 1)).toEqual([]);
    // and the log still holds the episode: the lines are there, only no longer current
    expect((await lab.keepalivedLog('gw1')).slice(from)).toMatch(/forcing new election/);
  });
});
