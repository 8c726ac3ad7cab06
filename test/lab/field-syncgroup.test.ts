// Issue 14, catalogue 32: a sync group whose members' priorities favour different nodes. On the lab
// pair (VG_GW holds VI_LAN and VI_WAN), gw1 should win VI_LAN (150 > 100) and loses VI_WAN (90 < 100):
// the group stays on gw2, so VI_LAN's priority is not what decides. Found from gw1 with gw2's snapshot.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ADDR, createLab, destroyLabsAfterEach, requireRoot, waitFor, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';
import { keepalivedConf } from './keepalived-files.js';

requireRoot();
let lab: Lab | undefined;
destroyLabsAfterEach();

/** gw1's VI_WAN at priority 90: below gw2's 100, while its VI_LAN stays above (150). */
const splitPriorities = (gw: 'gw1' | 'gw2') => {
  const c = keepalivedConf(gw);
  if (gw === 'gw2') return c;
  const i = c.indexOf('vrrp_instance VI_WAN');
  return c.slice(0, i) + c.slice(i).replace('priority 150', 'priority 90');
};

async function pairCheck(): Promise<Report> {
  const peerFile = path.join(lab!.runDir, `gw2-${Date.now()}.json`);
  const snap = await lab!.doctor('gw2', ['snapshot', '-o', peerFile]);
  expect(snap.exitCode, snap.stderr).toBe(0);
  return (await lab!.report<Report>('gw1', ['--peer-snapshot', peerFile])).report;
}
const groupFindings = (r: Report) => r.findings.filter((f) => f.code === 'keepalived-config-invalid' && f.subject === 'VG_GW');

describe('sync group members preferring different nodes (catalogue 32)', () => {
  it("with VI_WAN preferring gw2 the group sticks on gw2 although VI_LAN's priority means gw1, and the finding names both priorities", async () => {
    lab = await createLab({ start: false, keepalivedConf: splitPriorities });
    await lab.startKeepalived('gw2');
    await lab.waitForMaster('gw2');
    await lab.startKeepalived('gw1');
    await waitFor(async () => /\(VI_LAN\) Entering BACKUP STATE/.test(await lab!.keepalivedLog('gw1')), { what: 'gw1 to start VI_LAN' });
    // VI_LAN's priority means gw1 (150 > 100), VI_WAN's means gw2 (100 > 90); the group cannot follow
    // both: it stays on gw2 and VI_LAN's intended master holds nothing (watched over 8 advert intervals)
    for (const end = Date.now() + 8_000; Date.now() < end; await new Promise((res) => setTimeout(res, 500))) {
      expect(await lab.holdsVip('gw2', ADDR.lanVip), await lab.keepalivedLog('gw1')).toBe(true);
      expect(await lab.holdsVip('gw1', ADDR.lanVip)).toBe(false);
    }
    const r = await pairCheck();
    const f = groupFindings(r);
    expect(f, JSON.stringify(r.findings, null, 1)).toHaveLength(1);
    expect(f[0]!.title).toBe("(VG_GW) the sync group's members disagree on the master: VI_LAN prefers this node, VI_WAN the peer");
    expect(f[0]!.detail).toContain('VI_LAN 150 here, 100 on the peer; VI_WAN 90 here, 100 on the peer');
  });
});
