// Field failures judged from keepalived.conf and the host's addresses and routes (issue 14, part B):
// no periodic GARP on a gateway VIP (catalogue 7), nopreempt/track weights that cannot move the VIP
// (17, 18), VIPs that are static addresses, network/broadcast addresses or carry a wrong prefix (36),
// virtual_routes that fight the static routing or leave the backup without a way out (31), VMAC
// without the ARP settings it needs or behind a filtering hypervisor (23), and cloud/SDN VIPs that
// need the provider's settings (5, 6).
import ipaddr from 'ipaddr.js';
import { ipRoutes } from '../src/routing/from-snapshot.js';
import type { Check } from '../src/check.js';
import { SkipCheck, finding, type CheckContext } from '../src/context.js';
import type { Evidence, Finding } from '../src/types.js';
import type { KeepalivedConfig, VrrpInstance } from '../src/keepalived/model.js';
import { peerKeepalivedConfig } from '../src/keepalived/from-snapshot.js';
import { configExtras, type ConfigRoute, type InstanceExtras } from '../src/keepalived/extras.js';
import { detectCloud } from '../src/host-facts.js';
import { scriptProbeId } from '../src/keepalived/files.js';
import { localAddresses } from '../src/state.js';
import { instanceStates } from '../src/state.js';
import { at, confEvidence, gatewayEvidence, hypervisor, ifaceSysctl, location, logLines } from './field-common.js';
import {
  PROBE_DMI_CHASSIS_ASSET_TAG,
  PROBE_IGMP_LL_REPORTS,
  PROBE_IP_ADDR,
  PROBE_IP_LINK,
  PROBE_IP_ROUTE,
  ifaceSysctlId,
  sysctlProbeId,
} from '../src/probes/ids.js';
import { igmpLinkLocalOffPlan, vmacArpPlan, type VmacSysctl } from '../src/nic/fixes.js';

const extrasOf = (ctx: CheckContext, name: string): InstanceExtras | undefined => configExtras(ctx)?.instances.get(name);

// ------------------------------------------------------------------ garp-refresh-missing (7)

const garpRefresh: Check = {
  id: 'field-garp-refresh',
  title: 'periodic gratuitous ARP on gateway VIPs',
  codes: ['garp-refresh-missing'],
  run(ctx) {
    const config = ctx.ourConfig();
    const gw = gatewayEvidence(ctx);
    if (gw.length === 0) return [];
    const global = config.globalDefs.vrrpGarpMasterRefresh ?? 0;
    const forced = logLines(ctx, /forcing a new election|forcing new election|received lower prio advert/i, 3);
    const out: Finding[] = [];
    for (const vi of config.vrrpInstances) {
      if (vi.virtualIpaddresses.length === 0) continue;
      const refresh = vi.garpMasterRefresh ?? global;
      if (refresh > 0) continue;
      // with a VMAC the VIP's MAC never moves, so stale upstream ARP entries still point the right way
      if (extrasOf(ctx, vi.name)?.vmac) continue;
      out.push(
        finding('garp-refresh-missing', {
          title: `(${vi.name}) no periodic gratuitous ARP for ${vi.virtualIpaddresses.map((v) => v.address).join(', ')}`,
          detail:
            "keepalived announces a VIP with gratuitous ARP only when it becomes MASTER. After a short split brain the node that stayed MASTER never re-announces, so routers and clients that learned the other node's MAC keep sending the VIP's traffic there until their ARP entry expires (minutes; hours on some firewalls). " +
            'Set `vrrp_garp_master_refresh 60` in global_defs (or `garp_master_refresh 60` in the instance) on both nodes and reload keepalived: the MASTER then repeats its gratuitous ARP every minute. (`use_vmac` is the other cure: the VIP keeps one MAC whichever node holds it.) ' +
            'The doctor does not edit keepalived.conf for you: a reload is needed and its undo cannot be ordered safely.',
          evidence: [
            confEvidence(
              vi.loc,
              `vrrp_instance ${vi.name}: no garp_master_refresh${config.globalDefs.vrrpGarpMasterRefresh === undefined ? ', no vrrp_garp_master_refresh in global_defs' : ` (vrrp_garp_master_refresh ${global})`}`,
            ),
            gw[0]!,
            ...(forced?.lines.length ? forced.lines.map((l) => ({ probe: forced.probe, excerpt: l })) : []),
          ],
          location: location(vi.loc),
          subject: vi.name,
        }),
      );
    }
    return out;
  },
};

// ------------------------------------------------------------------ nopreempt-ineffective (17, 18)

/** The weight a failing track script moves this instance by: the track_script entry's, else the vrrp_script's. 0 means FAULT. */
function scriptWeights(config: KeepalivedConfig, vi: VrrpInstance) {
  return vi.trackScripts.map((t) => ({
    kind: 'track_script',
    name: t.name,
    weight: t.weight ?? config.vrrpScripts.find((s) => s.name === t.name)?.weight ?? 0,
    loc: t.loc,
  }));
}

function syncGroupOf(config: KeepalivedConfig, name: string) {
  return config.vrrpSyncGroups.find((g) => g.members.includes(name));
}

const nopreempt: Check = {
  id: 'field-nopreempt-weights',
  title: 'nopreempt and track weights that can move the VIP',
  codes: ['nopreempt-ineffective'],
  run(ctx) {
    const config = ctx.ourConfig();
    const extras = configExtras(ctx);
    const peer = peerKeepalivedConfig(ctx)?.result.config;
    const out: Finding[] = [];
    const add = (vi: VrrpInstance, loc: VrrpInstance['loc'], title: string, detail: string, excerpt: string) =>
      out.push(
        finding('nopreempt-ineffective', {
          title: `(${vi.name}) ${title}`,
          detail,
          evidence: [confEvidence(loc, excerpt)],
          location: location(loc),
          subject: vi.name,
        }),
      );
    for (const vi of config.vrrpInstances) {
      const ex = extras?.instances.get(vi.name);
      const scripts = scriptWeights(config, vi);
      const group = syncGroupOf(config, vi.name);
      const groupWeights = group ? extras?.trackingWeightGroups.has(group.name) === true : true;
      // in a sync group without sync_group_tracking_weight keepalived zeroes interface weights (FAULT) and ignores
      // or unweights the other tracked objects: only weighted scripts are then a problem (dropped, below)
      const ifaces = groupWeights
        ? vi.trackInterfaces.filter((t) => t.name !== vi.interface).map((t) => ({ kind: 'track_interface', name: t.name, weight: t.weight ?? 0, loc: t.loc }))
        : [];
      const others = groupWeights ? (ex?.otherTracks ?? []).map((t) => ({ kind: t.kind, name: t.name, weight: t.weight ?? 0, loc: t.loc })) : [];
      // keepalived drops weighted track scripts of sync-group members (without sync_group_tracking_weight) and of address owners
      const owner = vi.priority === 255;
      const dropped = scripts.filter((s) => s.weight !== 0 && (owner || !groupWeights));
      for (const s of dropped) {
        add(
          vi,
          s.loc,
          `track script ${s.name} (weight ${s.weight}) is ignored by keepalived: its failure never moves the VIP`,
          `keepalived removes weighted track scripts ${owner ? 'of an address owner (priority 255)' : `of a member of sync group ${group!.name} unless the group sets sync_group_tracking_weight`} and logs "(${vi.name}) ignoring tracked script ${s.name} with weights due to ${owner ? 'address_owner' : 'SYNC group'}". The check still runs, but nothing happens when it fails. ${owner ? 'Use a priority below 255, or weight 0 (a failure then puts the instance in FAULT).' : `Use weight 0 (a failure puts the whole group in FAULT, so the peer takes every VIP), or add sync_group_tracking_weight to vrrp_sync_group ${group!.name}.`}`,
          `track_script ${s.name} weight ${s.weight}${owner ? ' (priority 255)' : ` (sync group ${group!.name})`}`,
        );
      }
      // with sync_group_tracking_weight a weight lowers only this member: the group moves only when every member loses its election
      if (group && groupWeights && !owner) {
        const mine = [...scripts, ...ifaces, ...others].filter((t) => t.weight !== 0);
        const groupLevel = group.trackScripts.some((t) => (t.weight ?? config.vrrpScripts.find((x) => x.name === t.name)?.weight ?? 0) !== 0);
        const siblings = group.members
          .filter((m) => m !== vi.name)
          .map((m) => config.vrrpInstances.find((x) => x.name === m))
          .filter((x): x is VrrpInstance => x !== undefined);
        for (const t of mine) {
          if (groupLevel) break;
          const without = siblings.filter(
            (sib) =>
              ![...scriptWeights(config, sib), ...sib.trackInterfaces.map((x) => ({ name: x.name, weight: x.weight ?? 0 }))].some(
                (x) => x.name === t.name && x.weight !== 0,
              ),
          );
          if (without.length === 0) continue;
          add(
            vi,
            t.loc,
            `${t.kind} ${t.name} (weight ${t.weight}) lowers only ${vi.name}: sync group ${group.name} still cannot move`,
            `With sync_group_tracking_weight the weight changes the priority of ${vi.name} alone. A sync group goes to the peer only when all its members lose their elections, and ${without.map((x) => x.name).join(', ')} still win${without.length === 1 ? 's' : ''} with ${without.map((x) => x.priority ?? 100).join('/')}, so the group stays here (keepalived #2132). Track ${t.name} in vrrp_sync_group ${group.name} itself (it then applies to every member), or on every member with the same weight.`,
            `${t.kind} ${t.name} weight ${t.weight} on ${vi.name} only (sync group ${group.name})`,
          );
        }
      }
      if (vi.nopreempt && vi.state === 'MASTER')
        add(
          vi,
          vi.loc,
          'nopreempt with state MASTER: keepalived clears nopreempt',
          'keepalived logs "(NAME) Warning - nopreempt will not work with initial state MASTER - clearing" and preempts anyway: the node with the higher priority takes the VIP back whenever it returns. For nopreempt, set state BACKUP on every node (and different priorities).',
          'state MASTER + nopreempt',
        );
      if (vi.nopreempt && owner)
        add(
          vi,
          vi.loc,
          'nopreempt with priority 255: keepalived resets nopreempt',
          'keepalived logs "(NAME) nopreempt is incompatible with priority 255. resetting nopreempt": an address owner always takes the VIP back. Use a priority below 255 with nopreempt.',
          'priority 255 + nopreempt',
        );
      if (vi.nopreempt && vi.state !== 'MASTER' && !owner) {
        const groupTracks =
          group && groupWeights
            ? group.trackScripts.map((t) => ({
                kind: 'track_script',
                name: t.name,
                weight: t.weight ?? config.vrrpScripts.find((x) => x.name === t.name)?.weight ?? 0,
                loc: t.loc,
              }))
            : [];
        const weighted = [...scripts.filter((s) => !dropped.includes(s)), ...ifaces, ...others, ...groupTracks].filter((t) => t.weight !== 0);
        for (const t of weighted)
          add(
            vi,
            t.loc,
            `nopreempt with ${t.kind} ${t.name} weight ${t.weight}: a failure lowers the priority but the VIP stays`,
            `With nopreempt a BACKUP never takes over from a MASTER that is still advertising, whatever their priorities, so a failing ${t.kind} that only changes the priority moves nothing (keepalived issue #2599: "VIP is not migrated to the backup node if the nopreempt option is set"). Only FAULT or a stop moves the VIP: use weight 0 for ${t.name} (a failure puts the instance in FAULT), or drop nopreempt and use preempt_delay.`,
            `nopreempt + ${t.kind} ${t.name} weight ${t.weight}`,
          );
      }
      // weights against the peer's priority
      // (nopreempt with state MASTER or priority 255 is cleared by keepalived: weights then work as without it)
      const effectiveNopreempt = vi.nopreempt && vi.state !== 'MASTER' && !owner;
      const other = peer?.vrrpInstances.find((p) => p.virtualRouterId === vi.virtualRouterId && p.virtualRouterId !== undefined);
      if (other && vi.priority !== undefined && other.priority !== undefined && vi.priority > other.priority && !effectiveNopreempt) {
        const gap = vi.priority - other.priority;
        for (const t of [...scripts.filter((s) => !dropped.includes(s)), ...ifaces, ...others]) {
          if (t.weight !== 0 && Math.abs(t.weight) <= gap)
            add(
              vi,
              t.loc,
              `${t.kind} ${t.name} weight ${t.weight} cannot cause failover (priority gap to the peer is ${gap})`,
              `This node has priority ${vi.priority}, the peer ${other.priority}. When ${t.name} fails the priorities move by ${Math.abs(t.weight)}, which is not more than the gap, so this node stays MASTER. Make |weight| larger than ${gap}, or use weight 0 (the instance goes to FAULT).`,
              `${t.kind} ${t.name} weight ${t.weight}`,
            );
        }
      }
    }
    return out;
  },
};

// ------------------------------------------------------------------ vip-address-invalid (36)

interface Subnet {
  ifname: string;
  address: string;
  prefix: number;
}

function subnetsOf(ctx: CheckContext, vips: Set<string>): Subnet[] {
  return localAddresses(ctx)
    .filter((a) => a.family === 'inet' && !vips.has(a.address) && a.prefix < 32)
    .map((a) => ({ ifname: a.ifname, address: a.address, prefix: a.prefix }));
}

function v4(addr: string): ipaddr.IPv4 | undefined {
  try {
    const a = ipaddr.parse(addr);
    return a.kind() === 'ipv4' ? (a as ipaddr.IPv4) : undefined;
  } catch {
    return undefined;
  }
}

/** Network config files (ifupdown, netplan, networkd, NetworkManager, ifcfg) that configure addr statically. */
function staticConfigLines(ctx: CheckContext, addr: string): Evidence[] {
  const out: Evidence[] = [];
  const re = new RegExp(`(^|[^\\d.])${addr.replace(/\./g, '\\.')}(/\\d+)?($|[^\\d.])`);
  for (const [id, rec] of Object.entries(ctx.snapshot.probes)) {
    if (!id.startsWith('file:') || rec.status !== 'ok') continue;
    const p = rec.path ?? id.slice(5);
    if (!/^\/etc\/(network\/interfaces|netplan\/|systemd\/network\/|NetworkManager\/system-connections\/|sysconfig\/network-scripts\/ifcfg-)/.test(p)) continue;
    // an address line (ifupdown `address`, networkd `Address=`, NetworkManager `address1=`, ifcfg `IPADDR=`, netplan
    // `addresses: [...]`), never DNS, gateway or route lines, nor netplan's nameserver addresses
    const lines = rec.stdout.split('\n');
    const i = lines.findIndex(
      (l, n) =>
        !/^\s*[#;]/.test(l) &&
        re.test(l) &&
        /^\s*(address\s|Address=|address\d+=|IPADDR\d*=|addresses:)/.test(l) &&
        !/dns|nameserver|gateway|via/i.test(l) &&
        !/nameservers:/.test(lines[n - 1] ?? ''),
    );
    if (i >= 0) out.push({ probe: id, excerpt: `${p}: ${lines[i]!.trim()}` });
  }
  return out;
}

const vipAddress: Check = {
  id: 'field-vip-address',
  title: 'VIP addresses, prefixes and broadcasts',
  codes: ['vip-address-invalid'],
  run(ctx) {
    const config = ctx.ourConfig();
    const extras = configExtras(ctx);
    const haveAddrs = ctx.output(PROBE_IP_ADDR) !== undefined;
    const vipSet = new Set(config.vrrpInstances.flatMap((v) => v.virtualIpaddresses.map((a) => a.address)));
    const subnets = haveAddrs ? subnetsOf(ctx, vipSet) : [];
    const ownSources = new Map<string, string>();
    for (const vi of config.vrrpInstances) {
      if (vi.unicastSrcIp) ownSources.set(vi.unicastSrcIp, `unicast_src_ip of ${vi.name}`);
      if (vi.mcastSrcIp) ownSources.set(vi.mcastSrcIp, `mcast_src_ip of ${vi.name}`);
    }
    for (const s of extras?.staticAddresses ?? []) ownSources.set(s.address, `static_ipaddress at ${at(s.loc)}`);
    const seen = new Map<string, string>();
    const out: Finding[] = [];
    for (const vi of config.vrrpInstances) {
      for (const vip of vi.virtualIpaddresses) {
        const problems: string[] = [];
        const evidence: Evidence[] = [confEvidence(vip.loc, vip.raw)];
        const prev = seen.get(vip.address);
        if (prev && prev !== vi.name)
          problems.push(
            `it is also a VIP of ${prev}: when either instance releases it, keepalived deletes the address the other still needs (keepalived #442)`,
          );
        seen.set(vip.address, vi.name);
        const src = ownSources.get(vip.address);
        if (src)
          problems.push(
            `it is this node's own address (${src}): the instance cannot own it and goes to FAULT or deletes the node's address when it becomes BACKUP`,
          );
        const statics = staticConfigLines(ctx, vip.address);
        if (statics.length && !src) {
          problems.push(
            'the network configuration assigns it statically to this node: keepalived deletes it on BACKUP, and the network manager puts it back on both nodes',
          );
          evidence.push(...statics.slice(0, 2));
        }
        const a = v4(vip.address);
        if (a) {
          const b = extras?.instances.get(vi.name)?.vipBrd.get(vip.address);
          if (vip.prefix < 31) {
            const net = ipaddr.IPv4.networkAddressFromCIDR(`${vip.address}/${vip.prefix}`).toString();
            const bc = ipaddr.IPv4.broadcastAddressFromCIDR(`${vip.address}/${vip.prefix}`).toString();
            if (vip.address === net) problems.push(`it is the network address of ${net}/${vip.prefix}`);
            else if (vip.address === bc) problems.push(`it is the broadcast address of ${net}/${vip.prefix}`);
            if (b && b !== '+' && b !== bc) problems.push(`brd ${b} is not the broadcast address of ${net}/${vip.prefix} (${bc})`);
          }
          for (const s of subnets) {
            const inside = a.match(ipaddr.parse(s.address) as ipaddr.IPv4, s.prefix);
            if (!inside) continue;
            const net = ipaddr.IPv4.networkAddressFromCIDR(`${s.address}/${s.prefix}`).toString();
            const bc = ipaddr.IPv4.broadcastAddressFromCIDR(`${s.address}/${s.prefix}`).toString();
            if (vip.prefix >= 31 && s.prefix < 31 && (vip.address === net || vip.address === bc))
              problems.push(`it is the ${vip.address === net ? 'network' : 'broadcast'} address of ${s.ifname}'s subnet ${net}/${s.prefix}`);
            if (vip.prefix < s.prefix)
              problems.push(
                `it lies in ${s.ifname}'s subnet ${net}/${s.prefix} but is written /${vip.prefix}: keepalived adds a wider connected route (and broadcast) that captures traffic for addresses outside the subnet; write /32 or /${s.prefix}`,
              );
            evidence.push({ probe: PROBE_IP_ADDR, excerpt: `${s.ifname}: ${s.address}/${s.prefix}` });
            break;
          }
        }
        if (problems.length === 0) continue;
        out.push(
          finding('vip-address-invalid', {
            title: `(${vi.name}) VIP ${vip.address}/${vip.prefix}: ${problems[0]!.split(':')[0]}`,
            detail: `${problems.map((p) => `${vip.address}: ${p}.`).join(' ')} Correct the virtual_ipaddress line on both nodes and reload keepalived (the doctor does not rewrite keepalived.conf).`,
            evidence,
            location: location(vip.loc),
            subject: vi.name,
          }),
        );
      }
    }
    return out;
  },
};

// ------------------------------------------------------------------ virtual-routes-conflict (31)

interface RouteJson {
  dst?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
  table?: string;
  type?: string;
}

/** the routes as iproute2 printed them (the routing parser's raw records: the fields ip -j left out stay out) */
function runtimeRoutes(ctx: CheckContext): RouteJson[] | undefined {
  return ipRoutes(ctx)?.map((r) => r.raw as RouteJson);
}

const isDefault = (dst: string) => dst === 'default' || dst === '0.0.0.0/0';
const inMain = (table: string | undefined) => table === undefined || table === 'main' || table === '254';
const KEEPALIVED_PROTO = new Set(['keepalived', '18']);
const routeText = (r: RouteJson) =>
  `${r.type && r.type !== 'unicast' ? `${r.type} ` : ''}${r.dst ?? '?'}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.protocol ? ` proto ${r.protocol}` : ''}${r.metric !== undefined ? ` metric ${r.metric}` : ''}${r.table && r.table !== 'main' ? ` table ${r.table}` : ''}`;

const virtualRoutes: Check = {
  id: 'field-virtual-routes',
  title: 'virtual_routes against the static routing',
  codes: ['virtual-routes-conflict'],
  run(ctx) {
    const config = ctx.ourConfig();
    const extras = configExtras(ctx);
    const withRoutes = config.vrrpInstances.map((vi) => ({ vi, routes: extras?.instances.get(vi.name)?.virtualRoutes ?? [] })).filter((x) => x.routes.length);
    if (withRoutes.length === 0) return [];
    const routes = runtimeRoutes(ctx);
    const out: Finding[] = [];
    const add = (vi: VrrpInstance, r: ConfigRoute, title: string, detail: string, more: Evidence[] = []) =>
      out.push(
        finding('virtual-routes-conflict', {
          title: `(${vi.name}) virtual route ${r.raw}: ${title}`,
          detail,
          evidence: [confEvidence(r.loc, r.raw), ...more],
          location: location(r.loc),
          subject: vi.name,
        }),
      );
    const subnets = localAddresses(ctx).filter((a) => a.family === 'inet');
    const vipNets = config.vrrpInstances.flatMap((v) =>
      v.virtualIpaddresses.filter((a) => !a.address.includes(':')).map((a) => ({ address: a.address, prefix: a.prefix })),
    );
    const defaultsByTable = new Map<string, string>();
    for (const { vi, routes: vr } of withRoutes) {
      for (const r of vr) {
        const table = r.table ?? 'main';
        if (r.dst === '0.0.0.0' || r.dst === 'default/32')
          add(
            vi,
            r,
            'a host route, not a default route',
            `"${r.dst}" without /0 is the host 0.0.0.0/32 (keepalived #48): nothing uses it as a default route. Write "0.0.0.0/0" or "default".`,
          );
        if (isDefault(r.dst)) {
          const prev = defaultsByTable.get(table);
          if (prev && prev !== vi.name)
            add(
              vi,
              r,
              `instances ${prev} and ${vi.name} both install a default route in table ${table}`,
              `When the instances are MASTER on different nodes, or one moves back, each adds and deletes the same default route, so a transition of one instance removes the route the other node relies on (keepalived #1078). Let one instance (or the sync group holding both) own the default route.`,
            );
          defaultsByTable.set(table, vi.name);
        }
        if (r.via && !r.type) {
          const gw = v4(r.via);
          const onLink =
            gw &&
            [...subnets.map((s) => ({ address: s.address, prefix: s.prefix })), ...vipNets].some(
              (s) => s.prefix < 32 && gw.match(ipaddr.parse(s.address) as ipaddr.IPv4, s.prefix),
            );
          if (gw && ctx.output(PROBE_IP_ADDR) !== undefined && !onLink)
            add(
              vi,
              r,
              `gateway ${r.via} is on no connected subnet`,
              `No address of this node (nor a VIP's prefix) covers ${r.via}, so the kernel refuses the route ("Nexthop has invalid gateway") and keepalived logs the failure each time it becomes MASTER. Route via a neighbour on a connected subnet, or add "dev IF onlink" if that is meant.`,
              [{ probe: PROBE_IP_ADDR, excerpt: `IPv4 subnets: ${subnets.map((s) => `${s.address}/${s.prefix}`).join(' ') || 'none'}` }],
            );
        }
        if (!routes) continue;
        // a static route with the same destination, table and metric: keepalived's add fails with "File exists"
        const same = routes.filter(
          (x) =>
            x.dst !== undefined &&
            (x.dst === r.dst || (isDefault(x.dst) && isDefault(r.dst))) &&
            (inMain(x.table) ? inMain(r.table) : x.table === r.table) &&
            !KEEPALIVED_PROTO.has(x.protocol ?? '') &&
            (x.metric ?? 0) === (r.metric ?? 0) &&
            (x.type === undefined || x.type === 'unicast'),
        );
        const state = instanceStates(ctx).find((s) => s.name === vi.name)?.state;
        for (const x of same.slice(0, 1)) {
          // on the MASTER the virtual route may be the one listed (when the protocol is not shown): only judge routes that are not keepalived's
          if (state === 'MASTER' && x.gateway === r.via && x.dev === r.dev) continue;
          add(
            vi,
            r,
            `a static route ${routeText(x)} has the same destination and metric`,
            `When this node becomes MASTER keepalived's route add fails ("File exists"), and when it becomes BACKUP it deletes the route, taking the static one away with it. Give the static route a higher metric (a fallback for the backup) and the virtual route a lower one, as the keepalived maintainer advises (#748).`,
            [{ probe: PROBE_IP_ROUTE, excerpt: routeText(x) }],
          );
        }
        if (isDefault(r.dst) && inMain(r.table)) {
          // on the MASTER, the virtual route itself shows up (as proto boot/static on iproute2 without a name for keepalived's protocol)
          const others = routes.filter(
            (x) =>
              x.dst === 'default' &&
              inMain(x.table) &&
              !KEEPALIVED_PROTO.has(x.protocol ?? '') &&
              !(state === 'MASTER' && x.gateway === r.via && (x.metric ?? 0) === (r.metric ?? 0)),
          );
          if (others.length === 0 && (state === 'BACKUP' || state === 'FAULT'))
            add(
              vi,
              r,
              `this ${state} node has no default route`,
              `The only default route is the virtual route, which exists only on the MASTER: on this node (${state}) nothing reaches the outside (package updates, NTP, DNS, monitoring; keepalived #748). Add a static default route with a higher metric than the virtual one, e.g. via the upstream router directly.`,
              [{ probe: PROBE_IP_ROUTE, excerpt: 'no default route in table main' }],
            );
          else if (others.length === 0 && state === 'MASTER')
            add(
              vi,
              r,
              'the default route vanishes when this node becomes BACKUP',
              `Apart from the virtual route there is no default route in table main, so when this node hands the VIPs over it also loses its own way out (package updates, NTP, DNS, monitoring; keepalived #748). Add a static default route with a higher metric than the virtual one.`,
              [{ probe: PROBE_IP_ROUTE, excerpt: 'only the virtual default route in table main' }],
            );
        }
      }
    }
    if (!routes && out.length === 0) throw new SkipCheck('ip route was not collected');
    return out;
  },
};

// ------------------------------------------------------------------ vmac-arp-settings (23)

/** What keepalived 2.2.7 sets when it creates a VMAC (checked on the real daemon in the lab), plus arp_announce 2 on the base interface. */
const VMAC_NEEDS = (base: string, vmac: string) =>
  [
    { ifname: base, leaf: 'arp_ignore', want: 1, how: 'min', why: `${base} must not answer ARP for the VIP with its own MAC` },
    { ifname: base, leaf: 'arp_filter', want: 1, how: 'or', why: `${base} answers ARP only for routes through itself` },
    // not set by keepalived 2.2.7: replies from the VIP leave through the base interface, and unless arp_announce is 2
    // its ARP requests carry the VIP (in the base subnet, so 1 keeps it) with the base MAC, re-teaching clients that MAC (lab-proven)
    {
      ifname: base,
      leaf: 'arp_announce',
      want: 2,
      how: 'min',
      why: `ARP requests ${base} sends for the VIP's traffic must not announce the VIP with ${base}'s own MAC`,
    },
    { ifname: vmac, leaf: 'arp_ignore', want: 1, how: 'min', why: `${vmac} answers ARP only for its own addresses` },
    { ifname: vmac, leaf: 'arp_filter', want: 0, how: 'or', why: `${vmac} must answer ARP for the VIP although the route to the asker leaves through ${base}` },
    { ifname: vmac, leaf: 'accept_local', want: 1, how: 'or', why: `${vmac} must accept packets with a local source (its own adverts via ${base})` },
    { ifname: vmac, leaf: 'rp_filter', want: 0, how: 'max', why: `strict reverse-path filtering on ${vmac} drops traffic that arrives on it` },
  ] as const;

const vmacSettings: Check = {
  id: 'field-vmac',
  title: 'VMAC sysctls and hypervisor MAC filtering',
  codes: ['vmac-arp-settings'],
  run(ctx) {
    const config = ctx.ourConfig();
    const out: Finding[] = [];
    let judged = 0;
    for (const vi of config.vrrpInstances) {
      const ex = extrasOf(ctx, vi.name);
      if (!ex?.vmac) continue;
      const base = vi.interface ?? config.globalDefs.defaultInterface;
      if (!base) continue;
      const vmac = ex.vmac.ifname;
      const exists = ctx.output(ifaceSysctlId(vmac, 'arp_ignore')) !== undefined;
      const wrong: VmacSysctl[] = [];
      if (exists) {
        judged++;
        for (const n of VMAC_NEEDS(base, vmac)) {
          const dev = ifaceSysctl(ctx, n.ifname, n.leaf);
          const all = ifaceSysctl(ctx, 'all', n.leaf);
          if (dev === undefined || all === undefined) continue;
          // the kernel combines conf/all and conf/IF: max for arp_ignore/rp_filter, OR for arp_filter/accept_local
          const effective = n.how === 'or' ? (dev || all ? 1 : 0) : Math.max(dev, all);
          const ok = n.how === 'min' ? effective >= n.want : n.leaf === 'rp_filter' ? effective !== 1 : effective === n.want;
          if (ok) continue;
          const devKey = `net.ipv4.conf.${n.ifname.replace(/\./g, '/')}.${n.leaf}`;
          const allKey = `net.ipv4.conf.all.${n.leaf}`;
          if (n.how === 'min' || (n.how === 'or' && n.want === 1)) wrong.push({ key: devKey, now: dev, set: n.want, why: n.why });
          else if (n.how === 'or') {
            // arp_filter must be 0 on the VMAC: conf/all OR conf/IF, so both must be 0
            if (dev !== 0) wrong.push({ key: devKey, now: dev, set: 0, why: n.why });
            if (all !== 0) wrong.push({ key: allKey, now: all, set: 0, why: `${n.why} (conf/all forces it on every interface)` });
          } else {
            // rp_filter: the kernel uses max(conf/all, conf/IF); strict (1) is the problem, loose (2) is fine
            if (dev === 1) wrong.push({ key: devKey, now: dev, set: 0, why: n.why });
            if (all === 1) wrong.push({ key: allKey, now: all, set: 2, why: `${n.why} (conf/all = 1 makes every interface strict; 2 is loose)` });
          }
        }
      }
      if (wrong.length) {
        const keys = new Set<string>();
        for (let i = wrong.length - 1; i >= 0; i--)
          if (keys.has(wrong[i]!.key)) wrong.splice(i, 1);
          else keys.add(wrong[i]!.key);
        const fix = vmacArpPlan(vmac, base, wrong);
        out.push(
          finding('vmac-arp-settings', {
            title: `(${vi.name}) VMAC ${vmac} on ${base}: ${wrong.map((w) => `${w.key.replace('net.ipv4.conf.', '')}=${w.now}`).join(', ')}`,
            detail: `With use_vmac the VIP lives on ${vmac} with the virtual MAC 00:00:5e:00:01:${(vi.virtualRouterId ?? 0).toString(16).padStart(2, '0')}; keepalived sets ARP sysctls when it creates the interface so that only ${vmac} answers ARP for the VIP. These are not as needed (keepalived sets all but arp_announce itself; something may have reset them since): ${wrong.map((w) => `${w.key} is ${w.now} (${w.why})`).join('; ')}. Clients then learn ${base}'s real MAC (or nothing) for the VIP, so a failover leaves them pointing at the old node, or the VIP does not answer at all.`,
            evidence: [
              confEvidence(ex.vmac.loc, `use_vmac${ex.vmac.ifname.startsWith('vrrp.') ? '' : ` ${ex.vmac.ifname}`}`),
              ...wrong.map((w) => ({ probe: sysctlProbeId(w.key), excerpt: `${w.key} = ${w.now}` })),
            ],
            fix,
            location: location(ex.vmac.loc),
            subject: vi.name,
          }),
        );
      }
      // a hypervisor that filters unknown source MACs: adverts leave with the VMAC and never arrive
      const hv = hypervisor(ctx);
      const timeouts = logLines(
        ctx,
        new RegExp(`\\(${vi.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\).*(Receive advertisement timeout|Entering MASTER STATE)`),
        4,
      );
      const state = instanceStates(ctx).find((s) => s.name === vi.name)?.state;
      const noPeer = state === 'MASTER' && (timeouts?.lines.some((l) => /Receive advertisement timeout/.test(l)) ?? false);
      if (hv && noPeer) {
        const what: Record<string, string> = {
          'VMware ESXi':
            'on the port group / distributed switch: Promiscuous mode, MAC address changes and Forged transmits must be Accept (FRRouting/frr#5386)',
          'Hyper-V': 'on the VM\'s network adapter: Advanced Features > "Enable MAC address spoofing" (Set-VMNetworkAdapter -MacAddressSpoofing On)',
          VirtualBox: 'on the adapter: Promiscuous Mode "Allow All", and a bridged or internal network (NAT networks do not pass the VMAC)',
        };
        out.push(
          finding('vmac-arp-settings', {
            title: `(${vi.name}) VMAC on ${hv.name}: the hypervisor may drop frames from the virtual MAC`,
            detail: `This node became MASTER after "Receive advertisement timeout" while using a VMAC on a ${hv.name} guest. Hypervisor switches drop frames whose source MAC is not the one assigned to the virtual NIC, so the peer's adverts (sent from its VMAC) never arrive and both nodes become MASTER. Check ${what[hv.name] ?? "the virtual switch's MAC spoofing / port security settings"}. This is invisible from inside the guest; \`tcpdump -eni ${base} 'ip proto 112'\` on the peer shows adverts leaving that never arrive here. Or drop use_vmac.`,
            evidence: [confEvidence(ex.vmac.loc, 'use_vmac'), hv.evidence, ...(timeouts?.lines ?? []).map((l) => ({ probe: timeouts!.probe, excerpt: l }))],
            location: location(ex.vmac.loc),
            subject: vi.name,
            severity: 'warning',
          }),
        );
      }
    }
    // keepalived #882: IGMP reports for 224.0.0.x sent from a backup's VMAC teach the switch the VMAC on the backup's port
    const vmacs = config.vrrpInstances.filter((vi) => extrasOf(ctx, vi.name)?.vmac);
    const multicast = vmacs.filter((vi) => vi.unicastPeers.length === 0);
    const reports = ctx.output(PROBE_IGMP_LL_REPORTS)?.trim();
    if (multicast.length && reports === '1' && !configExtras(ctx)?.disableLocalIgmp) {
      const vi = multicast[0]!;
      out.push(
        finding('vmac-arp-settings', {
          title: `(${vi.name}) VMAC with multicast VRRP and IGMP reports for 224.0.0.x on: a backup can steal the virtual MAC on the switch`,
          detail: `The backup keeps its VMAC interface with the VRRP group (224.0.0.18) joined; each IGMP membership report it sends (at start, after a reboot, on a querier's query) leaves with the virtual MAC as source, so the switch moves the VMAC to the backup's port and the VIP's traffic goes to the backup until the master sends again (keepalived #882). Add \`disable_local_igmp\` to global_defs (keepalived keeps net.ipv4.igmp_link_local_mcast_reports at 0 while it runs; link-local groups need no reports); the fix sets the sysctl now.`,
          evidence: [
            confEvidence(extrasOf(ctx, vi.name)!.vmac!.loc, 'use_vmac (multicast adverts)'),
            { probe: PROBE_IGMP_LL_REPORTS, excerpt: 'net.ipv4.igmp_link_local_mcast_reports = 1' },
          ],
          fix: igmpLinkLocalOffPlan(),
          location: location(extrasOf(ctx, vi.name)!.vmac!.loc),
          subject: vi.name,
          severity: 'warning',
        }),
      );
    }
    if (judged === 0 && out.length === 0 && config.vrrpInstances.some((vi) => extrasOf(ctx, vi.name)?.vmac))
      throw new SkipCheck('the VMAC interface does not exist (keepalived not running, or not MASTER yet) or its sysctls were not collected');
    return out;
  },
};

// ------------------------------------------------------------------ cloud-vip-not-routed (5, 6)

const PROVIDER_CHECKS: Record<string, string> = {
  AWS: 'the VIP must be a secondary private IP of the ENI that should receive it (moved by notify_master with `aws ec2 assign-private-ip-addresses --allow-reassignment`), and for a gateway Source/Dest Check must be off on both instances (`aws ec2 describe-instances --query "Reservations[].Instances[].SourceDestCheck"`); the VPC ignores gratuitous ARP',
  Azure:
    'Azure does not honour gratuitous ARP: the VIP needs an Azure Load Balancer (HA ports / floating IP) in front, or notify_master must move the IP configuration or update the route table through the API; for a gateway enable IP forwarding on both NICs (`az network nic show --query enableIPForwarding`)',
  'Google Cloud':
    'the VIP must be an alias IP range moved by notify_master (`gcloud compute instances network-interfaces update --aliases`) or a route whose next hop is the master; for a gateway both instances need canIpForward',
  OpenStack:
    'with port security on, both ports need the VIP in allowed_address_pairs (`openstack port show PORT -c allowed_address_pairs -c port_security_enabled`; `openstack port set --allowed-address ip-address=VIP PORT`); on OVN the VIP must also be a port of its own',
  'Alibaba Cloud':
    'the VIP must be a HaVip bound to both instances (`aliyun vpc DescribeHaVips`: AssociatedInstances lists both ECS), with any EIP bound to the HaVip, not to an instance',
  'Huawei Cloud': 'the VIP must be a virtual IP bound to both ports, and for a gateway source/destination check must be off on both NICs',
  'Tencent Cloud': 'the VIP must be a HAVIP of the subnet bound to the instances (`tccli vpc DescribeHaVips`)',
  'Oracle Cloud':
    'the VIP must be a secondary private IP moved by notify_master (`oci network vnic assign-private-ip --unassign-if-already-assigned`), and for a gateway "Skip source/destination check" must be on for both VNICs',
  'Hetzner Cloud':
    'the VIP must be an alias or floating IP assigned by notify_master through the API (`hcloud floating-ip assign`); Hetzner does not route an address to a server on gratuitous ARP alone',
  DigitalOcean: 'the VIP must be a reserved IP assigned by notify_master through the API; the droplet network ignores gratuitous ARP for unassigned addresses',
};

const API_CALL = /\b(aws\s+ec2|gcloud\s+compute|az\s+network|hcloud|oci\s+network|aliyun|tccli|doctl|openstack\s+port|curl\b.*\b(api|metadata))/;

function sdnFromMacs(ctx: CheckContext): Evidence | undefined {
  try {
    const links = JSON.parse(ctx.output(PROBE_IP_LINK) ?? '[]') as Array<{ ifname?: string; address?: string; link_type?: string }>;
    const l = links.find((x) => x.link_type === 'ether' && /^fa:16:3e:/i.test(x.address ?? ''));
    return l ? { probe: PROBE_IP_LINK, excerpt: `${l.ifname}: link/ether ${l.address} (fa:16:3e: is OpenStack Neutron's MAC prefix)` } : undefined;
  } catch {
    return undefined;
  }
}

const cloudVip: Check = {
  id: 'field-cloud-vip',
  title: 'cloud/SDN VIPs and the provider settings they need',
  codes: ['cloud-vip-not-routed'],
  run(ctx) {
    const config = ctx.ourConfig();
    const instancesWithVips = config.vrrpInstances.filter((v) => v.virtualIpaddresses.length);
    if (instancesWithVips.length === 0) return [];
    let cloud = detectCloud(ctx.snapshot.probes);
    // a Hyper-V guest reports Microsoft too: Azure sets its well-known chassis asset tag
    if (cloud?.cloud === 'Azure' && ctx.output(PROBE_DMI_CHASSIS_ASSET_TAG)?.trim() !== '7783-7084-3265-9085-8269-3286-77') cloud = null;
    const sdn = cloud ? undefined : sdnFromMacs(ctx);
    const name = cloud?.cloud ?? (sdn ? 'OpenStack' : undefined);
    if (!name) return [];
    const evidence: Evidence[] = cloud ? [{ probe: 'dmi', excerpt: cloud.evidence }] : [sdn!];
    const vips = instancesWithVips.flatMap((v) => v.virtualIpaddresses.map((a) => a.address));
    const out: Finding[] = [
      finding('cloud-vip-not-routed', {
        title: `VIP${vips.length > 1 ? 's' : ''} ${vips.join(', ')} on ${name}: the provider must route ${vips.length > 1 ? 'them' : 'it'} too`,
        detail: `On ${name} a VIP held by keepalived answers only on the master itself unless the virtual network also sends it there: ${PROVIDER_CHECKS[name] ?? 'the provider must know the VIP belongs to this port (allowed address pairs, source/destination check, or an API move from notify_master)'}. None of this is visible from the host, so the doctor cannot tell whether it is done; from another host, \`ip neigh show VIP\` stuck in INCOMPLETE/FAILED or a timeout while the master holds the VIP is the sign. There is no fix the doctor can apply.`,
        evidence: [
          ...evidence,
          confEvidence(
            instancesWithVips[0]!.loc,
            `vrrp_instance ${instancesWithVips[0]!.name}: virtual_ipaddress ${instancesWithVips[0]!.virtualIpaddresses.map((a) => a.address).join(' ')}`,
          ),
        ],
        location: location(instancesWithVips[0]!.loc),
      }),
    ];
    // catalogue 6: notify_master moves the IP through the API but is not re-run after a short split brain
    for (const vi of instancesWithVips) {
      const group = config.vrrpSyncGroups.find((g) => g.members.includes(vi.name));
      const master = vi.notify.master ?? group?.notify.master ?? vi.notify.notify ?? group?.notify.notify;
      if (!master) continue;
      const text = ctx.output(scriptProbeId(master.path)) ?? master.command;
      const call = text.split('\n').find((l) => !/^\s*#/.test(l) && API_CALL.test(l));
      if (!call || extrasOf(ctx, vi.name)?.notifyMasterRxLowerPri) continue;
      out.push(
        finding('cloud-vip-not-routed', {
          title: `(${vi.name}) notify_master moves the VIP through the ${name} API but is not re-run after a short split brain`,
          detail:
            'notify_master runs only on a transition. After a brief loss of adverts the backup becomes MASTER and moves the cloud IP to itself; the real master then wins the election again ("forcing a new election") without ever leaving MASTER, so its notify_master never runs and the cloud IP stays on the wrong node. Add `notify_master_rx_lower_pri` to the instance (it runs a script when a lower-priority advert forces a new election) with the same script, and make the script idempotent, or reconcile the assignment periodically.',
          evidence: [confEvidence(master.loc, `notify_master ${master.command}`), { probe: scriptProbeId(master.path), excerpt: call.trim() }],
          location: location(master.loc),
          subject: vi.name,
        }),
      );
    }
    return out;
  },
};

export const fieldConfigChecks: Check[] = [garpRefresh, nopreempt, vipAddress, virtualRoutes, vmacSettings, cloudVip];
