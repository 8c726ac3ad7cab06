// IPv6 VRRP around keepalived (catalogue 33): what the IPv4 checks do not see. A gateway whose IPv6
// VIPs clients route through while the kernel does not forward IPv6, and IPv6 addresses keepalived
// relies on that failed duplicate address detection (a VIP configured elsewhere too, the same
// link-local on both nodes' VMAC interfaces): the kernel never uses a "dadfailed" address.
import type { Check } from '../src/check.js';
import { SkipCheck, finding, type CheckContext } from '../src/context.js';
import type { Evidence, Finding } from '../src/types.js';
import { sysctlProbeId } from '../src/probes/kernel.js';
import { nodeRole } from '../src/state.js';
import { notifyScriptText } from '../src/probes/keepalived.js';
import { ownConfig } from './keepalived-config.js';
import { confEvidence, gatewayEvidence, location } from './field-common.js';

export const FORWARD6 = 'net.ipv6.conf.all.forwarding';
const isV6 = (a: string) => a.includes(':');
const linkLocal = (a: string) => /^fe[89ab][0-9a-f]:/i.test(a);

/** Does a notify_master script turn IPv6 forwarding on? */
function notifyEnablesForwarding6(ctx: CheckContext): string | undefined {
  const cfg = ownConfig(ctx);
  for (const s of [...cfg.vrrpInstances.map((i) => i.notify.master), ...cfg.vrrpSyncGroups.map((g) => g.notify.master)]) {
    if (!s) continue;
    const text = notifyScriptText(ctx.snapshot.probes, s.path);
    if (text && /ipv6[./]conf[./](all|default)[./]forwarding|net\/ipv6\/conf\/all\/forwarding/.test(text) && /(=\s*1|echo\s+1|-w)/.test(text)) return s.path;
  }
  return undefined;
}

const ipv6Forward: Check = {
  id: 'ipv6-forward',
  title: 'IPv6 forwarding on a gateway with IPv6 VIPs',
  codes: ['ipv6-forward-off'],
  run(ctx) {
    const cfg = ownConfig(ctx);
    const v6 = cfg.vrrpInstances.flatMap((vi) => vi.virtualIpaddresses.filter((v) => isV6(v.address) && !linkLocal(v.address)).map((v) => ({ vi, v })));
    if (!v6.length) return [];
    const value = ctx.require(sysctlProbeId(FORWARD6), FORWARD6).trim();
    const v4 = ctx.output(sysctlProbeId('net.ipv4.ip_forward'))?.trim();
    const gw = gatewayEvidence(ctx);
    // a host that routes IPv4 (or SNATs) is a gateway; a service VIP host forwards nothing
    if (v4 !== '1' && !gw.length) throw new SkipCheck('this host neither forwards IPv4 nor SNATs: its IPv6 VIPs serve local services, not routed traffic');
    if (value !== '0') return [];
    const role = nodeRole(ctx);
    if (role === 'backup' && notifyEnablesForwarding6(ctx)) return [];
    const evidence: Evidence[] = [
      { probe: sysctlProbeId(FORWARD6), excerpt: `${FORWARD6} = ${value}` },
      ...(v4 === '1' ? [{ probe: sysctlProbeId('net.ipv4.ip_forward'), excerpt: 'net.ipv4.ip_forward = 1' }] : gw.slice(0, 1)),
      ...v6.slice(0, 3).map(({ vi, v }) => confEvidence(vi.loc, `${vi.name}: virtual_ipaddress ${v.raw}`)),
    ];
    return [
      finding('ipv6-forward-off', {
        title: `IPv6 forwarding is off on this ${role === 'unknown' ? 'gateway' : role}, which routes IPv4 and holds${role === 'master' ? '' : ' (after a failover)'} IPv6 VIPs (${v6.map((x) => x.v.address).join(', ')})`,
        detail:
          `Clients that use ${v6[0]!.v.address} as their IPv6 gateway send their traffic here, and the kernel drops every routed IPv6 packet (${FORWARD6} = 0): IPv4 works, IPv6 does not. ` +
          `Turn it on (\`sysctl -w ${FORWARD6}=1\` and a file in /etc/sysctl.d), or in notify_master. Mind that with forwarding on, the kernel ignores router advertisements on interfaces with accept_ra = 1: ` +
          'if this host takes its own IPv6 default route or addresses from RAs (SLAAC), set accept_ra = 2 on that interface first, or it loses them. That is why the doctor does not change it for you.',
        evidence,
        subject: v6[0]!.vi.name,
        location: location(v6[0]!.vi.loc),
      }),
    ];
  },
};

interface AddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  dadfailed?: boolean;
  tentative?: boolean;
}
interface Link {
  ifname?: string;
  address?: string;
  link?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: AddrInfo[];
}

/** keepalived's VMAC: the VRRP MAC 00:00:5e:00:01:VRID (IPv4) / 00:00:5e:00:02:VRID (IPv6). */
const isVrrpMac = (mac: string | undefined) => !!mac && /^00:00:5e:00:0[12]:[0-9a-f]{2}$/i.test(mac);

const ipv6Dad: Check = {
  id: 'ipv6-dad',
  title: 'IPv6 addresses keepalived relies on and duplicate address detection',
  codes: ['ipv6-dad-failed'],
  run(ctx) {
    const cfg = ownConfig(ctx);
    const text = ctx.require('ip-addr', 'the addresses (ip -j addr)');
    let links: Link[];
    try {
      links = JSON.parse(text) as Link[];
    } catch {
      throw new SkipCheck('ip -j addr output is not JSON');
    }
    const ifaces = new Set<string>();
    const vips = new Map<string, string>();
    for (const vi of cfg.vrrpInstances) {
      const base = vi.interface ?? cfg.globalDefs.defaultInterface;
      if (base) ifaces.add(base);
      for (const v of vi.virtualIpaddresses) {
        if (v.dev) ifaces.add(v.dev);
        if (isV6(v.address)) vips.set(v.address.toLowerCase(), vi.name);
      }
    }
    const out: Finding[] = [];
    for (const l of Array.isArray(links) ? links : []) {
      const vmac = isVrrpMac(l.address) && l.linkinfo?.info_kind !== 'bridge';
      if (!l.ifname || !(ifaces.has(l.ifname) || vmac)) continue;
      for (const a of l.addr_info ?? []) {
        if (a.family !== 'inet6' || !a.local || a.dadfailed !== true) continue;
        const vip = vips.get(a.local.toLowerCase());
        const what = vip
          ? `${vip}'s VIP ${a.local}`
          : vmac
            ? `the link-local address ${a.local} of the VMAC interface ${l.ifname} (MAC ${l.address})`
            : `${a.local} on ${l.ifname}`;
        out.push(
          finding('ipv6-dad-failed', {
            title: `${what} failed duplicate address detection: the kernel does not use it`,
            detail: vip
              ? `Another node on ${l.ifname}'s link answers for ${a.local}: a static copy of the VIP elsewhere, or the peer holding it at the same time (a split brain). A "dadfailed" address is never used as a source and receives nothing, so clients of ${a.local} reach only the other holder. Remove the duplicate (on the node that should not hold it), then the VIP here (\`ip -6 addr del ${a.local}/${a.prefixlen ?? 128} dev ${l.ifname}\`) so keepalived adds it again.`
              : vmac
                ? `The VMAC interface's MAC is the same on both nodes (00:00:5e:00:02:VRID), so a link-local address the kernel derives from it (EUI-64) is the same on both nodes too: the second node's copy fails DAD and its IPv6 adverts have no usable source. Let keepalived set the link-local address (keepalived 2.x does, from the base interface), or turn off the kernel's own: \`sysctl -w net.ipv6.conf.${l.ifname}.addr_gen_mode=1\` before keepalived creates the interface.`
                : `Another host on ${l.ifname}'s link uses ${a.local}. If it is the source of IPv6 adverts (link-local, or unicast_src_ip), this node's adverts have no usable source. Give each node its own address.`,
            evidence: [{ probe: 'ip-addr', excerpt: `${l.ifname}: inet6 ${a.local}/${a.prefixlen ?? 128} dadfailed${a.tentative ? ' tentative' : ''}` }],
            subject: vip ?? l.ifname,
          }),
        );
      }
    }
    return out;
  },
};

export const fieldIpv6Checks: Check[] = [ipv6Forward, ipv6Dad];
