// What kind of keepalived host this is, from the config, the notify scripts and the rules:
//   gateway  - clients route through it: SNAT/MASQUERADE for the clients' networks (in a notify
//              script or in the nat table), notify_master turning forwarding on, or an LVS-NAT
//              virtual_server (the real servers route their replies through the director);
//   director - an LVS-DR/TUN director (forwards to real servers without routing for clients);
//   vip      - a floating service VIP: none of the above.
// Router-only checks (forwarding, SNAT on the master, rp_filter and offloads on forwarding
// interfaces, IRQ spread) apply only where the host routes for others; elsewhere they are skipped
// with the kind and its evidence as the reason. `check --kind` overrides the inference.
import type { CheckContext } from './context.js';
import type { HostKind } from './types.js';
import { probeBlind } from './context.js';
import { keepalivedConfig } from './keepalived/from-snapshot.js';
import { notifyScripts } from './netfilter/vrrp-paths.js';
import { scriptProbeId } from './keepalived/files.js';
import { firewall, isIptables, isNftNative } from './netfilter/firewall.js';
import { cidrOverlaps, firstHost, isSnatAction } from './netfilter/rules.js';
import { snatAddresses } from './netfilter/iptables-save.js';

export interface KindVerdict {
  kind: HostKind;
  evidence: string[];
  /** given with --kind */
  given?: boolean;
  /** sources that could not be read, so a "vip" may be a gateway the doctor could not see */
  unread: string[];
}

export const HOST_KINDS: readonly HostKind[] = ['gateway', 'director', 'vip'];
const MEMO = 'host-kind';

/** Set the kind before any check runs (--kind). */
export function overrideKind(ctx: CheckContext, kind: HostKind): void {
  ctx.memo(MEMO, (): KindVerdict | undefined => ({ kind, evidence: [`${kind}: given with --kind`], given: true, unread: [] }));
}

const SNAT_LINE = /(-j\s+(SNAT|MASQUERADE)\b|\b(snat|masquerade)\b)/;
const FORWARD_ON = /(ip_forward|net\/ipv4\/ip_forward|net\.ipv4\.conf\.all\.forwarding)\S*\s*=\s*1|echo\s+1\s*>\s*\/proc\/sys\/net\/ipv4\/ip_forward/;

function networkOf(address: string, prefix: number): string | undefined {
  if (address.includes(':') || prefix >= 32) return undefined;
  const n =
    address
      .split('.')
      .map(Number)
      .reduce((a, b) => (a << 8) + b, 0) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (n & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.')}/${prefix}`;
}

/** The kind, inferred once per analysis (undefined where there is no keepalived config to judge). */
export function hostKind(ctx: CheckContext): KindVerdict | undefined {
  return ctx.memo(MEMO, (): KindVerdict | undefined => {
    const cfg = keepalivedConfig(ctx).result?.config;
    if (!cfg) return undefined;
    const gateway: string[] = [];
    const director: string[] = [];
    const unread: string[] = [];

    for (const n of notifyScripts(cfg)) {
      if (n.kind !== 'master' && n.kind !== 'notify') continue;
      const id = scriptProbeId(n.script.path);
      const r = ctx.probe(id);
      if (r?.status !== 'ok') {
        if (probeBlind(r)) unread.push(`notify_${n.kind} ${n.script.path} (${r?.reason ?? r?.status})`);
        continue;
      }
      const lines = r.stdout.split('\n').filter((l) => !/^\s*#/.test(l));
      const snat = lines.find((l) => SNAT_LINE.test(l) && !/\s-D\s|\bdelete\b/.test(l));
      if (snat) {
        const src = /(?:^|[\s"'])(?:-s|--source|saddr)\s+(\d[\d./]*)/.exec(snat)?.[1];
        gateway.push(`notify_${n.kind} ${n.script.path} adds ${/MASQUERADE|masquerade/.test(snat) ? 'MASQUERADE' : 'SNAT'}${src ? ` for ${src}` : ''}`);
      } else if (lines.some((l) => FORWARD_ON.test(l))) gateway.push(`notify_${n.kind} ${n.script.path} turns IPv4 forwarding on`);
    }

    for (const vs of cfg.virtualServers) {
      const m = (vs.method ?? 'NAT').toUpperCase();
      const name = `virtual_server ${vs.address ?? vs.group ?? ''}${vs.port !== undefined ? ` ${vs.port}` : ''}`.trim();
      if (m === 'FNAT') gateway.push(`${name} is LVS-FNAT (lb_kind FNAT): it source-NATs through its local addresses`);
      else if (m === 'NAT') gateway.push(`${name} is LVS-NAT (lb_kind NAT): the real servers route through this node`);
      else if (m === 'DR' || m === 'TUN') director.push(`${name} is LVS-${m} (lb_kind ${m})`);
    }

    // nat rules that SNAT the VIPs' networks or to a VIP (other MASQUERADE, e.g. a container bridge, says nothing)
    const vips = cfg.vrrpInstances.flatMap((i) => i.virtualIpaddresses);
    const vipNets = vips.map((v) => networkOf(v.address, v.prefix)).filter((n): n is string => !!n && !!firstHost(n));
    const fw = firewall(ctx);
    if (!fw.read.length) unread.push(...fw.unavailable.filter((u) => probeBlind(ctx.probe(u.probe))).map((u) => `${u.probe} (${u.reason})`));
    for (const t of fw.tables) {
      if (isIptables(t) && t.name !== 'nat') continue;
      if (isNftNative(t) && t.name === 'keepalived') continue;
      for (const c of Object.values(t.chains)) {
        for (const r of c.rules) {
          if (!isSnatAction(r.action)) continue;
          const toVip = r.action.kind === 'snat' && r.action.toSource ? snatAddresses(r.action.toSource).some((a) => vips.some((v) => v.address === a)) : false;
          const src = r.conds.flatMap((x) => (x.kind === 'addr' && x.dir === 'src' && !x.neg ? x.cidrs : []));
          const forClients = src.some((s) => vipNets.some((n) => cidrOverlaps(s, n)));
          if ((toVip || forClients) && gateway.length < 6) gateway.push(`${t.probe}: ${r.text.trim()}`);
        }
      }
    }

    if (gateway.length) return { kind: 'gateway', evidence: gateway.map((e) => `gateway: ${e}`), unread };
    if (director.length) return { kind: 'director', evidence: director.map((e) => `director: ${e}`), unread };
    const vipEvidence = `vip: no SNAT/MASQUERADE for the VIP networks in the notify scripts or the nat table, no LVS virtual_server${
      vips.length
        ? ` (VIPs ${vips
            .map((v) => v.address)
            .slice(0, 4)
            .join(', ')})`
        : ''
    }`;
    return { kind: 'vip', evidence: [vipEvidence, ...unread.map((u) => `could not read ${u}`)], unread };
  });
}

/** Which kinds each router-only check applies to. */
export const ROUTER_ONLY: Readonly<Record<string, readonly HostKind[]>> = {
  'ip-forward': ['gateway'],
  'netfilter-snat-role': ['gateway'],
  'rp-filter': ['gateway', 'director'],
  'nic-offload': ['gateway', 'director'],
  'nic-irq': ['gateway', 'director'],
};

/** Why a router-only check does not apply here (undefined: it applies, or the kind is unknown).
 *  blind: the kind is "vip" only because a source could not be read. */
export function notApplicable(ctx: CheckContext, checkId: string): { reason: string; blind: boolean } | undefined {
  const kinds = ROUTER_ONLY[checkId];
  if (!kinds) return undefined;
  const k = hostKind(ctx);
  if (!k || kinds.includes(k.kind)) return undefined;
  const what = k.kind === 'director' ? 'routes for no client network' : 'does not route for others';
  const blind = !k.given && k.unread.length > 0;
  return {
    reason: `not a gateway (kind ${k.kind}: ${k.evidence[0]!.replace(/^\w+: /, '')}): this host ${what}${blind ? `; but ${k.unread.join(', ')} could not be read` : ''}`,
    blind,
  };
}
