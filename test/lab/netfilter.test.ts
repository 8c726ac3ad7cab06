// Issue 5's proof: the netfilter seed failures on a real keepalived pair, detected on the right
// node, fixed with `hagw-doctor fix CODE --yes`, and re-checked clean with the pair behaving again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADDR, createLab, requireRoot, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';

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
  expect(report.checks.filter((c) => c.id.startsWith('netfilter') && c.status === 'error')).toEqual([]);
  return report;
}
const codes = (r: Report) => r.findings.map((f) => f.code);

async function fix(node: 'gw1' | 'gw2', code: string): Promise<void> {
  const r = await lab.doctor(node, ['fix', code, '--yes']);
  expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
}

/** The pair behaves: gw1 holds the VIPs, gw2 none, the client reaches upstream, gw1's adverts carry its own address. */
async function pairBehaves(): Promise<void> {
  await lab.waitForMaster('gw1');
  await lab.waitForNoVip('gw2');
  expect(await lab.ping('client', ADDR.upstream, { count: 2, timeoutS: 5 })).toBe(true);
  const adverts = await lab.capture('gw2', 'eth0', ['ip', 'proto', '112', 'and', 'src', 'host', ADDR.gw1.lan], async () => undefined, {
    count: 2,
    timeoutMs: 10_000,
  });
  expect(adverts.length).toBeGreaterThanOrEqual(2);
  expect((await lab.conntrackVrrp('gw1')).filter((e) => e.nated)).toEqual([]);
}

describe('a too-wide SNAT rule caught VRRP, then mended, leaving the stale conntrack entry', () => {
  it('is detected on the master and fixed rule first, then the stale entry', async () => {
    await lab.scenario('snat-catches-vrrp');
    const before = await check('gw1');
    expect(codes(before)).toEqual(expect.arrayContaining(['snat-matches-vrrp', 'vrrp-conntrack-nat']));
    const nat = before.findings.find((f) => f.code === 'vrrp-conntrack-nat')!;
    expect(nat.evidence[0]!.probe).toBe(`conntrack-vrrp:${ADDR.gw1.lan}>${ADDR.gw2.lan}`);
    expect(nat.evidence[0]!.excerpt).toContain(`dst=${ADDR.wanVip}`);
    expect(codes(await check('gw2'))).not.toContain('snat-matches-vrrp');

    // mend the rule: the stale binding stays (the seed)
    await fix('gw1', 'snat-matches-vrrp');
    const mended = await check('gw1');
    expect(codes(mended)).not.toContain('snat-matches-vrrp');
    expect(codes(mended)).toContain('vrrp-conntrack-nat');

    await fix('gw1', 'vrrp-conntrack-nat');
    const after = await check('gw1');
    expect(codes(after)).not.toContain('vrrp-conntrack-nat');
    expect(codes(after)).not.toContain('vrrp-notrack-missing');
    await pairBehaves();
  });
});

describe('SNAT rules left on the backup', () => {
  it('are found on the backup only and removed', async () => {
    await lab.scenario('snat-on-backup');
    const b = await check('gw2');
    const f = b.findings.find((x) => x.code === 'snat-on-backup');
    expect(f, JSON.stringify(b.findings, null, 2)).toBeDefined();
    expect(f!.evidence.map((e) => e.excerpt)).toContain(`-A POSTROUTING -s ${ADDR.lanNet} ! -p vrrp -j SNAT --to-source ${ADDR.wanVip}`);
    expect(codes(await check('gw1'))).not.toContain('snat-on-backup');
    await fix('gw2', 'snat-on-backup');
    expect(codes(await check('gw2'))).not.toContain('snat-on-backup');
    await pairBehaves();
  });
});

describe("VRRP dropped in the backup's INPUT", () => {
  it('is found on the backup, naming the rule, and an accept is inserted above it', async () => {
    await lab.scenario('vrrp-dropped-on-backup');
    const b = await check('gw2');
    const f = b.findings.find((x) => x.code === 'vrrp-input-blocked');
    expect(f, JSON.stringify(b.findings, null, 2)).toBeDefined();
    expect(f!.evidence[0]).toEqual({ probe: 'iptables-save', excerpt: '-A INPUT -p vrrp -j DROP' });
    expect(codes(await check('gw1'))).not.toContain('vrrp-input-blocked');
    await fix('gw2', 'vrrp-input-blocked');
    expect(codes(await check('gw2'))).not.toContain('vrrp-input-blocked');
    await pairBehaves();
  });
});
