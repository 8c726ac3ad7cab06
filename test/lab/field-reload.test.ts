// Issue 14, catalogue 30: one reload that moves the VIP. gw1 (MASTER) reloads a config with its
// priorities below gw2's: gw2 preempts and takes both VIPs. Below the flapping rate, the doctor
// still names the reload as what moved them (info: it may have been meant; the log cannot tell).
// keepalived 2.2.7 keeps the state of an instance renamed on reload (it matches it by VRID), and a
// reload of the same config changes nothing: both shown here too.
import { describe, expect, it } from 'vitest';
import { ADDR, createLab, destroyLabsAfterEach, requireRoot, waitFor, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';

requireRoot();
let lab: Lab | undefined;
destroyLabsAfterEach();

describe('a reload that moves the VIP (catalogue 30)', () => {
  it('a plain reload and a rename are quiet; a reload that lowers the priorities moves the VIPs and is named, with the Reloading line as evidence', async () => {
    lab = await createLab({ start: false });
    await lab.startKeepalived('gw1');
    await lab.waitForMaster('gw1');
    await lab.startKeepalived('gw2');
    await lab.waitForSteadyState();
    const pid = lab.keepalivedPid('gw1')!;

    // a reload of the same config: no state change, no finding
    let from = (await lab.keepalivedLog('gw1')).length;
    process.kill(pid, 'SIGHUP');
    await waitFor(async () => /Reloading/.test((await lab!.keepalivedLog('gw1')).slice(from)), { what: 'gw1 to log its reload' });
    const plain = await lab.report<Report>('gw1');
    expect(plain.report.findings.filter((f) => f.code === 'vrrp-flapping')).toEqual([]);

    // the same VRID under a new name: 2.2.7 keeps the instance's state
    const conf = await lab.readEtc('gw1', 'keepalived/keepalived.conf');
    await lab.writeEtc('gw1', 'keepalived/keepalived.conf', conf.replace(/\bVI_LAN\b/g, 'VI_LAN_NEW'));
    from = (await lab.keepalivedLog('gw1')).length;
    process.kill(pid, 'SIGHUP');
    await waitFor(async () => /Reload complete/.test((await lab!.keepalivedLog('gw1')).slice(from)), { what: 'gw1 to finish its reload' });
    expect(await lab.holdsVip('gw1', ADDR.lanVip)).toBe(true);
    expect((await lab.report<Report>('gw1')).report.findings.filter((f) => f.code === 'vrrp-flapping')).toEqual([]);

    // priorities below gw2's (100): gw2 preempts, the VIPs move
    await lab.writeEtc('gw1', 'keepalived/keepalived.conf', conf.replace(/priority 150/g, 'priority 90'));
    from = (await lab.keepalivedLog('gw1')).length;
    process.kill(pid, 'SIGHUP');
    await lab.waitForMaster('gw2');
    await lab.waitForNoVip('gw1');
    await waitFor(async () => /\(VI_LAN\) Entering BACKUP STATE/.test((await lab!.keepalivedLog('gw1')).slice(from)), {
      what: 'gw1 to log VI_LAN leaving MASTER',
    });
    const log = (await lab.keepalivedLog('gw1')).slice(from);
    const r = await lab.report<Report>('gw1');
    const f = r.report.findings.filter((x) => x.code === 'vrrp-flapping');
    expect(f, `${JSON.stringify(r.report.findings, null, 1)}\n${log}`).toHaveLength(1);
    expect(f[0]!.severity).toBe('info');
    expect(f[0]!.title).toMatch(/^a reload of keepalived changed the state of .*VI_LAN.*MASTER → BACKUP/);
    expect(f[0]!.evidence[0]!.excerpt).toMatch(/Reloading/);
  });
});
