// Issue 14, catalogue 33: an IPv6 gateway pair whose master does not forward IPv6. IPv4 works
// through the same VIP pair, IPv6 clients get nowhere; the doctor names it (ipv6-forward-off) and
// is quiet again once forwarding is on and the client reaches the upstream over IPv6. And an IPv6
// address on the VRRP interface that another host on the link already uses: the kernel's duplicate
// address detection fails it (ipv6-dad-failed), and the finding goes once the duplicate is gone.
import { describe, expect, it } from 'vitest';
import { ADDR, createLab, destroyLabsAfterEach, requireRoot, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';
import { V6_INSTANCE, withIpv6 } from './keepalived-files.js';

requireRoot();
let lab: Lab | undefined;
destroyLabsAfterEach();

const V6 = { ...V6_INSTANCE, client: '2001:db8:100::10', gw1Wan: '2001:db8:200::2', upstream: '2001:db8:200::100' };

describe('IPv6 forwarding off on a gateway with IPv6 VIPs (catalogue 33)', () => {
  it('is found on the master while IPv4 forwards and IPv6 clients get nowhere, and clears once IPv6 forwards', async () => {
    lab = await createLab({ start: false, keepalivedConf: withIpv6 });
    // IPv6 on the client and the upstream, routed through gw1 (nodad: no DAD wait in a test)
    await lab.execOk('client', ['ip', '-6', 'addr', 'add', `${V6.client}/64`, 'dev', 'eth0', 'nodad']);
    await lab.execOk('client', ['ip', '-6', 'route', 'add', 'default', 'via', V6.vip]);
    await lab.execOk('gw1', ['ip', '-6', 'addr', 'add', `${V6.gw1Wan}/64`, 'dev', 'eth1', 'nodad']);
    await lab.execOk('upstream', ['ip', '-6', 'addr', 'add', `${V6.upstream}/64`, 'dev', 'eth0', 'nodad']);
    await lab.execOk('upstream', ['ip', '-6', 'route', 'add', '2001:db8:100::/64', 'via', V6.gw1Wan]);
    await lab.execOk('gw1', ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=0']);
    await lab.startKeepalived('gw1');
    await lab.waitForMaster('gw1');
    await lab.startKeepalived('gw2');
    await lab.waitForSteadyState();
    await lab.waitFor(async () => (await lab!.exec('gw1', ['ip', '-6', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(V6.vip), {
      what: 'gw1 to hold the IPv6 VIP',
    });

    // IPv4 through the pair works, IPv6 does not: the master does not forward it
    expect(await lab.ping('client', ADDR.upstream, { count: 2, timeoutS: 5 })).toBe(true);
    expect(await lab.ping('client', V6.vip, { count: 1, timeoutS: 3 })).toBe(true);
    expect(await lab.ping('client', V6.upstream, { count: 2, timeoutS: 2 })).toBe(false);

    const r = await lab.report<Report>('gw1');
    const f = r.report.findings.filter((x) => x.code === 'ipv6-forward-off');
    expect(f, JSON.stringify(r.report.findings, null, 1)).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'critical', subject: 'VI_V6' });
    expect(f[0]!.title).toContain(`IPv6 forwarding is off on this master, which routes IPv4 and holds IPv6 VIPs (${V6.vip})`);
    expect(f[0]!.evidence[0]).toEqual({ probe: 'sysctl:net.ipv6.conf.all.forwarding', excerpt: 'net.ipv6.conf.all.forwarding = 0' });
    // a change that could cost the host its RA-learnt routes is not offered
    expect(f[0]!.fix).toBeUndefined();
    expect(r.exitCode).toBe(2);

    await lab.execOk('gw1', ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    expect(await lab.ping('client', V6.upstream, { count: 2, timeoutS: 5 })).toBe(true);
    const after = await lab.report<Report>('gw1');
    expect(after.report.findings.filter((x) => x.code === 'ipv6-forward-off')).toEqual([]);
    expect(after.report.checks.find((c) => c.id === 'ipv6-forward')?.status).toBe('pass');
  });
});

describe('an IPv6 address on the VRRP interface that another host on the link uses (catalogue 33, DAD)', () => {
  it('fails duplicate address detection, is named on that interface, and is gone once the duplicate is removed', async () => {
    lab = await createLab();
    const dup = '2001:db8:100::2';
    // the client holds it first; gw1 then adds it the ordinary way (with DAD), as a netplan or an
    // ifupdown file would, e.g. to source IPv6 adverts from it
    await lab.execOk('client', ['ip', '-6', 'addr', 'add', `${dup}/64`, 'dev', 'eth0', 'nodad']);
    await lab.execOk('gw1', ['ip', '-6', 'addr', 'add', `${dup}/64`, 'dev', 'eth0']);
    await lab.waitFor(async () => /dadfailed/.test((await lab!.exec('gw1', ['ip', '-6', 'addr', 'show', 'dev', 'eth0'])).stdout), {
      what: "gw1's copy to fail DAD",
    });

    const r = await lab.report<Report>('gw1');
    const f = r.report.findings.filter((x) => x.code === 'ipv6-dad-failed');
    expect(f, JSON.stringify(r.report.findings, null, 1)).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'error', subject: 'eth0' });
    expect(f[0]!.title).toBe(`${dup} on eth0 failed duplicate address detection: the kernel does not use it`);
    expect(f[0]!.detail).toContain(`Another host on eth0's link uses ${dup}`);
    expect(f[0]!.evidence[0]!.excerpt).toMatch(new RegExp(`^eth0: inet6 ${dup.replace(/\./g, '\\.')}/64 dadfailed`));
    // the same host, read from the other node: its own addresses are fine
    expect((await lab.report<Report>('gw2')).report.findings.filter((x) => x.code === 'ipv6-dad-failed')).toEqual([]);

    await lab.execOk('gw1', ['ip', '-6', 'addr', 'del', `${dup}/64`, 'dev', 'eth0']);
    const after = await lab.report<Report>('gw1');
    expect(after.report.findings.filter((x) => x.code === 'ipv6-dad-failed')).toEqual([]);
    expect(after.report.checks.find((c) => c.id === 'ipv6-dad')?.status).toBe('pass');
  });
});
