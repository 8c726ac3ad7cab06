// Checks of the netfilter area: what the firewall and conntrack do to this node's VRRP adverts,
// and whether the SNAT rules fit the node's role.
import { ipRoutes } from '../src/routing/from-snapshot.js';
import type { Check } from '../src/check.js';
import { type CheckContext, SkipCheck, finding, probeBlind } from '../src/context.js';
import type { Evidence, Finding, FixPlan, FixStep } from '../src/types.js';
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
import { snatAddresses, type IptRule } from '../src/netfilter/iptables-save.js';
import { conntrackSummaryCount, isNated, parseConntrack, parseConntrackStats, type ConntrackEntry } from '../src/netfilter/conntrack.js';
import { detectManagers, nftConfInsert, ufwBeforeInsert, NFT_CONF, UFW_BEFORE, UFW_BEFORE6, type FirewallManagers } from '../src/netfilter/managers.js';
import { AH_PROTO, notifyScripts, vrrpPaths, VRRP_MULTICAST, VRRP_MULTICAST6, type VrrpPath } from '../src/netfilter/vrrp-paths.js';
import { addRuleStep, binaryForNewRules, iptablesBinary, nftOnly, persistStatic, type StaticRule } from '../src/netfilter/fixes.js';
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

/** The packet of one advert leaving this node. */
function advertOut(p: VrrpPath, peer: string, state?: string): Packet {
  return {
    proto: p.proto,
    family: p.family,
    ...(p.self ? { src: p.self } : {}),
    dst: peer,
    ...(p.iface ? { outIface: p.iface } : {}),
    ...(state ? { state } : {}),
  };
}

/** The packet of one advert from the peer arriving here (multicast: the sender's address is not known). */
function advertIn(p: VrrpPath, peer: string, state?: string): Packet {
  const multicast = isGroup(peer);
  return {
    proto: p.proto,
    family: p.family,
    ...(multicast ? {} : { src: peer }),
    dst: multicast ? peer : (p.self ?? ''),
    ...(p.iface ? { inIface: p.iface } : {}),
    ...(state ? { state } : {}),
  };
}

const isGroup = (a: string) => a === VRRP_MULTICAST || a === VRRP_MULTICAST6;

/** The adverts' protocol in words: "VRRP (protocol 112)" or "AH (protocol 51, auth_type AH)". */
function protoWords(p: VrrpPath): string {
  return p.proto === AH_PROTO ? 'AH (IP protocol 51: auth_type AH wraps the VRRP adverts)' : 'VRRP (IP protocol 112)';
}

/** The conntrack state an advert has: UNTRACKED when raw NOTRACKs it, else NEW (a node that has not
 *  sent an advert itself, the backup, never sees the peer's unicast adverts as ESTABLISHED, #2643). */
function stateIn(fw: Firewall, p: VrrpPath, peer: string): string {
  return notrackAt(fw, 'prerouting', advertIn(p, peer)) ? 'UNTRACKED' : 'NEW';
}

function role(ctx: CheckContext) {
  return nodeRole(ctx);
}

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
          ctx,
          fw,
          nated.map((n) => n.entry),
        ),
      }),
    ];
  },
};

function conntrackNatPlan(ctx: CheckContext, fw: Firewall, entries: ConntrackEntry[]): FixPlan {
  const steps: FixStep[] = [];
  const statics: StaticRule[] = [];
  const paths = advertPaths(ctx);
  const nft = nftOnly(fw);
  const touchesIpt = new Set<string>();
  let filterChanged = false;
  const needPre = paths.some((p) => p.peers.some((peer) => !notrackAt(fw, 'prerouting', advertIn(p, peer))));
  const needOut = paths.some((p) => p.peers.some((peer) => !notrackAt(fw, 'output', advertOut(p, peer))));
  if (nft) {
    if (needPre || needOut) {
      steps.push({
        argv: ['nft', 'add', 'table', 'inet', 'hagw_doctor'],
        undo: [['nft', 'delete', 'table', 'inet', 'hagw_doctor']],
        why: "the doctor's own table for its NOTRACK rules",
      });
      if (needPre) {
        steps.push({
          argv: ['nft', 'add', 'chain', 'inet', 'hagw_doctor', 'raw_prerouting', '{ type filter hook prerouting priority raw ; policy accept ; }'],
          why: 'a raw-priority chain at prerouting',
        });
        steps.push({
          argv: ['nft', 'add', 'rule', 'inet', 'hagw_doctor', 'raw_prerouting', 'ip', 'protocol', 'vrrp', 'notrack'],
          why: 'incoming adverts are not tracked',
        });
      }
      if (needOut) {
        steps.push({
          argv: ['nft', 'add', 'chain', 'inet', 'hagw_doctor', 'raw_output', '{ type filter hook output priority raw ; policy accept ; }'],
          why: 'a raw-priority chain at output',
        });
        steps.push({
          argv: ['nft', 'add', 'rule', 'inet', 'hagw_doctor', 'raw_output', 'ip', 'protocol', 'vrrp', 'notrack'],
          why: 'outgoing adverts are not tracked, so NAT never applies to them',
        });
      }
    }
  } else {
    const bin = binaryForNewRules(fw);
    const notrack = ['-p', 'vrrp', '-j', 'CT', '--notrack'];
    if (needPre) statics.push({ table: 'raw', chain: 'PREROUTING', spec: notrack, position: 1 });
    if (needOut) statics.push({ table: 'raw', chain: 'OUTPUT', spec: notrack, position: 1 });
    // where the filter table matches on state, untracked adverts must be accepted explicitly
    for (const p of paths) {
      for (const peer of p.peers) {
        const untrackedIn = dropsAt(fw, ['input'], advertIn(p, peer, 'UNTRACKED')).filter((w) => isIptables(w.table));
        const establishedIn = dropsAt(fw, ['input'], advertIn(p, peer, 'ESTABLISHED'));
        if (untrackedIn.length && !establishedIn.length && !statics.some((s) => s.chain === 'INPUT')) {
          statics.push({ table: 'filter', chain: 'INPUT', spec: ['-p', 'vrrp', '-m', 'conntrack', '--ctstate', 'UNTRACKED', '-j', 'ACCEPT'], position: 1 });
        }
        const untrackedOut = dropsAt(fw, ['output'], advertOut(p, peer, 'UNTRACKED')).filter((w) => isIptables(w.table));
        const establishedOut = dropsAt(fw, ['output'], advertOut(p, peer, 'ESTABLISHED'));
        if (untrackedOut.length && !establishedOut.length && !statics.some((s) => s.chain === 'OUTPUT' && s.table === 'filter')) {
          statics.push({ table: 'filter', chain: 'OUTPUT', spec: ['-p', 'vrrp', '-m', 'conntrack', '--ctstate', 'UNTRACKED', '-j', 'ACCEPT'], position: 1 });
        }
      }
    }
    for (const s of statics) {
      touchesIpt.add(s.table);
      if (s.table === 'filter') filterChanged = true;
      steps.push(addRuleStep(bin, s, s.table === 'raw' ? `adverts are not tracked in ${s.chain}` : `accept untracked adverts in ${s.chain}`));
    }
  }
  for (const e of entries) {
    steps.push({
      argv: ['conntrack', '-D', '-p', '112', '-s', e.original.src, '-d', e.original.dst],
      undo: [],
      optional: true,
      why: 'delete the stale NATed entry (it may already be gone); conntrack entries cannot be restored',
    });
  }
  const persist = persistStatic(ctx.snapshot.probes, statics, nft);
  steps.push(...persist.steps);
  return {
    summary:
      'NOTRACK VRRP in the raw table (PREROUTING and OUTPUT), accept untracked adverts where the filter matches on state, and delete the stale NATed VRRP conntrack entries',
    risk: filterChanged ? 'disruptive' : 'safe',
    steps,
    touches: {
      ...(touchesIpt.size ? { iptables: [...touchesIpt] } : {}),
      ...(nft ? { nft: true } : {}),
      conntrack: true,
      ...(persist.files.length ? { files: persist.files } : {}),
    },
    persistence: persist.persistence,
    verifies: ['vrrp-conntrack-nat'],
  };
}

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
          ...(snatVrrpPlan(ctx, fw, ref) ? { fix: snatVrrpPlan(ctx, fw, ref)! } : {}),
        }),
      );
    }
    return out;
  },
};

function snatVrrpPlan(ctx: CheckContext, fw: Firewall, ref: RuleRef): FixPlan | undefined {
  if (!isIptables(ref.table)) return undefined;
  const rule = ref.rule as IptRule;
  const bin = iptablesBinary(fw, ref.table);
  const spec = [...rule.spec];
  // iptables-save order: built-in matches (-s -d -i -o -p), then -m modules, then -j
  const at = spec.findIndex((t) => t === '-m' || t === '-j' || t === '-g' || t === '--match' || t === '--jump');
  const i = at < 0 ? spec.length : at;
  const fixed = [...spec.slice(0, i), '!', '-p', 'vrrp', ...spec.slice(i)];
  const scripts = notifyNames(ctx, 'master');
  return {
    summary: `replace \`-A ${rule.chain} ${spec.join(' ')}\` (rule ${rule.position} when checked) in the nat table with the same rule plus \`! -p vrrp\``,
    risk: 'safe',
    steps: [
      {
        // shown as the intent; the engine finds the rule by content when it applies (never rule N)
        argv: [bin, '-w', '-t', 'nat', '-R', rule.chain, String(rule.position), ...fixed],
        undo: [[bin, '-w', '-t', 'nat', '-R', rule.chain, String(rule.position), ...spec]],
        rule: { bin, table: 'nat', chain: rule.chain, op: 'replace', spec, with: fixed },
        why: 'the adverts no longer match; everything else it matched still does',
      },
    ],
    touches: { iptables: ['nat'] },
    persistence: {
      persistent: false,
      how: `not persisted: a SNAT rule is master-only and belongs in the notify_master script${scripts ? ` (${scripts})` : ''}; add \`! -p vrrp\` to the rule there, never to a static rule store`,
    },
    verifies: ['snat-matches-vrrp'],
  };
}

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
    const plan = conntrackNatPlan(ctx, fw, []);
    return [
      finding('vrrp-notrack-missing', {
        title: 'VRRP adverts are connection-tracked',
        detail: `No raw-table NOTRACK rule covers the adverts in ${[...new Set(missing)].join(', ')}. Tracked adverts can be NATed by a too-wide SNAT rule (and stay NATed after it is mended), and are dropped when the conntrack table is full.`,
        evidence: evidence.slice(0, 8),
        ...(plan.steps.length
          ? {
              fix: {
                ...plan,
                summary: 'NOTRACK VRRP in the raw table (PREROUTING and OUTPUT), accepting untracked adverts where the filter matches on state',
                touches: { ...plan.touches, conntrack: false },
                verifies: ['vrrp-notrack-missing'],
              },
            }
          : {}),
      }),
    ];
  },
};

// ------------------------------------------------------------------ SNAT and the node's role

interface SnatRuleRef {
  table: Table;
  rule: Rule;
}

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
    const r = role(ctx);
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
            ...(basis.firm ? { fix: snatOnBackupPlan(ctx, fw, masterOnly, scripts) } : {}),
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

function snatOnBackupPlan(ctx: CheckContext, fw: Firewall, rules: SnatRuleRef[], scripts: string): FixPlan | undefined {
  const ipt = rules.filter((s) => isIptables(s.table));
  if (!ipt.length) return undefined;
  // delete by spec, last first, so the undo (-I at the old position, in reverse) rebuilds the order
  const steps: FixStep[] = [...ipt]
    .sort((a, b) => b.rule.position - a.rule.position)
    .map((s) => {
      const rule = s.rule as IptRule;
      const bin = iptablesBinary(fw, s.table);
      return {
        argv: [bin, '-w', '-t', 'nat', '-D', rule.chain, ...rule.spec],
        undo: [[bin, '-w', '-t', 'nat', '-I', rule.chain, String(rule.position), ...rule.spec]],
        // by content; the undo puts it back before the rule that followed it when it was deleted
        rule: { bin, table: 'nat', chain: rule.chain, op: 'delete', spec: [...rule.spec] },
        why: 'a master-only rule on a standby node',
      } satisfies FixStep;
    });
  return {
    summary: `remove the ${ipt.length} master-only SNAT rule${ipt.length === 1 ? '' : 's'} from this standby node`,
    risk: 'safe',
    steps,
    touches: { iptables: ['nat'] },
    persistence: {
      persistent: false,
      how: `not persisted by the doctor: the notify scripts decide. Make notify_backup/notify_fault/notify_stop remove exactly what notify_master adds${scripts ? ` (${scripts})` : ''}, and keep SNAT rules out of the static rule store`,
    },
    verifies: ['snat-on-backup'],
  };
}

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
    const out: Finding[] = [];
    const local = localAddresses(ctx)
      .filter((a) => a.family === 'inet')
      .map((a) => a.address);
    for (const t of fw.tables) {
      if (isIptables(t) && t.name !== 'nat') continue;
      for (const chain of Object.values(t.chains)) {
        chain.rules.forEach((ret) => {
          if (ret.action.kind !== 'return') return;
          const dst = ret.conds.find((c) => c.kind === 'addr' && c.dir === 'dst' && !c.neg);
          if (!dst || dst.kind !== 'addr') return;
          for (const range of dst.cidrs.filter((c) => PRIVATE_RANGES.some((p) => cidrWithin(c, p)))) {
            // a client of each SNAT rule sends to the excluded range: does SNAT catch it before the RETURN?
            for (const s of snat.filter((x) => x.table === t)) {
              const src = s.rule.conds.find((c) => c.kind === 'addr' && c.dir === 'src' && !c.neg);
              const client = src && src.kind === 'addr' ? firstHost(src.cidrs[0]!) : '192.0.2.1';
              const dstHost = firstHost(range);
              if (!client || !dstHost || (src && src.kind === 'addr' && inCidr(dstHost, src.cidrs[0]!))) continue;
              const oif = s.rule.conds.find((c) => c.kind === 'iface' && c.dir === 'out' && !c.neg);
              const pkt: Packet = {
                proto: 6,
                src: client,
                dst: dstHost,
                state: 'NEW',
                ...(oif && oif.kind === 'iface' ? { outIface: oif.name.replace(/[+*]$/, '0') } : {}),
              };
              const base = Object.values(t.chains).filter((c) => c.hook === 'postrouting' || (isIptables(t) && c.name === 'POSTROUTING'));
              for (const b of base) {
                const w = walk(t, b.name, pkt);
                if (w.hit?.rule === s.rule && !out.some((f) => f.evidence[1]?.excerpt === ret.text)) {
                  out.push(
                    finding('snat-exclusion-order', {
                      title: `traffic to ${range} is SNATed before its exclusion (${chain.name} rule ${ret.position}) is reached`,
                      detail: `The RETURN for ${range} stands after the SNAT rule it should precede, so traffic from the clients to ${range} (internal or carrier-grade NAT space) leaves with the public source address. Move the exclusion above the SNAT rule (the notify_master script should add exclusions first).`,
                      evidence: [ruleEvidence(w.hit), ev(t.probe, ret.text)],
                    }),
                  );
                }
              }
            }
          }
          // with the VPC inside 10/8, a 10/8 exclusion keeps the VPC's own routed traffic from being NATed when it should be (seed)
          if (dst.cidrs.includes('10.0.0.0/8')) {
            const inside = [
              ...local.filter((a) => inCidr(a, '10.0.0.0/8')),
              ...snat
                .flatMap((s) => s.rule.conds.flatMap((c) => (c.kind === 'addr' && c.dir === 'src' && !c.neg ? c.cidrs : [])))
                .filter((c) => cidrWithin(c, '10.0.0.0/8')),
            ];
            if (inside.length && !out.some((f) => f.evidence[0]?.excerpt === ret.text)) {
              out.push(
                finding('snat-exclusion-order', {
                  title: 'a 10.0.0.0/8 exclusion on a gateway whose VPC is inside 10/8',
                  detail: `This node's network (${[...new Set(inside)].slice(0, 3).join(', ')}) lies inside 10.0.0.0/8, so the blanket 10/8 RETURN also exempts destinations that must be NATed. Exclude only the ranges that are really internal (the VPC CIDR, 100.64.0.0/10), not 10/8.`,
                  evidence: [ev(t.probe, ret.text)],
                }),
              );
            }
          }
        });
      }
    }
    return out;
  },
};

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
    const out: Finding[] = [];
    for (const p of paths) {
      for (const peer of p.peers) {
        const state = stateIn(fw, p, peer);
        const pkt = advertIn(p, peer, state);
        const drops = dropsAt(fw, ['prerouting', 'input'], pkt);
        if (drops.length) {
          const w = drops[0]!;
          const policy = !w.hit;
          const how = policy
            ? `${w.chain}'s policy is ${w.policy}${state === 'NEW' ? ' and nothing accepts a NEW advert (ESTABLISHED/RELATED only matches unicast adverts after this node sent one; multicast never)' : ''}`
            : `rule ${w.hit!.rule.position} of ${w.hit!.rule.chain} ${w.verdict === 'REJECT' ? 'rejects' : 'drops'} it`;
          out.push(
            finding('vrrp-input-blocked', {
              title: `${tableLabel(w.table)} would drop ${p.instance}'s ${p.proto === AH_PROTO ? 'AH (protocol 51) ' : ''}adverts from ${isGroup(peer) ? `the peer (to ${peer})` : peer}`,
              detail: `An advert (${protoWords(p)}${pkt.src ? ` from ${pkt.src}` : ''} to ${pkt.dst}${p.iface ? ` on ${p.iface}` : ''}, conntrack state ${state}) is dropped: ${how}.${p.proto === AH_PROTO ? ' A rule that accepts only `-p vrrp` (112) does not pass these adverts: with auth_type AH they travel as protocol 51.' : ''} This node never hears the master, becomes MASTER too, and both nodes hold the VIP.${maybeNote(w.maybes)}`,
              evidence: blockingEvidence(w),
              subject: p.instance,
              ...(w.maybes.length ? { severity: 'warning' as const } : {}),
              ...((plan) => (plan ? { fix: plan } : {}))(inputPlan(ctx, fw, p, peer, w)),
            }),
          );
        }
        if (!p.self) continue;
        const outPkt = advertOut(p, peer, notrackAt(fw, 'output', advertOut(p, peer)) ? 'UNTRACKED' : 'NEW');
        const outDrops = dropsAt(fw, ['output', 'postrouting'], outPkt);
        if (outDrops.length) {
          const w = outDrops[0]!;
          out.push(
            finding('vrrp-output-blocked', {
              title: `${tableLabel(w.table)} would drop ${p.instance}'s own adverts to ${peer}`,
              detail: `An advert (${protoWords(p)}) from ${p.self} to ${peer} is dropped on the way out (${w.hit ? `rule ${w.hit.rule.position} of ${w.hit.rule.chain}` : `${w.chain}'s policy ${w.policy}`}); keepalived logs "send advert error 1 (Operation not permitted)" and the peer takes over.${maybeNote(w.maybes)}`,
              evidence: blockingEvidence(w),
              subject: p.instance,
              ...(w.maybes.length ? { severity: 'warning' as const } : {}),
            }),
          );
        }
      }
    }
    return shareFileEdits(out);
  },
};

function inputPlan(ctx: CheckContext, fw: Firewall, p: VrrpPath, peer: string, w: HookWalk): FixPlan | undefined {
  const multicast = isGroup(peer);
  const match = multicast ? ['-d', peer] : ['-s', peer];
  const protoName = p.proto === AH_PROTO ? 'ah' : 'vrrp';
  const v6 = p.family === 'ip6';
  const managers = detectManagers(ctx.snapshot.probes, fw);
  // firewalld owns the ruleset: a rule added beside it is flushed by its next reload
  if (managers.firewalld) return firewalldPlan(p, peer, protoName, managers.firewalld.evidence);
  if (managers.ufw && isIptables(w.table)) {
    const plan = ufwPlan(ctx, p, peer, protoName, managers.ufw);
    if (plan) return plan;
  }
  if (isNftNative(w.table)) {
    const chain = w.hit?.via[0]?.chain ?? w.chain;
    const l3 = v6 ? 'ip6' : 'ip';
    const ruleWords = [l3, v6 ? 'nexthdr' : 'protocol', protoName, l3, multicast ? 'daddr' : 'saddr', peer, 'accept'];
    // /etc/nftables.conf is what nftables.service (re)loads: the same rule goes there, at the same place
    const conf = managers.nftablesConf;
    // several findings may each add a rule to the file: each plan builds on the previous one's text, so
    // the merged change (fix CODE applies them all) ends with every rule in the file
    const pending = conf ? pendingFile(ctx, NFT_CONF, conf.text) : undefined;
    const next = pending
      ? nftConfInsert(pending.text, w.table.family, w.table.name, chain, `${ruleWords.join(' ')}    # hagw-doctor: VRRP adverts from the peer`)
      : undefined;
    if (pending && next) pending.text = next;
    const persistence: FixPlan['persistence'] = next
      ? {
          persistent: true,
          how: `added to ${NFT_CONF} at the top of table ${w.table.family} ${w.table.name} chain ${chain}${conf!.enabled === false ? ' (nftables.service is disabled: nothing loads the file at boot until it is enabled)' : ' (loaded at boot by nftables.service)'}`,
        }
      : conf
        ? {
            persistent: false,
            how: `not persisted: ${NFT_CONF} does not declare table ${w.table.family} ${w.table.name} with a chain ${chain} block the doctor can place the rule in (another file, an include, or \`add rule\` syntax); add \`${ruleWords.join(' ')}\` at the top of that chain where the ruleset is loaded from`,
          }
        : persistStatic(ctx.snapshot.probes, [], true).persistence;
    return {
      summary: `insert an accept for ${protoName.toUpperCase()} ${multicast ? `to ${peer}` : `from ${peer}`} at the top of nft chain ${w.table.family} ${w.table.name} ${chain}${next ? `, now and in ${NFT_CONF}` : ''}`,
      risk: 'disruptive',
      steps: [
        { argv: ['nft', 'insert', 'rule', w.table.family, w.table.name, chain, ...ruleWords], why: 'adverts are accepted before anything drops them' },
        ...(next
          ? [{ write: { path: NFT_CONF, content: next, mode: 0o755 }, why: 'nftables.service loads this file at boot and on reload: the accept survives both' }]
          : []),
      ],
      touches: { nft: true, ...(next ? { files: [NFT_CONF] } : {}) },
      persistence,
      verifies: ['vrrp-input-blocked'],
    };
  }
  if (!isIptables(w.table) || (w.table.name !== 'filter' && w.table.name !== 'mangle')) return undefined;
  // above the dropping rule: at its position in the base chain (the jump that led to it, if nested)
  const top = w.hit ? (w.hit.via[0] ?? w.hit.rule) : undefined;
  const chain = w.chain;
  const s: StaticRule = {
    table: w.table.name,
    chain,
    spec: ['-p', protoName, ...match, '-j', 'ACCEPT'],
    position: top ? top.position : 1,
    // placed by content when applied: just above the rule that drops (or jumps to what drops)
    ...(top && top.position > 1 && (top as IptRule).spec ? { before: [...(top as IptRule).spec] } : {}),
  };
  const persist = persistStatic(
    ctx.snapshot.probes,
    [{ ...s, position: undefined }].map(({ position: _p, ...r }) => r),
    false,
    v6 ? 'ip6' : 'ip',
  );
  const bin = iptablesBinary(fw, w.table);
  return {
    summary: `insert \`-A ${chain} -p ${protoName} ${match.join(' ')} -j ACCEPT\` ${s.before ? `just above \`-A ${chain} ${s.before.join(' ')}\`` : 'at the top'} of ${v6 ? 'ip6tables ' : ''}${w.table.name} ${chain}, above what drops the adverts`,
    risk: 'disruptive',
    steps: [
      addRuleStep(v6 ? bin.replace(/^iptables/, 'ip6tables') : bin, s, 'adverts from the peer are accepted before the rule that drops them'),
      ...persist.steps,
    ],
    touches: { iptables: [w.table.name], ...(persist.files.length ? { files: persist.files } : {}) },
    persistence: persist.persistence,
    verifies: ['vrrp-input-blocked'],
  };
}

/**
 * Findings whose fixes edit the same file (nftables.conf, ufw before.rules) share one plan: every
 * step once, in order, and one write per file holding every finding's edit (the engine refuses a
 * second write to a file the first one changed). `fix CODE` merges identical plans into one change.
 */
function shareFileEdits(findings: Finding[]): Finding[] {
  const editing = findings.filter((f) => f.code === 'vrrp-input-blocked' && f.fix?.steps.some((s) => 'write' in s));
  if (editing.length < 2) return findings;
  const steps: FixStep[] = [];
  const seen = new Set<string>();
  const writeAt = new Map<string, number>();
  for (const f of editing) {
    for (const st of f.fix!.steps) {
      if ('write' in st) {
        const at = writeAt.get(st.write.path);
        // the later plans built on the earlier ones' text: the last write holds every edit
        if (at !== undefined) steps[at] = st;
        else {
          writeAt.set(st.write.path, steps.length);
          steps.push(st);
        }
        continue;
      }
      const key = JSON.stringify(st);
      if (seen.has(key)) continue;
      seen.add(key);
      steps.push(st);
    }
  }
  const plans = editing.map((f) => f.fix!);
  const union = (xs: Array<string[] | undefined>) => [...new Set(xs.flatMap((x) => x ?? []))];
  const shared: FixPlan = {
    summary: [...new Set(plans.map((p) => p.summary))].join('; '),
    risk: plans.some((p) => p.risk === 'disruptive') ? 'disruptive' : 'safe',
    steps,
    touches: {
      ...(union(plans.map((p) => p.touches.iptables)).length ? { iptables: union(plans.map((p) => p.touches.iptables)) } : {}),
      ...(plans.some((p) => p.touches.nft) ? { nft: true } : {}),
      ...(union(plans.map((p) => p.touches.files)).length ? { files: union(plans.map((p) => p.touches.files)) } : {}),
    },
    persistence: { persistent: plans.every((p) => p.persistence.persistent), how: [...new Set(plans.map((p) => p.persistence.how))].join('; ') },
    verifies: ['vrrp-input-blocked'],
  };
  return findings.map((f) => (editing.includes(f) ? { ...f, fix: shared } : f));
}

/** firewalld: a rich rule, at runtime and --permanent (so neither a reload nor a reboot loses it). */
function firewalldPlan(p: VrrpPath, peer: string, protoName: string, evidence: string): FixPlan {
  const fam = p.family === 'ip6' ? 'ipv6' : 'ipv4';
  const where = isGroup(peer) ? `destination address="${peer}"` : `source address="${peer}"`;
  const rich = `rule family="${fam}" ${where} protocol value="${protoName}" accept`;
  return {
    summary: `accept ${protoName.toUpperCase()} ${isGroup(peer) ? `to ${peer}` : `from ${peer}`} through firewalld (${evidence}): a rich rule, now and permanently`,
    risk: 'disruptive',
    steps: [
      {
        argv: ['firewall-cmd', `--add-rich-rule=${rich}`],
        undo: [['firewall-cmd', `--remove-rich-rule=${rich}`]],
        why: 'the running firewall accepts the adverts',
      },
      {
        argv: ['firewall-cmd', '--permanent', `--add-rich-rule=${rich}`],
        undo: [['firewall-cmd', '--permanent', `--remove-rich-rule=${rich}`]],
        why: 'firewalld keeps it across reloads and reboots',
      },
    ],
    touches: {},
    persistence: { persistent: true, how: 'firewalld --permanent configuration (the default zone)' },
    verifies: ['vrrp-input-blocked'],
  };
}

/** ufw: the accept goes into before.rules (ufw rebuilds its chains from it), applied with `ufw reload`. */
/** The text a file will have once the plans built so far in this analysis are applied (see inputPlan). */
function pendingFile(ctx: CheckContext, path: string, original: string): { text: string } {
  return ctx.memo(`netfilter:pending-file:${path}`, () => ({ text: original }));
}

function ufwPlan(ctx: CheckContext, p: VrrpPath, peer: string, protoName: string, ufw: NonNullable<FirewallManagers['ufw']>): FixPlan | undefined {
  const v6 = p.family === 'ip6';
  const file = v6 ? UFW_BEFORE6 : UFW_BEFORE;
  const text = v6 ? ufw.beforeRules6 : ufw.beforeRules;
  const match = isGroup(peer) ? `-d ${peer}` : `-s ${peer}`;
  const line = `-A ufw${v6 ? '6' : ''}-before-input -p ${protoName} ${match} -j ACCEPT`;
  if (text === undefined) return undefined;
  const pending = pendingFile(ctx, file, text);
  const next = ufwBeforeInsert(pending.text, line);
  if (next === undefined) return undefined;
  pending.text = next;
  return {
    summary: `accept ${protoName.toUpperCase()} ${isGroup(peer) ? `to ${peer}` : `from ${peer}`} through ufw: \`${line}\` in ${file}, then \`ufw reload\``,
    risk: 'disruptive',
    steps: [
      // first, so an undo (last-first, after the file is restored) ends with ufw reloading the restored file
      { argv: ['ufw', 'status'], undo: [['ufw', 'reload']], why: 'ufw answers; on undo it reloads the restored rules' },
      { write: { path: file, content: next, mode: 0o640 }, why: 'ufw rebuilds its chains from this file on every reload and boot' },
      { argv: ['ufw', 'reload'], undo: [], why: 'ufw applies the new rule' },
    ],
    touches: { files: [file], iptables: ['filter'] },
    persistence: { persistent: true, how: `${file} (ufw loads it at boot and on every reload)` },
    verifies: ['vrrp-input-blocked'],
  };
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
