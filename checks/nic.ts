// Kernel and NIC settings of a forwarding gateway / LVS node: rp_filter, LRO/GRO, and the
// LVS-DR ARP settings, ip_nonlocal_bind for services on the VIP, and NIC IRQ spread.
import type { Check } from '../src/check.js';
import { finding, SkipCheck, type CheckContext } from '../src/context.js';
import type { Evidence, Finding } from '../src/types.js';
import { links, sysctlNumber } from '../src/routing/from-snapshot.js';
import { drArpProblems, forwardingInterfaces, mtuMismatches, strictRpFilter, vipListeners, vipsOnLoopback, type IfaceSysctls } from '../src/nic/analyze.js';
import { EthtoolParseError, lroDisableFailures, parseEthtoolFeatures, receiveOffloadsOn } from '../src/nic/ethtool.js';
import { allOnOneCpu, nicIrqs, parseInterrupts } from '../src/nic/interrupts.js';
import { parseListeningSockets, type ListeningSocket } from '../src/nic/sockets.js';
import { SYSCTL_DROP_IN } from '../src/kernel/sysctl.js';
import { offloadsOffPlan, rpFilterLoosePlan } from '../src/nic/fixes.js';
import { localAddresses } from '../src/state.js';
import { keepalivedConfig, ourVips, peerKeepalivedConfig, peerSnapshot } from '../src/keepalived/from-snapshot.js';
import {
  PEER_SNAPSHOT_PROBE,
  PROBE_ARP_ANNOUNCE_ALL,
  PROBE_ARP_IGNORE_ALL,
  PROBE_INTERRUPTS,
  PROBE_IP_ADDR,
  PROBE_IP_FORWARD,
  PROBE_IP_LINK,
  PROBE_IRQBALANCE,
  PROBE_KERNEL_LOG,
  PROBE_NONLOCAL_BIND,
  PROBE_OS_RELEASE,
  PROBE_RP_FILTER_ALL,
  PROBE_SS_TCP,
  PROBE_SS_UDP,
  ethtoolProbeId,
  fileProbeId,
  ifaceSysctlId,
} from '../src/probes/ids.js';

/** Per-interface sysctls of every interface in ip-link. */
export function ifaceSysctls(ctx: CheckContext): IfaceSysctls[] {
  return ctx.memo('nic:iface-sysctls', () =>
    links(ctx).map((l) => {
      const n = (leaf: string) => sysctlNumber(ctx, ifaceSysctlId(l.ifname, leaf));
      const v: IfaceSysctls = { ifname: l.ifname, up: l.up, loopback: l.loopback };
      const rp = n('rp_filter');
      const fw = n('forwarding');
      const ai = n('arp_ignore');
      const aa = n('arp_announce');
      if (rp !== undefined) v.rpFilter = rp;
      if (fw !== undefined) v.forwarding = fw;
      if (ai !== undefined) v.arpIgnore = ai;
      if (aa !== undefined) v.arpAnnounce = aa;
      return v;
    }),
  );
}

function forwarding(ctx: CheckContext): IfaceSysctls[] {
  ctx.require(PROBE_IP_LINK, 'ip -j -d link show');
  const ipForward = sysctlNumber(ctx, PROBE_IP_FORWARD);
  if (ipForward === undefined) throw new SkipCheck('net.ipv4.ip_forward was not read');
  return forwardingInterfaces(ipForward, ifaceSysctls(ctx));
}

export const rpFilter: Check = {
  id: 'rp-filter',
  title: 'reverse-path filtering on forwarding interfaces',
  codes: ['rp-filter-strict'],
  run(ctx) {
    const fwd = forwarding(ctx);
    if (fwd.length === 0) return [];
    const all = sysctlNumber(ctx, PROBE_RP_FILTER_ALL);
    const unread = fwd.filter((i) => i.rpFilter === undefined);
    if (all === undefined && unread.length === fwd.length) throw new SkipCheck('rp_filter values were not read');
    const strict = strictRpFilter(all, fwd);
    if (strict.length === 0) return [];
    const fix = rpFilterLoosePlan(all, strict, ctx.output(fileProbeId(SYSCTL_DROP_IN)) ?? '');
    const evidence: Evidence[] = [
      ...(all !== undefined ? [{ probe: PROBE_RP_FILTER_ALL, excerpt: `net.ipv4.conf.all.rp_filter = ${all}` }] : []),
      ...strict.map((s) => ({
        probe: ifaceSysctlId(s.ifname, 'rp_filter'),
        excerpt: `net.ipv4.conf.${s.ifname}.rp_filter = ${s.own ?? '?'} (effective ${s.effective})`,
      })),
    ];
    return [
      finding('rp-filter-strict', {
        title: `strict rp_filter on forwarding interface(s) ${strict.map((s) => s.ifname).join(', ')}`,
        detail:
          'With rp_filter=1 the kernel drops a packet when the route back to its source does not leave by the interface it came in on. A gateway sees asymmetric paths all the time ' +
          '(the VIP moving between nodes, LVS-NAT replies, policy routing), so strict mode silently drops good traffic. The kernel applies max(conf.all, conf.IF); loose mode (2) keeps the spoofing check without the asymmetry problem.',
        evidence,
        fix,
        subject: strict.map((s) => s.ifname).join(','),
      }),
    ];
  },
};

export const nicOffload: Check = {
  id: 'nic-offload',
  title: 'LRO/GRO off on forwarding interfaces',
  codes: ['nic-lro-on-forwarder'],
  run(ctx) {
    const fwd = forwarding(ctx);
    if (fwd.length === 0) return [];
    const dmesg = ctx.output(PROBE_KERNEL_LOG);
    const lroFailed = dmesg ? lroDisableFailures(dmesg) : [];
    const out: Finding[] = [];
    let judged = 0;
    for (const i of fwd) {
      const rec = ctx.probe(ethtoolProbeId(i.ifname));
      const kernelSays = lroFailed.filter((f) => f.ifname === i.ifname);
      let on: ReturnType<typeof receiveOffloadsOn> = [];
      if (rec?.status === 'ok' && rec.exitCode === 0) {
        try {
          on = receiveOffloadsOn(parseEthtoolFeatures(rec.stdout));
          judged++;
        } catch (err) {
          if (!(err instanceof EthtoolParseError)) throw err;
        }
      }
      if (on.length === 0 && kernelSays.length === 0) continue;
      const changeable = on.filter((o) => !o.fixed).map((o) => (o.name === 'large-receive-offload' ? ('lro' as const) : ('gro' as const)));
      const fix = offloadsOffPlan(i.ifname, changeable, ctx.output(PROBE_OS_RELEASE));
      out.push(
        finding('nic-lro-on-forwarder', {
          title: `${on.map((o) => (o.name === 'large-receive-offload' ? 'LRO' : 'GRO')).join('/') || 'LRO'} on forwarding interface ${i.ifname}`,
          detail:
            'Receive offloads merge incoming segments into large buffers. LRO merges are not reversible, so a forwarding host sends frames larger than the MTU or drops them; the kernel tries to turn LRO off when forwarding is enabled and logs "failed to disable LRO" when it cannot. ' +
            'GRO is re-segmented on output, but with some drivers, tunnels and IPVS it still breaks forwarding; the design guide turns both off on gateways.' +
            (on.some((o) => o.fixed) ? ' Some of these are [fixed] by the driver and cannot be changed with ethtool.' : ''),
          evidence: [
            ...on.map((o) => ({ probe: ethtoolProbeId(i.ifname), excerpt: `${o.name}: on${o.fixed ? ' [fixed]' : ''}` })),
            ...kernelSays.slice(0, 2).map((k) => ({ probe: PROBE_KERNEL_LOG, excerpt: k.line })),
          ],
          subject: i.ifname,
          ...(fix ? { fix } : {}),
        }),
      );
    }
    if (judged === 0 && out.length === 0) {
      const r = ctx.probe(ethtoolProbeId(fwd[0]!.ifname));
      throw new SkipCheck(`ethtool -k did not run: ${r?.reason ?? (r ? r.stderr.trim() || `exit ${r.exitCode}` : 'not collected')}`);
    }
    return out;
  },
};

/** LVS-DR real server: a non-loopback address on lo (the VIP), or a DR virtual_server listing one of our addresses. */
export const drArp: Check = {
  id: 'lvs-dr-arp',
  title: 'ARP settings of an LVS-DR real server',
  codes: ['lvs-dr-arp'],
  run(ctx) {
    ctx.require(PROBE_IP_ADDR, 'ip -j addr show');
    const addrs = localAddresses(ctx);
    const loops = links(ctx)
      .filter((l) => l.loopback)
      .map((l) => l.ifname);
    const onLo = vipsOnLoopback(addrs, loops.length ? loops : ['lo']);
    const mine = new Set(addrs.map((a) => a.address));
    const drListed = (keepalivedConfig(ctx).result?.config.virtualServers ?? []).some(
      (vs) => /^dr$/i.test(vs.method ?? '') && vs.realServers.some((rs) => mine.has(rs.address)),
    );
    if (onLo.length === 0 && !drListed) return [];
    const all = {
      ...(sysctlNumber(ctx, PROBE_ARP_IGNORE_ALL) !== undefined ? { arpIgnore: sysctlNumber(ctx, PROBE_ARP_IGNORE_ALL)! } : {}),
      ...(sysctlNumber(ctx, PROBE_ARP_ANNOUNCE_ALL) !== undefined ? { arpAnnounce: sysctlNumber(ctx, PROBE_ARP_ANNOUNCE_ALL)! } : {}),
    };
    if (all.arpIgnore === undefined || all.arpAnnounce === undefined) throw new SkipCheck('arp_ignore/arp_announce were not read');
    const problems = drArpProblems(all, ifaceSysctls(ctx));
    if (problems.length === 0) return [];
    return [
      finding('lvs-dr-arp', {
        severity: 'warning',
        title: `LVS-DR real server answers ARP for its VIP on ${problems.map((p) => p.ifname).join(', ')}`,
        detail: `This host holds ${onLo.join(', ') || 'a DR real-server address'} as an LVS-DR real server. With arp_ignore < 1 it answers ARP for the VIP on every interface and with arp_announce < 2 it announces it, so the segment's clients and router may send VIP traffic straight to this real server instead of the director. Set net.ipv4.conf.all.arp_ignore=1 and arp_announce=2.`,
        evidence: problems.map((p) => ({
          probe: ifaceSysctlId(p.ifname, 'arp_ignore'),
          excerpt: `${p.ifname}: effective arp_ignore=${p.arpIgnore} arp_announce=${p.arpAnnounce}`,
        })),
        subject: 'arp',
      }),
    ];
  },
};

export const nonlocalBind: Check = {
  id: 'vip-bind-nonlocal',
  title: 'services bound to a VIP can start on the backup',
  codes: ['vip-bind-nonlocal'],
  run(ctx) {
    const vips = ourVips(ctx);
    if (vips.length === 0) return [];
    const nonlocal = sysctlNumber(ctx, PROBE_NONLOCAL_BIND);
    if (nonlocal === undefined) throw new SkipCheck('net.ipv4.ip_nonlocal_bind was not read');
    if (nonlocal !== 0) return [];
    const sockets: Array<ListeningSocket & { probe: string }> = [];
    for (const id of [PROBE_SS_TCP, PROBE_SS_UDP]) {
      const text = ctx.output(id);
      if (text !== undefined) {
        try {
          sockets.push(...parseListeningSockets(text).map((s) => ({ ...s, probe: id })));
        } catch {
          // an ugly ss line: judge the other protocol's sockets
        }
      }
    }
    if (ctx.output(PROBE_SS_TCP) === undefined && ctx.output(PROBE_SS_UDP) === undefined)
      throw new SkipCheck(`ss -l did not run: ${ctx.probe(PROBE_SS_TCP)?.reason ?? 'not collected'}`);
    const hits = vipListeners(
      sockets,
      vips.map((v) => v.address),
    ) as Array<ListeningSocket & { probe: string }>;
    if (hits.length === 0) return [];
    return [
      finding('vip-bind-nonlocal', {
        severity: 'warning',
        title: `${hits.length} service(s) listen on a VIP while ip_nonlocal_bind is 0`,
        detail:
          'A service bound to the VIP started while this node held it. On the BACKUP (or after a failover and a service restart) the bind fails with "Cannot assign requested address" because the VIP is absent. Set net.ipv4.ip_nonlocal_bind=1, or bind to 0.0.0.0.',
        evidence: hits.map((h) => ({ probe: h.probe, excerpt: `${h.probe === PROBE_SS_UDP ? 'UDP' : 'TCP'} ${h.address}:${h.port}` })),
        subject: 'ip_nonlocal_bind',
      }),
    ];
  },
};

export const nicIrq: Check = {
  id: 'nic-irq',
  title: 'NIC interrupts spread over the CPUs',
  codes: ['nic-irq-single-cpu'],
  run(ctx) {
    const text = ctx.require(PROBE_INTERRUPTS, '/proc/interrupts');
    const irqb = ctx.probe(PROBE_IRQBALANCE);
    if (!irqb || irqb.status !== 'ok') throw new SkipCheck(`cannot tell whether irqbalance runs: ${irqb?.reason ?? 'pidof not collected'}`);
    if (irqb.exitCode === 0) return [];
    let ints;
    try {
      ints = parseInterrupts(text);
    } catch (err) {
      throw new SkipCheck(`/proc/interrupts unreadable: ${(err as Error).message}`);
    }
    const fwd = forwarding(ctx);
    const linkInfo = links(ctx);
    const findings: Finding[] = [];
    let found = 0;
    for (const i of fwd) {
      const parent = linkInfo.find((l) => l.ifname === i.ifname)?.parentdev;
      const lines = nicIrqs(ints, i.ifname, parent ? [parent] : []);
      if (lines.length === 0) continue;
      found++;
      const one = allOnOneCpu(lines, ints.cpus.length);
      if (!one) continue;
      findings.push(
        finding('nic-irq-single-cpu', {
          severity: 'warning',
          title: `every interrupt of ${i.ifname} lands on CPU${one.cpu} and irqbalance is not running`,
          detail: `${lines.length} IRQ vectors of ${i.ifname} are all serviced by CPU${one.cpu} of ${ints.cpus.length}: under load that CPU saturates in softirq and the gateway drops packets while the others idle. Start irqbalance or set /proc/irq/N/smp_affinity (or RPS/XPS).`,
          evidence: lines.slice(0, 4).map((l) => ({ probe: PROBE_INTERRUPTS, excerpt: `${l.irq}: ${l.perCpu.join(' ')} ${l.name}` })),
          subject: i.ifname,
        }),
      );
    }
    if (found === 0 && fwd.length > 0) throw new SkipCheck('no NIC interrupt line matches a forwarding interface (virtual NICs)');
    return findings;
  },
};

/** MTU per interface from an `ip -j link` record. */
function linkMtus(json: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const l of JSON.parse(json ?? '[]') as Array<{ ifname?: string; mtu?: number }>) if (l.ifname && typeof l.mtu === 'number') out.set(l.ifname, l.mtu);
  } catch {
    // unreadable: no MTUs known
  }
  return out;
}

export const vipMtu: Check = {
  id: 'vip-mtu',
  title: 'VRRP interface MTUs match across the pair',
  codes: ['vip-mtu-mismatch'],
  run(ctx) {
    const peer = peerSnapshot(ctx);
    if (!peer) throw new SkipCheck("needs the other node's snapshot (--peer-snapshot FILE)");
    const ours = keepalivedConfig(ctx).result?.config;
    const theirs = peerKeepalivedConfig(ctx)?.result.config;
    if (!ours || !theirs) throw new SkipCheck('needs both keepalived configurations');
    const mine = linkMtus(ctx.output(PROBE_IP_LINK));
    const peerRec = peer.probes[PROBE_IP_LINK];
    const other = linkMtus(peerRec?.status === 'ok' ? peerRec.stdout : undefined);
    if (!mine.size || !other.size) throw new SkipCheck('ip link was not collected on both nodes');
    const pairs = ours.vrrpInstances.flatMap((inst) => {
      const twin = theirs.vrrpInstances.find((t) => t.name === inst.name);
      if (!inst.interface || !twin?.interface) return [];
      return [{ ifname: inst.interface, mtu: mine.get(inst.interface), peerIfname: twin.interface, peerMtu: other.get(twin.interface), instance: inst.name }];
    });
    return mtuMismatches(pairs).map((m) =>
      finding('vip-mtu-mismatch', {
        title: `${m.ifname} here has MTU ${m.mtu}, ${m.peerIfname} on ${peer.host.hostname} has ${m.peerMtu}`,
        detail: `The VIP moves between interfaces of different MTU: after a failover, packets that fitted on one node are fragmented or dropped on the other (and PMTU caches of clients are wrong), which looks like a failover that "half works". Give both VRRP interfaces the same MTU.`,
        evidence: [
          { probe: PROBE_IP_LINK, excerpt: `${m.ifname}: mtu ${m.mtu}` },
          { probe: PEER_SNAPSHOT_PROBE, excerpt: `${peer.host.hostname} ${m.peerIfname}: mtu ${m.peerMtu}` },
        ],
        subject: m.ifname,
      }),
    );
  },
};

export const nicChecks: Check[] = [rpFilter, nicOffload, drArp, nonlocalBind, nicIrq, vipMtu];
