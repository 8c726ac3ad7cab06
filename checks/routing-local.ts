// The local table (rule 0) always wins: an LVS-NAT real server holding an address in the VIP's
// subnet, and a VRRP VIP left in the local table where keepalived does not run (while BACKUP, a
// held VIP is vip-state-mismatch's).
import type { Check } from '../src/check.js';
import { finding, type CheckContext } from '../src/context.js';
import { keepalivedConfig, peerKeepalivedConfig } from '../src/keepalived/from-snapshot.js';
import { SkipCheck } from '../src/context.js';
import { daemonStatus, localAddresses } from '../src/state.js';
import { links, runtimeRouting } from '../src/routing/from-snapshot.js';
import { localTableTraps, vipsInLocalTable } from '../src/routing/local-table.js';
import { PROBE_IP_ADDR, PROBE_IP_ROUTE } from '../src/probes/ids.js';

function configs(ctx: CheckContext) {
  return [keepalivedConfig(ctx).result?.config, peerKeepalivedConfig(ctx)?.result.config].filter((c) => c !== undefined);
}

export const localTableTrap: Check = {
  id: 'lvs-nat-local-trap',
  title: 'LVS-NAT real server replies through the director',
  codes: ['lvs-nat-local-trap'],
  run(ctx) {
    ctx.require(PROBE_IP_ADDR, 'ip -j addr show');
    const cfgs = configs(ctx);
    const nat = cfgs.flatMap((c) => c.virtualServers).filter((vs) => /^nat$/i.test(vs.method ?? ''));
    if (nat.length === 0) return [];
    const vips = cfgs.flatMap((c) => c.vrrpInstances.flatMap((i) => i.virtualIpaddresses)).map((v) => ({ address: v.address, prefix: v.prefix }));
    const traps = localTableTraps(
      localAddresses(ctx),
      nat.flatMap((vs) => vs.realServers.map((rs) => rs.address)),
      vips,
    );
    return traps.map((t) =>
      finding('lvs-nat-local-trap', {
        severity: 'error',
        title: `real server ${t.realServer} holds ${t.address.address}/${t.address.prefix} in the VIP subnet ${t.vip.address}/${t.vip.prefix}`,
        detail: `Replies to clients in ${t.vip.address}/${t.vip.prefix} leave by the connected route on ${t.address.ifname} (and the host's own addresses are answered from the local table, rule 0, before any policy rule), so they never pass the director's NAT and clients drop them. Move that address out of the VIP subnet, or route the subnet through the director.`,
        evidence: [{ probe: PROBE_IP_ADDR, excerpt: `${t.address.ifname}: inet ${t.address.address}/${t.address.prefix}` }],
        subject: t.address.ifname,
      }),
    );
  },
};

export const strayVip: Check = {
  id: 'vip-stray-local',
  title: 'no VRRP VIP left where keepalived does not run',
  codes: ['vip-stray-local'],
  run(ctx) {
    const cfg = keepalivedConfig(ctx).result?.config;
    if (!cfg) return [];
    // with keepalived running, a VIP held while BACKUP is vip-state-mismatch's finding
    const daemon = daemonStatus(ctx);
    if (daemon.running === 'yes') return [];
    // not root: whether keepalived runs cannot be told, so a held VIP proves nothing
    if (daemon.running === 'unknown') throw new SkipCheck(daemon.why ?? 'keepalived could not be verified', true);
    const { routes } = runtimeRouting(ctx);
    const loops = links(ctx)
      .filter((l) => l.loopback)
      .map((l) => l.ifname);
    const vips = cfg.vrrpInstances.flatMap((i) => i.virtualIpaddresses.map((v) => v.address));
    return vipsInLocalTable(routes, vips, loops.length ? loops : ['lo']).map(({ vip, route }) =>
      finding('vip-stray-local', {
        severity: 'error',
        title: `VIP ${vip} is still on ${route.dev ?? '?'} but keepalived is not running`,
        detail: `keepalived removes its VIPs when it stops cleanly; one killed (or a VIP added by hand) stays in the local table, and this node keeps answering ARP and traffic for ${vip} while the real master holds it too. Remove it: ip addr del ${vip}/PREFIX dev ${route.dev ?? 'IF'}.`,
        evidence: [{ probe: PROBE_IP_ROUTE, excerpt: `local ${route.dst} dev ${route.dev ?? '?'} table local` }],
        subject: vip,
      }),
    );
  },
};

export const localTableChecks: Check[] = [localTableTrap, strayVip];
