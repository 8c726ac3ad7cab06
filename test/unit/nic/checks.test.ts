import { describe, expect, it } from 'vitest';
import type { ProbeRecord } from '../../../src/types.js';
import { drArp, nicIrq, nicOffload, nonlocalBind, rpFilter } from '../../../checks/nic.js';
import { policyRoutingChecks } from '../../../checks/routing-policy.js';
import { localTableChecks } from '../../../checks/routing-local.js';
import { ipvsChecks } from '../../../checks/ipvs.js';
import { nicChecks } from '../../../checks/nic.js';

const routingChecks = [...policyRoutingChecks, ...localTableChecks, ...ipvsChecks, ...nicChecks];
import { drArpProblems, forwardingInterfaces, mtuMismatches, strictRpFilter, vipListeners, vipsOnLoopback } from '../../../src/nic/analyze.js';
import { localTableTraps, vipsInLocalTable } from '../../../src/routing/local-table.js';
import { parseIpRoutes } from '../../../src/routing/iproute.js';
import { cmd, CONF, DEBIAN, file, fixture, keepalivedRunning, run, sysctl } from '../routing/helpers.js';

const iface = (ifname: string, leaf: string, v: number) => sysctl(`net.ipv4.conf.${ifname}.${leaf}`, v);

/** The captured healthy real server/gateway netns: forwarding on, all.rp_filter=2, eth0 own rp_filter=1. */
function gateway(over: Record<string, number> = {}, extra: ProbeRecord[] = []): ProbeRecord[] {
  const v = { ip_forward: 1, all_rp: 2, eth0_rp: 1, eth1_rp: 0, all_ai: 0, all_aa: 0, ...over };
  return [
    cmd('ip-addr', fixture('routing', 'healthy.ip-addr.json')),
    cmd('ip-link', fixture('routing', 'healthy.ip-link.json')),
    cmd('ip-rule', fixture('routing', 'healthy.ip-rule.json')),
    cmd('ip-route', fixture('routing', 'healthy.ip-route.json')),
    file('file:/etc/iproute2/rt_tables', fixture('routing', 'rt_tables.lvs_nat')),
    file(
      'file:/etc/network/interfaces',
      'iface eth0 inet static\n    up ip rule add from 10.0.0.11 table lvs_nat priority 100\n    up ip route add default via 10.0.0.254 dev eth0 table lvs_nat\n',
    ),
    file('os-release', DEBIAN, '/etc/os-release'),
    sysctl('net.ipv4.ip_forward', v.ip_forward),
    sysctl('net.ipv4.ip_nonlocal_bind', 0),
    sysctl('net.ipv4.conf.all.rp_filter', v.all_rp),
    sysctl('net.ipv4.conf.all.arp_ignore', v.all_ai),
    sysctl('net.ipv4.conf.all.arp_announce', v.all_aa),
    iface('eth0', 'rp_filter', v.eth0_rp),
    iface('eth1', 'rp_filter', v.eth1_rp),
    iface('eth0', 'forwarding', 1),
    iface('eth1', 'forwarding', 1),
    cmd('ethtool-k:eth0', fixture('routing', 'ethtool-k.healthy.txt')),
    cmd('ethtool-k:eth1', fixture('routing', 'ethtool-k.healthy.txt')),
    cmd('ss-listen-tcp', fixture('routing', 'ss-Hltn.txt')),
    cmd('ss-listen-udp', ''),
    file('proc-interrupts', fixture('routing', 'interrupts.vm.txt'), '/proc/interrupts'),
    cmd('pidof-irqbalance', '', { exitCode: 1 }),
    keepalivedRunning(false),
    ...extra,
  ];
}

describe('rp-filter-strict', () => {
  it('silent when conf.all=2 lifts a strict interface to loose (max rule), and when not forwarding', () => {
    expect(run(rpFilter, gateway()).run.status).toBe('pass');
    expect(run(rpFilter, gateway({ all_rp: 0, ip_forward: 0 })).findings).toEqual([]);
  });

  it('strict interface: per-interface fix, persisted in the drop-in next to what it holds', () => {
    const { findings } = run(rpFilter, gateway({ all_rp: 0 }, [file('file:/etc/sysctl.d/90-hagw-doctor.conf', 'net.ipv4.ip_forward = 1\n')]));
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f.subject).toBe('eth0');
    expect(f.fix!.steps[0]).toEqual(
      expect.objectContaining({ argv: ['sysctl', '-w', 'net.ipv4.conf.eth0.rp_filter=2'], undo: [['sysctl', '-w', 'net.ipv4.conf.eth0.rp_filter=1']] }),
    );
    expect(f.fix!.steps[1]).toEqual(
      expect.objectContaining({
        write: { path: '/etc/sysctl.d/90-hagw-doctor.conf', content: 'net.ipv4.ip_forward = 1\nnet.ipv4.conf.eth0.rp_filter = 2\n', mode: 0o644 },
      }),
    );
    expect(f.fix!.touches.sysctl).toEqual(['net.ipv4.conf.eth0.rp_filter']);
    expect(f.fix!.verifies).toEqual(['rp-filter-strict']);
  });

  it('conf.all=1 makes every forwarding interface strict; the fix loosens all', () => {
    const { findings } = run(rpFilter, gateway({ all_rp: 1, eth0_rp: 0 }));
    expect(findings[0]!.subject).toBe('eth1,eth0');
    expect(findings[0]!.fix!.steps.filter((s) => 'argv' in s).map((s) => ('argv' in s ? s.argv.join(' ') : ''))).toEqual([
      'sysctl -w net.ipv4.conf.all.rp_filter=2',
    ]);
  });

  it('pure: effective value is max(all, iface)', () => {
    const ifs = [
      { ifname: 'a', up: true, loopback: false, rpFilter: 1 },
      { ifname: 'b', up: true, loopback: false, rpFilter: 2 },
      { ifname: 'lo', up: true, loopback: true, rpFilter: 1 },
      { ifname: 'c', up: false, loopback: false, rpFilter: 1 },
    ];
    const fwd = forwardingInterfaces(1, ifs);
    expect(fwd.map((i) => i.ifname)).toEqual(['a', 'b']);
    expect(strictRpFilter(0, fwd).map((s) => s.ifname)).toEqual(['a']);
    expect(strictRpFilter(2, fwd)).toEqual([]);
    expect(forwardingInterfaces(0, ifs)).toEqual([]);
  });
});

describe('nic-lro-on-forwarder', () => {
  it('GRO on a forwarding interface: ethtool -K fix with undo, not persistent', () => {
    const { findings } = run(nicOffload, gateway({}, [cmd('ethtool-k:eth1', fixture('routing', 'ethtool-k.veth-gro-on.txt'))]));
    expect(findings).toHaveLength(1);
    expect(findings[0]!.subject).toBe('eth1');
    expect(findings[0]!.fix!.steps[0]).toEqual(
      expect.objectContaining({ argv: ['ethtool', '-K', 'eth1', 'gro', 'off'], undo: [['ethtool', '-K', 'eth1', 'gro', 'on']] }),
    );
    expect(findings[0]!.fix!.persistence).toMatchObject({ persistent: false });
    expect(findings[0]!.fix!.persistence.how).toMatch(/post-up ethtool -K eth1 gro off lro off/);
  });

  it('LRO [fixed] on: reported, no fix; the kernel log line alone is evidence enough', () => {
    const lroFixed = cmd('ethtool-k:eth0', 'Features for eth0:\nlarge-receive-offload: on [fixed]\ngeneric-receive-offload: off\n');
    const a = run(nicOffload, gateway({}, [lroFixed])).findings;
    expect(a[0]!.fix).toBeUndefined();
    const b = run(nicOffload, gateway({}, [cmd('dmesg', '[  3.2] netdevice: eth0: failed to disable LRO!\n')])).findings;
    expect(b.map((f) => f.subject)).toEqual(['eth0']);
    expect(b[0]!.evidence[0]).toEqual({ probe: 'dmesg', excerpt: '[  3.2] netdevice: eth0: failed to disable LRO!' });
  });

  it('skips when ethtool is not installed', () => {
    const gone = (id: string): ProbeRecord => ({ id, kind: 'command', status: 'missing', stdout: '', stderr: '', ms: 0, reason: 'ethtool is not installed' });
    expect(run(nicOffload, gateway({}, [gone('ethtool-k:eth0'), gone('ethtool-k:eth1')])).run).toMatchObject({
      status: 'skip',
      reason: 'ethtool -k did not run: ethtool is not installed',
    });
  });
});

describe('LVS-DR ARP, nonlocal bind, NIC IRQs, local-table detections', () => {
  it('LVS-DR real server with default ARP settings is lvs-dr-arp', () => {
    const vipOnLo = cmd(
      'ip-addr',
      JSON.stringify([
        {
          ifname: 'lo',
          addr_info: [
            { family: 'inet', local: '127.0.0.1', prefixlen: 8 },
            { family: 'inet', local: '203.0.113.10', prefixlen: 32 },
          ],
        },
        { ifname: 'eth0', addr_info: [{ family: 'inet', local: '10.0.0.11', prefixlen: 24 }] },
      ]),
    );
    const records = gateway({}, [vipOnLo, iface('eth0', 'arp_ignore', 0), iface('eth0', 'arp_announce', 0)]);
    const { findings } = run(drArp, records);
    expect(findings.map((f) => f.code)).toEqual(['lvs-dr-arp']);
    expect(findings[0]!.title).toMatch(/eth1, eth0/);
    expect(run(drArp, gateway({ all_ai: 1, all_aa: 2 }, [vipOnLo])).findings).toEqual([]);
  });

  it('pure detections: DR ARP, VIP on lo, VIP listeners, MTU, local-table trap, stray VIP', () => {
    expect(drArpProblems({ arpIgnore: 1, arpAnnounce: 2 }, [{ ifname: 'eth0', up: true, loopback: false }])).toEqual([]);
    expect(drArpProblems({ arpIgnore: 0, arpAnnounce: 2 }, [{ ifname: 'eth0', up: true, loopback: false, arpIgnore: 1 }])).toEqual([]);
    expect(drArpProblems({ arpIgnore: 1, arpAnnounce: 0 }, [{ ifname: 'eth0', up: true, loopback: false }])).toHaveLength(1);
    expect(
      vipsOnLoopback(
        [
          { ifname: 'lo', address: '127.0.0.1', family: 'inet' },
          { ifname: 'lo', address: '::1', family: 'inet6' },
          { ifname: 'lo', address: '203.0.113.10', family: 'inet' },
        ],
        ['lo'],
      ),
    ).toEqual(['203.0.113.10']);
    expect(
      vipListeners(
        [
          { address: '203.0.113.100', port: 443, family: 'inet', wildcard: false },
          { address: '0.0.0.0', port: 80, family: 'inet', wildcard: true },
        ],
        ['203.0.113.100'],
      ),
    ).toHaveLength(1);
    expect(
      mtuMismatches([
        { ifname: 'eth0', mtu: 1500, peerIfname: 'eth0', peerMtu: 9000 },
        { ifname: 'eth1', mtu: 1500, peerIfname: 'eth1', peerMtu: 1500 },
        { ifname: 'eth2', mtu: 1500, peerIfname: 'eth2', peerMtu: undefined },
      ]),
    ).toEqual([{ ifname: 'eth0', mtu: 1500, peerIfname: 'eth0', peerMtu: 9000 }]);
    const local = [
      { ifname: 'eth0', address: '10.0.0.11', prefix: 24, family: 'inet' },
      { ifname: 'eth1', address: '203.0.113.50', prefix: 24, family: 'inet' },
    ];
    expect(localTableTraps(local, ['10.0.0.11'], [{ address: '203.0.113.10', prefix: 24 }]).map((t) => t.address.address)).toEqual(['203.0.113.50']);
    expect(localTableTraps(local, ['10.0.0.99'], [{ address: '203.0.113.10', prefix: 24 }])).toEqual([]);
    expect(localTableTraps(local, ['10.0.0.11'], [{ address: '203.0.113.10', prefix: 32 }])).toEqual([]);
    const routes = parseIpRoutes(
      JSON.stringify([
        { type: 'local', dst: '203.0.113.10', dev: 'eth1', table: 'local' },
        { type: 'local', dst: '203.0.113.11', dev: 'lo', table: 'local' },
      ]),
    );
    expect(vipsInLocalTable(routes, ['203.0.113.10', '203.0.113.11'], ['lo']).map((v) => v.vip)).toEqual(['203.0.113.10']);
  });

  it('IRQs of a virtio NIC found through parentdev: spread on the captured VM, all on one CPU reported', () => {
    const vm = [cmd('ip-link', fixture('routing', 'vm.ip-link.json')), iface('eth0', 'forwarding', 1)];
    expect(run(nicIrq, gateway({}, vm))).toMatchObject({ run: { status: 'pass' }, findings: [] });
    const oneCpu = fixture('routing', 'interrupts.vm.txt').replace(/^( 38:)\s+0\s+(\d+)/m, '$1 $2 0');
    const records = gateway({}, [...vm, file('proc-interrupts', oneCpu, '/proc/interrupts')]);
    const { findings } = run(nicIrq, records);
    expect(findings.map((f) => [f.code, f.subject])).toEqual([['nic-irq-single-cpu', 'eth0']]);
    expect(findings[0]!.evidence.map((e) => e.excerpt)).toContain('38: 5450 0 PCI-MSIX-0000:00:03.0 1-edge virtio2-input.0');
  });

  it('irqbalance running: nothing to judge', () => {
    expect(run(nicIrq, gateway({}, [cmd('pidof-irqbalance', '812\n')])).run.status).toBe('pass');
    expect(run(nicIrq, gateway()).run).toMatchObject({ status: 'skip', reason: 'no NIC interrupt line matches a forwarding interface (virtual NICs)' });
  });

  it('nonlocal bind: a listener on a VIP while ip_nonlocal_bind is 0 is vip-bind-nonlocal', () => {
    const conf = file(
      `kconf:${CONF}`,
      'vrrp_instance VI_1 {\n    interface eth1\n    virtual_router_id 51\n    virtual_ipaddress {\n        203.0.113.100/24\n    }\n}\n',
      CONF,
    );
    const hit = run(nonlocalBind, gateway({}, [conf]));
    expect(hit.findings.map((f) => f.code)).toEqual(['vip-bind-nonlocal']);
    expect(hit.findings[0]!.evidence.map((e) => e.excerpt).join('\n')).toContain('203.0.113.100');
    // no listener at all is an answer, not a missing probe
    expect(run(nonlocalBind, gateway({}, [conf, cmd('ss-listen-tcp', '')])).run.status).toBe('pass');
    expect(
      run(
        nonlocalBind,
        gateway({}, [
          conf,
          { id: 'ss-listen-tcp', kind: 'command', status: 'missing', stdout: '', stderr: '', ms: 0, reason: 'ss is not installed' },
          { id: 'ss-listen-udp', kind: 'command', status: 'missing', stdout: '', stderr: '', ms: 0, reason: 'ss is not installed' },
        ]),
      ).run,
    ).toMatchObject({ status: 'skip', reason: 'ss -l did not run: ss is not installed' });
  });
});

describe('healthy host', () => {
  it('the routing area has checks', () => expect(routingChecks.length).toBeGreaterThan(5));

  it.each(routingChecks.map((c) => [c.id, c] as const))('%s stays silent', (_id, check) => {
    const { run: r, findings } = run(check, gateway());
    expect(findings).toEqual([]);
    expect(r.status, r.reason).not.toBe('error');
  });
});
