// Checks of the netfilter area: what the firewall and conntrack do to this node's VRRP adverts,
// and whether the SNAT rules fit the node's role.
import { ipRoutes } from '../src/routing/from-snapshot.js';
import type { Check } from '../src/check.js';
import { type CheckContext, SkipCheck, finding, probeBlind } from '../src/context.js';
import type { Evidence, Finding, FixPlan } from '../src/types.js';
import { keepalivedConfig, ourVips } from '../src/keepalived/from-snapshot.js';
import { localAddresses, nodeRole, roleBasis } from '../src/state.js';
import {
  chainsAt,
  dropsAt,
  firewall,
  isIptables,
  isNftNative,
  notrackAt,
  policyLine,
  rulesIn,
  walkHook,
  type Firewall,
  type HookWalk,
} from '../src/netfilter/firewall.js';
import { describeRef, walk, type Packet, type RuleRef } from '../src/netfilter/evaluate.js';
import { cidrOverlaps, cidrWithin, firstHost, inCidr, isSnatAction, type Rule, type Table } from '../src/netfilter/rules.js';
import { snatAddresses } from '../src/netfilter/iptables-save.js';
import { conntrackSummaryCount, isNated, parseConntrack, parseConntrackStats, type ConntrackEntry } from '../src/netfilter/conntrack.js';
import { detectManagers } from '../src/netfilter/managers.js';
import { advertIn, advertOut, AH_PROTO, isGroup, notifyScripts, vrrpPaths, type VrrpPath } from '../src/netfilter/vrrp-paths.js';
import {
  advertAcceptPlan,
  conntrackNatPlan,
  notrackMissingPlan,
  sharedFilePlan,
  snatOnBackupPlan,
  snatVrrpPlan,
  type PendingText,
  type SnatRuleRef,
} from '../src/netfilter/fixes.js';
import { scriptProbeId } from '../src/keepalived/files.js';
import {
  CONNTRACK_LOOKUP_PREFIX,
  PROBE_CONNTRACK_COUNT,
  PROBE_CONNTRACK_MAX,
  PROBE_CONNTRACK_STATS,
  PROBE_CONNTRACK_WALK,
  PROBE_KERNEL_LOG,
} from '../src/probes/ids.js';

// ------------------------------------------------------------------ shared

export function requireFirewall(ctx: CheckContext): Firewall {
  const fw = firewall(ctx);
  if (fw.read.length === 0) {
    // blind when a backend could not be read (failed, timed out, needs root); absent or not collected is not blindness
    const blind = fw.unavailable.some((u) => {
      const r = ctx.probe(u.probe);
      return probeBlind(r) || (r?.status === 'ok' && r.exitCode !== 0 && !/not found|No such file/i.test(r.stderr));
    });
    throw new SkipCheck(`no ruleset could be read (${fw.unavailable.map((u) => `${u.probe}: ${u.reason}`).join('; ')})`, blind);
  }
  return fw;
}

export function advertPaths(ctx: CheckContext): VrrpPath[] {
  return ctx.memo('netfilter:paths', () => {
    const cfg = keepalivedConfig(ctx).result?.config;
    if (!cfg) return [];
    return vrrpPaths(cfg, localAddresses(ctx));
  });
}

function requirePaths(ctx: CheckContext): VrrpPath[] {
  const paths = advertPaths(ctx);
  ctx.ourConfig();
  if (paths.length === 0) throw new SkipCheck('the keepalived config has no vrrp_instance');
  return paths;
}

const ev = (probe: string, excerpt: string): Evidence => ({ probe, excerpt });
const ruleEvidence = (ref: { table: Table; rule: Rule; via: Rule[] }): Evidence => ev(ref.table.probe, describeRef(ref));
const tableLabel = (t: Table) =>
  isIptables(t) ? `${t.name} table (${t.backend === 'legacy' ? 'iptables-legacy' : 'iptables-nft'})` : `nft table ${t.family} ${t.name}`;
const localSet = (ctx: CheckContext) => new Set(localAddresses(ctx).map((a) => a.address));

/** The adverts' protocol in words: "VRRP (protocol 112)" or "AH (protocol 51, auth_type AH)". */
function protoWords(p: VrrpPath): string {
  return p.proto === AH_PROTO ? 'AH (IP protocol 51: auth_type AH wraps the VRRP adverts)' : 'VRRP (IP protocol 112)';
}

/** The conntrack state an advert has: UNTRACKED when raw NOTRACKs it, else NEW (a node that has not
 *  sent an advert itself, the backup, never sees the peer's unicast adverts as ESTABLISHED, #2643). */
function stateIn(fw: Firewall, p: VrrpPath, peer: string): string {
  return notrackAt(fw, 'prerouting', advertIn(p, peer)) ? 'UNTRACKED' : 'NEW';
}

/** A finding's fix, when the area's fixes module could build one. */
const optionalFix = (plan: FixPlan | undefined): { fix?: FixPlan } => (plan ? { fix: plan } : {});

function maybeNote(maybes: RuleRef[]): string {
  if (!maybes.length) return '';
  return ` Rules with matches the doctor cannot evaluate stand before it and might change the outcome: ${maybes.map((m) => describeRef(m)).join('; ')}.`;
}

// ------------------------------------------------------------------ vrrp-conntrack-nat

function conntrackRecords(ctx: CheckContext) {
  return Object.values(ctx.snapshot.probes).filter((r) => r.id.startsWith(CONNTRACK_LOOKUP_PREFIX) || r.id === PROBE_CONNTRACK_WALK);
}

const vrrpConntrackCheck: Check = {
  id: 'netfilter-vrrp-conntrack',
  title: 'VRRP conntrack entries',
  codes: ['vrrp-conntrack-nat'],
  run(ctx) {
    const records = conntrackRecords(ctx);
    if (records.length === 0) {
      requirePaths(ctx);
      throw new SkipCheck('no conntrack lookup was made (no advert source address known)');
    }
    const ran = records.filter((r) => r.status === 'ok');
    if (ran.length === 0) throw new SkipCheck(`conntrack lookups did not run: ${records[0]!.reason ?? records[0]!.status}`);
    const nated: Array<{ probe: string; entry: ConntrackEntry }> = [];
    const seen = new Set<string>();
    for (const r of ran) {
      for (const entry of parseConntrack(r.stdout)) {
        if (entry.proto !== 112 || !isNated(entry)) continue;
        const key = `${entry.original.src}>${entry.original.dst}`;
        if (seen.has(key)) continue;
        seen.add(key);
        nated.push({ probe: r.id, entry });
      }
    }
    if (!nated.length) return [];
    const fw = firewall(ctx);
    return [
      finding('vrrp-conntrack-nat', {
        title: `${nated.length} VRRP conntrack ${nated.length === 1 ? 'entry rewrites' : 'entries rewrite'} the adverts' addresses`,
        detail:
          'NAT is decided on the first packet of a flow and the advert flow never expires (every advert refreshes it), so the ' +
          "adverts keep leaving with a rewritten source even after the SNAT rule is mended. The peer then drops them ('not a unicast peer') " +
          'or sees a stranger: split brain. NOTRACK VRRP in the raw table so adverts are never tracked, then delete the stale entries.',
        evidence: nated.map((n) => ev(n.probe, n.entry.line)),
        fix: conntrackNatPlan(
          fw,
          advertPaths(ctx),
          ctx.snapshot.probes,
          nated.map((n) => n.entry),
        ),
      }),
    ];
  },
};

// ------------------------------------------------------------------ snat-matches-vrrp

const snatVrrpCheck: Check = {
  id: 'netfilter-snat-vrrp',
  title: 'SNAT rules against VRRP adverts',
  codes: ['snat-matches-vrrp'],
  run(ctx) {
    const fw = requireFirewall(ctx);
    const paths = requirePaths(ctx).filter((p) => p.self);
    if (!paths.length) throw new SkipCheck('no advert source address known (no unicast_src_ip, interface has no address)');
    const hits = new Map<Rule, { ref: RuleRef; definite: boolean; packet: Packet; path: VrrpPath; walk: HookWalk }>();
    for (const p of paths) {
      for (const peer of p.peers) {
        const pkt = advertOut(p, peer, 'NEW');
        for (const w of walkHook(fw, 'postrouting', 'nat', pkt)) {
          if (w.hit && isSnatAction(w.hit.rule.action) && !hits.has(w.hit.rule))
            hits.set(w.hit.rule, { ref: w.hit, definite: true, packet: pkt, path: p, walk: w });
          for (const m of w.maybes) {
            if (isSnatAction(m.rule.action) && !hits.has(m.rule)) hits.set(m.rule, { ref: m, definite: false, packet: pkt, path: p, walk: w });
          }
        }
      }
    }
    const out: Finding[] = [];
    for (const { ref, definite, packet, path, walk: w } of hits.values()) {
      const untracked = notrackAt(fw, 'output', packet);
      const latent = untracked ? ' Adverts are NOTRACKed in raw OUTPUT, so the nat table never sees them now; the rule bites as soon as that rule goes.' : '';
      const unsure = definite
        ? ''
        : ` Whether it matches depends on ${(ref as { unknown?: Array<{ kind: string; text?: string }> }).unknown?.map((c) => c.text ?? c.kind).join(', ')}, which the doctor cannot evaluate.`;
      out.push(
        finding('snat-matches-vrrp', {
          title: `${tableLabel(ref.table)} ${ref.rule.chain} rule ${ref.rule.position} would ${ref.rule.action.kind === 'snat' ? 'SNAT' : 'MASQUERADE'} ${path.instance}'s adverts to ${packet.dst}`,
          detail:
            `An advert from ${packet.src} to ${packet.dst} via ${path.iface ?? '?'} reaches this rule: it has no \`! -p vrrp\` and no interface that excludes the adverts. ` +
            'Its source is rewritten (to the VIP / --to-source), the peer drops adverts from an unknown source, and both nodes become MASTER.' +
            unsure +
            latent +
            maybeNote(w.maybes.filter((m) => m.rule !== ref.rule)),
          evidence: [ruleEvidence(ref)],
          subject: path.instance,
          ...(!definite || untracked ? { severity: 'warning' as const } : {}),
          ...optionalFix(snatVrrpPlan(fw, ref, notifyNames(ctx, 'master'))),
        }),
      );
    }
    return out;
  },
};

function notifyNames(ctx: CheckContext, ...kinds: string[]): string {
  const cfg = keepalivedConfig(ctx).result?.config;
  if (!cfg) return '';
  return [
    ...new Set(
      notifyScripts(cfg)
        .filter((n) => kinds.includes(n.kind))
        .map((n) => `notify_${n.kind} ${n.script.path}`),
    ),
  ].join(', ');
}

// ------------------------------------------------------------------ vrrp-notrack-missing

const notrackCheck: Check = {
  id: 'netfilter-vrrp-notrack',
  title: 'NOTRACK for VRRP in the raw table',
  codes: ['vrrp-notrack-missing'],
  run(ctx) {
    const fw = requireFirewall(ctx);
    const paths = requirePaths(ctx);
    const missing: string[] = [];
    for (const p of paths) {
      for (const peer of p.peers) {
        if (!notrackAt(fw, 'output', advertOut(p, peer))) missing.push(`OUTPUT (${p.instance} adverts to ${peer})`);
        if (!notrackAt(fw, 'prerouting', advertIn(p, peer))) missing.push(`PREROUTING (${p.instance} adverts from ${peer})`);
      }
    }
    if (!missing.length) return [];
    const raw = chainsAt(fw, 'output', 'raw').concat(chainsAt(fw, 'prerouting', 'raw'));
    const evidence = raw.length
      ? raw.flatMap(({ table, chain }) => [ev(table.probe, policyLine(table, chain.name)), ...chain.rules.slice(0, 3).map((r) => ev(table.probe, r.text))])
      : fw.read.map((probe) => ev(probe, 'no raw table rules'));
    return [
      finding('vrrp-notrack-missing', {
        title: 'VRRP adverts are connection-tracked',
        detail: `No raw-table NOTRACK rule covers the adverts in ${[...new Set(missing)].join(', ')}. Tracked adverts can be NATed by a too-wide SNAT rule (and stay NATed after it is mended), and are dropped when the conntrack table is full.`,
        evidence: evidence.slice(0, 8),
        ...optionalFix(notrackMissingPlan(fw, advertPaths(ctx), ctx.snapshot.probes)),
      }),
    ];
  },
};

// ------------------------------------------------------------------ SNAT and the node's role

function snatRules(fw: Firewall): SnatRuleRef[] {
  const out: SnatRuleRef[] = [];
  for (const t of fw.tables) {
    if (isIptables(t) && t.name !== 'nat') continue;
    if (isNftNative(t) && t.name === 'keepalived') continue;
    for (const c of Object.values(t.chains)) for (const r of c.rules) if (isSnatAction(r.action)) out.push({ table: t, rule: r });
  }
  return out;
}

/** The clients' networks: the subnets of the VIPs written with a prefix (the clients' gateway). */
function clientNetworks(ctx: CheckContext): string[] {
  return [
    ...new Set(
      ourVips(ctx)
        .filter((v) => v.prefix < 32 && firstHost(`${v.address}/${v.prefix}`))
        .map((v) => networkOf(v.address, v.prefix)),
    ),
  ];
}

function networkOf(address: string, prefix: number): string {
  const host = firstHost(`${address}/${prefix}`)!;
  const parts = host.split('.').map(Number);
  if (prefix < 31) parts[3] = parts[3]! - 1;
  return `${parts.join('.')}/${prefix}`;
}

function toSources(r: Rule): string[] {
  return r.action.kind === 'snat' && r.action.toSource ? snatAddresses(r.action.toSource) : [];
}

/** A rule only the MASTER should carry: it SNATs to a VIP, or it NATs the clients' networks. */
function isMasterOnly(ctx: CheckContext, r: Rule): boolean {
  const vips = ourVips(ctx).map((v) => v.address);
  if (toSources(r).some((a) => vips.includes(a))) return true;
  const clients = clientNetworks(ctx);
  return r.conds.some((c) => c.kind === 'addr' && c.dir === 'src' && !c.neg && c.cidrs.some((cidr) => clients.some((n) => cidrOverlaps(cidr, n))));
}

function notifyAddsSnat(ctx: CheckContext): Evidence[] {
  const cfg = keepalivedConfig(ctx).result?.config;
  if (!cfg) return [];
  const out: Evidence[] = [];
  for (const n of notifyScripts(cfg)) {
    if (n.kind !== 'master' && n.kind !== 'notify') continue;
    const text = ctx.output(scriptProbeId(n.script.path));
    const lines = (text ?? '').split('\n').filter((l) => !/^\s*#/.test(l) && /(-j\s+(SNAT|MASQUERADE)\b|\b(snat|masquerade)\b)/.test(l));
    for (const line of lines.slice(0, 3)) out.push(ev(scriptProbeId(n.script.path), line.trim()));
  }
  return out;
}

/** The networks the master must SNAT: the -s of notify_master's SNAT lines, else the VIP networks
 *  that hold no SNAT --to-source address (those are the outside). */
function snatClients(ctx: CheckContext, intent: Evidence[]): string[] {
  const fromScript = intent.flatMap((e) => [...e.excerpt.matchAll(/(?:^|\s)(?:-s|--source)\s+(\d[\d./]*)/g)].map((m) => m[1]!)).filter((c) => firstHost(c));
  if (fromScript.length) return [...new Set(fromScript)];
  const outside = intent.flatMap((e) => [...e.excerpt.matchAll(/--to-source\s+([\d.]+)/g)].map((m) => m[1]!));
  return clientNetworks(ctx).filter((n) => !outside.some((a) => inCidr(a, n)));
}

function defaultRouteIface(ctx: CheckContext): string | undefined {
  return ipRoutes(ctx)?.find((r) => r.dst === 'default' && r.table === 'main')?.dev;
}

const snatRoleCheck: Check = {
  id: 'netfilter-snat-role',
  title: "SNAT rules for this node's role",
  codes: ['snat-on-backup', 'snat-missing-on-master', 'snat-source-not-local'],
  run(ctx) {
    const fw = requireFirewall(ctx);
    requirePaths(ctx);
    const r = nodeRole(ctx);
    const rules = snatRules(fw);
    const local = localSet(ctx);
    const vips = ourVips(ctx).map((v) => v.address);
    const out: Finding[] = [];
    const standby = r === 'backup' || r === 'fault';
    // a fix premised on the role only where the role is certain (never from the log alone, never contested)
    const basis = roleBasis(ctx);
    const unsure = basis.firm ? '' : ` The role is not certain (${basis.why}), so no fix is offered: check the state by hand first.`;

    if (standby) {
      const masterOnly = rules.filter((s) => isMasterOnly(ctx, s.rule));
      if (masterOnly.length) {
        const scripts = notifyNames(ctx, 'backup', 'fault', 'stop');
        out.push(
          finding('snat-on-backup', {
            title: `the ${r.toUpperCase()} node carries ${masterOnly.length} SNAT rule${masterOnly.length === 1 ? '' : 's'} meant for the master`,
            detail:
              `This node is ${r.toUpperCase()}, yet its nat table NATs the clients' traffic${masterOnly.some((s) => toSources(s.rule).some((a) => vips.includes(a))) ? ' to a VIP it does not hold' : ''}, so its own traffic breaks. ` +
              `notify_backup/notify_fault/notify_stop must remove exactly what notify_master added${scripts ? ` (${scripts})` : ' (the config names no such script)'}.${unsure}`,
            evidence: masterOnly.map((s) => ev(s.table.probe, s.rule.text)),
            ...optionalFix(basis.firm ? snatOnBackupPlan(fw, masterOnly, scripts) : undefined),
          }),
        );
      }
    }

    for (const s of rules) {
      const addrs = toSources(s.rule).filter((a) => !local.has(a));
      if (!addrs.length) continue;
      // on a standby node a VIP source is the snat-on-backup finding, not a second one
      if (standby && addrs.every((a) => vips.includes(a))) continue;
      out.push(
        finding('snat-source-not-local', {
          title: `SNAT --to-source ${addrs.join(', ')} is not an address of this node`,
          detail: `${tableLabel(s.table)} rule ${s.rule.position} of ${s.rule.chain} rewrites sources to ${addrs.join(', ')}, which no interface holds${vips.some((v) => addrs.includes(v)) ? ' (it is a VIP this node should hold as MASTER)' : ''}: replies to that address never come back here.`,
          evidence: [ev(s.table.probe, s.rule.text)],
        }),
      );
    }

    if (r === 'master') {
      const intent = notifyAddsSnat(ctx);
      const clients = snatClients(ctx, intent);
      if (intent.length && clients.length) {
        const outIface = defaultRouteIface(ctx);
        const missing = clients.filter((net) => {
          const pkt: Packet = { proto: 6, src: firstHost(net)!, dst: '203.0.113.1', ...(outIface ? { outIface } : {}), state: 'NEW' };
          return !walkHook(fw, 'postrouting', 'nat', pkt).some(
            (w) => (w.hit && isSnatAction(w.hit.rule.action)) || w.maybes.some((m) => isSnatAction(m.rule.action)),
          );
        });
        if (missing.length) {
          const post = chainsAt(fw, 'postrouting', 'nat');
          out.push(
            finding('snat-missing-on-master', {
              title: `the MASTER has no SNAT/MASQUERADE rule for ${missing.join(', ')}`,
              detail: `The notify_master script adds SNAT, but nothing in nat POSTROUTING would translate the clients' traffic (${missing.join(', ')}) now: the script failed, was disabled, or the rules were flushed (a firewalld/ufw reload does that).${unsure}`,
              evidence: [
                ...intent,
                ...(post.length
                  ? post.map(({ table, chain }) => ev(table.probe, `${policyLine(table, chain.name)}, ${chain.rules.length} rule(s), none SNATs ${missing[0]}`))
                  : [ev(fw.read[0]!, 'no nat POSTROUTING chain')]),
              ],
            }),
          );
        }
      }
    }
    return out;
  },
};

// ------------------------------------------------------------------ snat-exclusion-order

const PRIVATE_RANGES = ['100.64.0.0/10', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

const exclusionOrderCheck: Check = {
  id: 'netfilter-snat-exclusions',
  title: 'SNAT exclusions before SNAT',
  codes: ['snat-exclusion-order'],
  run(ctx) {
    const fw = requireFirewall(ctx);
    const snat = snatRules(fw);
    if (!snat.length) return [];
    const local = localAddresses(ctx)
      .filter((a) => a.family === 'inet')
      .map((a) => a.address);
    // one finding of each kind per RETURN rule (the same text in two tables is one rule to move)
    const ordered = new Set<string>();
    const tenSlash8 = new Set<string>();
    return destinationReturns(fw).flatMap((r) => {
      const out: Finding[] = [];
      const hit = ordered.has(r.ret.text) ? undefined : snatBeforeReturn(r, snat);
      if (hit) {
        ordered.add(r.ret.text);
        out.push(
          finding('snat-exclusion-order', {
            title: `traffic to ${hit.range} is SNATed before its exclusion (${r.chain} rule ${r.ret.position}) is reached`,
            detail: `The RETURN for ${hit.range} stands after the SNAT rule it should precede, so traffic from the clients to ${hit.range} (internal or carrier-grade NAT space) leaves with the public source address. Move the exclusion above the SNAT rule (the notify_master script should add exclusions first).`,
            evidence: [ruleEvidence(hit.ref), ev(r.table.probe, r.ret.text)],
          }),
        );
      }
      const inside = tenSlash8.has(r.ret.text) ? [] : insideTenSlash8(r, local, snat);
      if (inside.length) {
        tenSlash8.add(r.ret.text);
        out.push(
          finding('snat-exclusion-order', {
            title: 'a 10.0.0.0/8 exclusion on a gateway whose VPC is inside 10/8',
            detail: `This node's network (${[...new Set(inside)].slice(0, 3).join(', ')}) lies inside 10.0.0.0/8, so the blanket 10/8 RETURN also exempts destinations that must be NATed. Exclude only the ranges that are really internal (the VPC CIDR, 100.64.0.0/10), not 10/8.`,
            evidence: [ev(r.table.probe, r.ret.text)],
          }),
        );
      }
      return out;
    });
  },
};

type AddrCond = Extract<Rule['conds'][number], { kind: 'addr' }>;

/** A rule's first positive address match in one direction. */
function addrMatch(r: Rule, dir: 'src' | 'dst'): AddrCond | undefined {
  const c = r.conds.find((x) => x.kind === 'addr' && x.dir === dir && !x.neg);
  return c?.kind === 'addr' ? c : undefined;
}

/** A RETURN that exempts destinations from SNAT, in a nat table (iptables) or a native nft table. */
interface DestinationReturn {
  table: Table;
  chain: string;
  ret: Rule;
  dst: AddrCond;
}

function destinationReturns(fw: Firewall): DestinationReturn[] {
  return fw.tables
    .filter((t) => !isIptables(t) || t.name === 'nat')
    .flatMap((table) =>
      Object.values(table.chains).flatMap((c) =>
        c.rules.flatMap((ret) => {
          const dst = ret.action.kind === 'return' ? addrMatch(ret, 'dst') : undefined;
          return dst ? [{ table, chain: c.name, ret, dst }] : [];
        }),
      ),
    );
}

/** The first SNAT rule of the RETURN's table that catches a client's packet to one of the private
 *  ranges the RETURN exempts, before the RETURN is reached: a client of each SNAT rule sends to the
 *  excluded range, walked through the table's postrouting base chains. */
function snatBeforeReturn(r: DestinationReturn, snat: SnatRuleRef[]): { range: string; ref: RuleRef } | undefined {
  const t = r.table;
  const base = Object.values(t.chains).filter((c) => c.hook === 'postrouting' || (isIptables(t) && c.name === 'POSTROUTING'));
  for (const range of r.dst.cidrs.filter((c) => PRIVATE_RANGES.some((p) => cidrWithin(c, p)))) {
    for (const s of snat.filter((x) => x.table === t)) {
      const pkt = clientPacket(s.rule, range);
      const ref = pkt && base.map((b) => walk(t, b.name, pkt).hit).find((hit) => hit?.rule === s.rule);
      if (ref) return { range, ref };
    }
  }
  return undefined;
}

/** A new TCP packet from a client of the SNAT rule (its -s, else any address) to the range; undefined
 *  when the range is the rule's own client network. */
function clientPacket(rule: Rule, range: string): Packet | undefined {
  const src = addrMatch(rule, 'src');
  const client = src ? firstHost(src.cidrs[0]!) : '192.0.2.1';
  const dstHost = firstHost(range);
  if (!client || !dstHost || (src && inCidr(dstHost, src.cidrs[0]!))) return undefined;
  const oif = rule.conds.find((c) => c.kind === 'iface' && c.dir === 'out' && !c.neg);
  return { proto: 6, src: client, dst: dstHost, state: 'NEW', ...(oif?.kind === 'iface' ? { outIface: oif.name.replace(/[+*]$/, '0') } : {}) };
}

/** With the VPC inside 10/8, a 10/8 exclusion keeps the VPC's own routed traffic from being NATed
 *  when it should be (seed): this node's addresses and SNAT sources inside 10/8. */
function insideTenSlash8(r: DestinationReturn, local: string[], snat: SnatRuleRef[]): string[] {
  if (!r.dst.cidrs.includes('10.0.0.0/8')) return [];
  return [
    ...local.filter((a) => inCidr(a, '10.0.0.0/8')),
    ...snat
      .flatMap((s) => s.rule.conds.flatMap((c) => (c.kind === 'addr' && c.dir === 'src' && !c.neg ? c.cidrs : [])))
      .filter((c) => cidrWithin(c, '10.0.0.0/8')),
  ];
}

// ------------------------------------------------------------------ vrrp-input-blocked / vrrp-output-blocked

function blockingEvidence(w: HookWalk): Evidence[] {
  if (w.hit) return [ruleEvidence(w.hit)];
  const chain = w.table.chains[w.chain];
  const stateful = chain?.rules.filter((r) => r.action.kind === 'accept' && r.conds.some((c) => c.kind === 'state')) ?? [];
  return [ev(w.table.probe, policyLine(w.table, w.chain)), ...stateful.slice(0, 2).map((r) => ev(w.table.probe, r.text))];
}

const vrrpFilterCheck: Check = {
  id: 'netfilter-vrrp-filter',
  title: 'the host firewall and VRRP',
  codes: ['vrrp-input-blocked', 'vrrp-output-blocked'],
  run(ctx) {
    const fw = requireFirewall(ctx);
    const paths = requirePaths(ctx);
    const out = paths.flatMap((p) => p.peers.flatMap((peer) => [...inputBlocked(ctx, fw, p, peer), ...outputBlocked(fw, p, peer)]));
    return shareFileEdits(out);
  },
};

function inputBlocked(ctx: CheckContext, fw: Firewall, p: VrrpPath, peer: string): Finding[] {
  const state = stateIn(fw, p, peer);
  const pkt = advertIn(p, peer, state);
  const w = dropsAt(fw, ['prerouting', 'input'], pkt)[0];
  if (!w) return [];
  const how = !w.hit
    ? `${w.chain}'s policy is ${w.policy}${state === 'NEW' ? ' and nothing accepts a NEW advert (ESTABLISHED/RELATED only matches unicast adverts after this node sent one; multicast never)' : ''}`
    : `rule ${w.hit.rule.position} of ${w.hit.rule.chain} ${w.verdict === 'REJECT' ? 'rejects' : 'drops'} it`;
  const managers = ctx.memo('netfilter:managers', () => detectManagers(ctx.snapshot.probes, fw));
  const pending: PendingText = (path, original) => ctx.memo(`netfilter:pending-file:${path}`, () => ({ text: original }));
  return [
    finding('vrrp-input-blocked', {
      title: `${tableLabel(w.table)} would drop ${p.instance}'s ${p.proto === AH_PROTO ? 'AH (protocol 51) ' : ''}adverts from ${isGroup(peer) ? `the peer (to ${peer})` : peer}`,
      detail: `An advert (${protoWords(p)}${pkt.src ? ` from ${pkt.src}` : ''} to ${pkt.dst}${p.iface ? ` on ${p.iface}` : ''}, conntrack state ${state}) is dropped: ${how}.${p.proto === AH_PROTO ? ' A rule that accepts only `-p vrrp` (112) does not pass these adverts: with auth_type AH they travel as protocol 51.' : ''} This node never hears the master, becomes MASTER too, and both nodes hold the VIP.${maybeNote(w.maybes)}`,
      evidence: blockingEvidence(w),
      subject: p.instance,
      ...(w.maybes.length ? { severity: 'warning' as const } : {}),
      ...optionalFix(advertAcceptPlan({ fw, records: ctx.snapshot.probes, managers, pending, path: p, peer, walk: w })),
    }),
  ];
}

function outputBlocked(fw: Firewall, p: VrrpPath, peer: string): Finding[] {
  if (!p.self) return [];
  const outPkt = advertOut(p, peer, notrackAt(fw, 'output', advertOut(p, peer)) ? 'UNTRACKED' : 'NEW');
  const w = dropsAt(fw, ['output', 'postrouting'], outPkt)[0];
  if (!w) return [];
  return [
    finding('vrrp-output-blocked', {
      title: `${tableLabel(w.table)} would drop ${p.instance}'s own adverts to ${peer}`,
      detail: `An advert (${protoWords(p)}) from ${p.self} to ${peer} is dropped on the way out (${w.hit ? `rule ${w.hit.rule.position} of ${w.hit.rule.chain}` : `${w.chain}'s policy ${w.policy}`}); keepalived logs "send advert error 1 (Operation not permitted)" and the peer takes over.${maybeNote(w.maybes)}`,
      evidence: blockingEvidence(w),
      subject: p.instance,
      ...(w.maybes.length ? { severity: 'warning' as const } : {}),
    }),
  ];
}

/** Findings whose fixes edit the same file (nftables.conf, ufw before.rules) share one plan (see sharedFilePlan). */
function shareFileEdits(findings: Finding[]): Finding[] {
  const editing = findings.filter((f) => f.code === 'vrrp-input-blocked' && f.fix?.steps.some((s) => 'write' in s));
  if (editing.length < 2) return findings;
  const shared = sharedFilePlan(editing.map((f) => f.fix!));
  return findings.map((f) => (editing.includes(f) ? { ...f, fix: shared } : f));
}

// ------------------------------------------------------------------ firewall-backend-mixed

const backendCheck: Check = {
  id: 'netfilter-backends',
  title: 'iptables-legacy and nftables together',
  codes: ['firewall-backend-mixed'],
  run(ctx) {
    const fw = requireFirewall(ctx);
    const legacy = Object.values(fw.legacy?.tables ?? {});
    const nftSide = [...Object.values(fw.nfTables?.tables ?? {}), ...fw.tables.filter((t) => isNftNative(t) && t.name !== 'keepalived')];
    if (!fw.legacy || (!fw.nfTables && !fw.nft)) throw new SkipCheck(`only one backend could be read (${fw.read.join(', ')})`);
    if (rulesIn(legacy) === 0 || rulesIn(nftSide) === 0) return [];
    const sample = (tables: Table[]) =>
      tables
        .flatMap((t) =>
          Object.values(t.chains).flatMap((c) => [
            ...(c.policy && c.policy !== 'ACCEPT' ? [ev(t.probe, policyLine(t, c.name))] : []),
            ...c.rules.map((r) => ev(t.probe, r.text)),
          ]),
        )
        .slice(0, 3);
    return [
      finding('firewall-backend-mixed', {
        title: `rules exist in both iptables-legacy (${rulesIn(legacy)}) and nftables (${rulesIn(nftSide)})`,
        detail:
          'Both rulesets run in the kernel, but each tool shows only its own: `iptables -S` hides the legacy rules (or the nft ones), so a DROP or SNAT rule can act while no listing shows it. Keep one backend; move the legacy rules over (iptables-legacy-save | iptables-nft-restore) and flush the legacy tables.',
        evidence: [...sample(legacy), ...sample(nftSide)],
      }),
    ];
  },
};

// ------------------------------------------------------------------ conntrack-table-pressure

const pressureCheck: Check = {
  id: 'netfilter-conntrack-pressure',
  title: 'conntrack table pressure',
  codes: ['conntrack-table-pressure'],
  run(ctx) {
    const count = Number(ctx.output(PROBE_CONNTRACK_COUNT)?.trim());
    const max = Number(ctx.output(PROBE_CONNTRACK_MAX)?.trim());
    const haveRatio = Number.isFinite(count) && Number.isFinite(max) && max > 0 && ctx.output(PROBE_CONNTRACK_MAX) !== undefined;
    const log = ctx.probe(PROBE_KERNEL_LOG);
    const logText = log?.status === 'ok' && log.exitCode === 0 ? log.stdout : undefined;
    if (!haveRatio && logText === undefined) {
      const why = ctx.probe(PROBE_CONNTRACK_COUNT)?.reason ?? 'nf_conntrack not loaded';
      throw new SkipCheck(`no conntrack count (${why}) and no kernel log (${log?.reason ?? (log?.stderr.trim() || 'dmesg not collected')})`);
    }
    const full = (logText ?? '').split('\n').filter((l) => /nf_conntrack: table full/.test(l));
    const ratio = haveRatio ? count / max : 0;
    if (ratio < 0.8 && !full.length) return [];
    const stats = ctx.output(PROBE_CONNTRACK_STATS);
    const sum = stats ? parseConntrackStats(stats) : undefined;
    const evidence: Evidence[] = [];
    if (haveRatio) evidence.push(ev(PROBE_CONNTRACK_COUNT, `nf_conntrack_count = ${count}`), ev(PROBE_CONNTRACK_MAX, `nf_conntrack_max = ${max}`));
    evidence.push(...full.slice(-3).map((l) => ev(PROBE_KERNEL_LOG, l.trim().slice(0, 512))));
    if (sum) evidence.push(ev(PROBE_CONNTRACK_STATS, `drop=${sum.drop ?? 0} early_drop=${sum.early_drop ?? 0} insert_failed=${sum.insert_failed ?? 0}`));
    const critical = ratio >= 0.95 || full.length > 0;
    return [
      finding('conntrack-table-pressure', {
        severity: critical ? 'critical' : 'warning',
        title: full.length
          ? 'the conntrack table has been full (the kernel dropped packets)'
          : `the conntrack table is ${Math.round(ratio * 100)}% full (${count} of ${max})`,
        detail: `A full table drops new flows, tracked VRRP adverts included (#2676), so a busy gateway can lose its VRRP pairing under load. ${critical ? 'Critical: the table is full or nearly so.' : 'Warning at 80%.'} Raise nf_conntrack_max (and the hash size), shorten timeouts, and NOTRACK VRRP.`,
        evidence,
      }),
    ];
  },
};

export const netfilterChecks: Check[] = [
  vrrpConntrackCheck,
  snatVrrpCheck,
  notrackCheck,
  snatRoleCheck,
  exclusionOrderCheck,
  vrrpFilterCheck,
  backendCheck,
  pressureCheck,
];

export { conntrackSummaryCount };
