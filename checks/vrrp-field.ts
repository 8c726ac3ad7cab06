// Checks of the failures operators meet in the field (issue 14, part A): vrrp_strict's own drop rule
// on the VIP, instances in FAULT (and why), a VRRPv2/v3 mismatch between the peers, and flapping.
//
// vrrp-strict-blocks-vip: strict mode (vrrp_strict / strict_mode) or no_accept without `accept` makes
// keepalived install a drop rule for its VIPs (nft `table ip keepalived`, or an iptables chain with
// vrrp_iptables) whenever the instance is MASTER: the VIP answers nothing addressed to it. The fix
// adds `accept` to the instance in the config file that holds it and reloads keepalived (SIGHUP to its
// parent process: what `systemctl reload keepalived` does), validating the file with `keepalived -t`.
//
// vrrp-instance-fault: an instance in FAULT, with the reason read from the interfaces (missing, admin
// down, no carrier, no address), the tracked interfaces and scripts, the sync group (a member in FAULT
// drags the others), and keepalived's own log. Also the sync-group mistake of a forwarding gateway
// whose instances are not grouped and are MASTER and BACKUP at once (LAN and WAN on different nodes).
//
// vrrp-version-mismatch: "wrong version. Received 3 and expect 2" / "Invalid VRRPv3 checksum" in the
// log, VRRPv2 and v3 adverts for one VRID on the wire, or the peer's config (--peer-config /
// --peer-snapshot) speaking another version. "invalid ip number count" is a version mismatch too when
// the versions differ (Red Hat documents it so), otherwise the vrid-collision check reports it.
//
// vrrp-flapping: state changes per hour from the log's timeline, with their causes.
import type { Check } from '../src/check.js';
import type { CheckContext } from '../src/context.js';
import { SkipCheck, finding } from '../src/context.js';
import type { Evidence, Finding, Severity } from '../src/types.js';
import type { KeepalivedConfig, VrrpInstance } from '../src/keepalived/model.js';
import { keepalivedConfig, peerKeepalivedConfig } from '../src/keepalived/from-snapshot.js';
import { configFileProbeId } from '../src/keepalived/files.js';
import { daemonStatus, instanceStates, localAddresses } from '../src/state.js';
import { effectiveVersion, instanceFamily, strictFor } from '../src/netfilter/vrrp-paths.js';
import { firewall, isIptables } from '../src/netfilter/firewall.js';
import { describeRef, walk, verdictOf } from '../src/netfilter/evaluate.js';
import { hasWire, logView, wireView, type LogView } from '../src/vrrp/view.js';
import type { ProblemEvent, TriggerEvent } from '../src/vrrp/log.js';
import type { Transition } from '../src/vrrp/timeline.js';
import { judgeLogProblem } from './vrrp.js';
import { PROBE_CONFIGTEST, PROBE_IP_ADDR, PROBE_IP_FORWARD, PROBE_IP_LINK, PROBE_PEER_CONFIG } from '../src/probes/ids.js';
import { staleDropTablePlan, strictAcceptPlan, type KeepalivedFixInput } from '../src/keepalived/fixes.js';

const ev = (probe: string, excerpt: string): Evidence => ({ probe, excerpt });

const config = (ctx: CheckContext): KeepalivedConfig => ctx.ourConfig();

function stateOf(ctx: CheckContext, name: string) {
  return instanceStates(ctx).find((s) => s.name === name);
}

/** The text of a config file as the snapshot holds it. */
function fileText(ctx: CheckContext, file: string): string | undefined {
  return ctx.output(configFileProbeId(file));
}

/** The first line of a file matching re (1-based), for FILE:LINE evidence. */
function lineOf(text: string | undefined, re: RegExp): number | undefined {
  if (!text) return undefined;
  const i = text.split('\n').findIndex((l) => re.test(l.replace(/[#!].*$/, '')));
  return i < 0 ? undefined : i + 1;
}

// ================================================================ vrrp-strict-blocks-vip

interface StrictDrop {
  evidence: Evidence[];
  /** the VIPs a keepalived-owned rule drops now */
  dropped: string[];
}

/** keepalived's own drop rules for the VIPs: nft table "keepalived" (ip/ip6/inet), or iptables chains named keepalived*. */
function keepalivedDropRules(ctx: CheckContext, vips: string[]): StrictDrop {
  const fw = firewall(ctx);
  const out: StrictDrop = { evidence: [], dropped: [] };
  const seen = new Set<string>();
  for (const t of fw.nft?.tables ?? []) {
    if (t.name !== 'keepalived') continue;
    for (const chain of Object.values(t.chains)) {
      if (chain.hook !== 'input') continue;
      for (const vip of vips) {
        const w = walk(t, chain.name, { proto: 6, dst: vip, family: vip.includes(':') ? 'ip6' : 'ip' });
        if (verdictOf(w) !== 'DROP' || !w.hit) continue;
        out.dropped.push(vip);
        const text = `table ${t.family} keepalived chain ${chain.name}: ${describeRef(w.hit)}${/@(\w+)/.test(w.hit.rule.text) ? ` (set ${/@(\w+)/.exec(w.hit.rule.text)![1]} = { ${(t.sets[/@(\w+)/.exec(w.hit.rule.text)![1]!] ?? []).join(', ')} })` : ''}`;
        if (!seen.has(text)) {
          out.evidence.push(ev(t.probe, text));
          seen.add(text);
        }
      }
    }
  }
  for (const t of fw.tables) {
    if (!isIptables(t) || t.name !== 'filter') continue;
    for (const chain of Object.values(t.chains)) {
      if (!/keepalived/i.test(chain.name)) continue;
      for (const r of chain.rules) {
        if (r.action.kind !== 'drop' && r.action.kind !== 'reject') continue;
        const dst = r.conds.find((c) => c.kind === 'addr' && c.dir === 'dst');
        const hit = dst && dst.kind === 'addr' ? vips.filter((v) => dst.cidrs.some((c) => c.split('/')[0] === v)) : [];
        if (!hit.length) continue;
        out.dropped.push(...hit);
        if (!seen.has(r.text)) {
          out.evidence.push(ev(t.probe, r.text));
          seen.add(r.text);
        }
      }
    }
  }
  out.dropped = [...new Set(out.dropped)];
  return out;
}

/** The log lines where keepalived set its drop rule ("setting firewall drop rule", 1.x "setting protocol iptable drop rule"). */
function strictLogLines(view: LogView | undefined, ctx: CheckContext, instance: string): Evidence[] {
  const log = ctx.memo('vrrp-field:log-lines', () => {
    const probe = view?.probe;
    const raw = probe ? ctx.output(probe) : undefined;
    return { probe, lines: (raw ?? '').split('\n').filter((l) => /setting (?:firewall|protocol iptable|protocol) drop rule/i.test(l)) };
  });
  if (!log.probe) return [];
  const mine = log.lines.filter((l) => l.includes(`(${instance})`));
  return mine.slice(-1).map((l) => ev(log.probe!, l.trim()));
}

/** keepalived -t's verdict on the current config, as collected: its exit status (0 clean). */
function configtestExit(ctx: CheckContext): number | undefined {
  const r = ctx.probe(PROBE_CONFIGTEST);
  return r?.status === 'ok' ? (r.exitCode ?? 0) : undefined;
}

const strictCheck: Check = {
  id: 'vrrp-strict-accept',
  title: 'vrrp_strict and the VIPs',
  codes: ['vrrp-strict-blocks-vip'],
  run(ctx) {
    const cfg = config(ctx);
    const loaded = keepalivedConfig(ctx);
    const out: Finding[] = [];
    const view = logView(ctx);
    const affected: VrrpInstance[] = [];
    const reasons = new Map<string, { why: string; evidence: Evidence[]; state?: string; dropped: string[]; runtime: Evidence[] }>();
    for (const vi of cfg.vrrpInstances) {
      const strict = strictFor(cfg, vi);
      const noAccept = vi.accept === false;
      const vips = vi.virtualIpaddresses.map((v) => v.address);
      const st = stateOf(ctx, vi.name)?.state;
      const drops = keepalivedDropRules(ctx, vips);
      // the address owner (priority 255) always accepts
      // strict mode resets accept on VRRPv2 ("accept mode for VRRP version 2 does not comply with RFC3768")
      const accepts = vi.accept === true && (!strict || effectiveVersion(cfg, vi) === 3);
      const blocked = (strict || noAccept) && !accepts && vi.priority !== 255;
      if (!blocked) {
        // the config lets the VIP accept, but the running keepalived still drops it: not reloaded
        if (st === 'MASTER' && drops.dropped.length) {
          out.push(
            finding('vrrp-strict-blocks-vip', {
              title: `${vi.name}: the config lets the VIP accept traffic, but keepalived's running drop rule still drops ${drops.dropped.join(', ')}`,
              detail:
                'keepalived installed this drop rule under an earlier config (strict mode without accept), and it is still in force, so the VIP drops everything addressed to it. keepalived (2.2.7) keeps the table across a reload that turns strict mode off; a restart removes it (and fails the VIP over), or delete the table: with no instance in strict mode keepalived does not need it.',
              evidence: drops.evidence,
              subject: vi.name,
              ...((plan) => (plan ? { fix: plan } : {}))(staleDropTablePlan(fixInput(ctx, cfg))),
            }),
          );
        }
        continue;
      }
      const text = fileText(ctx, vi.loc.file);
      const evidence: Evidence[] = [];
      let why: string;
      if (noAccept && !strict) {
        why = 'no_accept';
        evidence.push(
          ev(configFileProbeId(vi.loc.file), `${vi.loc.file}:${lineOf(text, /^\s*no_accept\b/) ?? vi.loc.line}: no_accept (in vrrp_instance ${vi.name})`),
        );
      } else if (vi.strictMode) {
        why = 'strict_mode';
        evidence.push(
          ev(configFileProbeId(vi.loc.file), `${vi.loc.file}:${lineOf(text, /^\s*strict_mode\b/) ?? vi.loc.line}: strict_mode (in vrrp_instance ${vi.name})`),
        );
      } else {
        why = 'vrrp_strict';
        const gfile = cfg.globalDefs.loc?.file ?? loaded.path;
        evidence.push(
          ev(
            configFileProbeId(gfile),
            `${gfile}:${lineOf(fileText(ctx, gfile), /^\s*vrrp_strict\b/) ?? cfg.globalDefs.loc?.line ?? 0}: vrrp_strict (global_defs), and vrrp_instance ${vi.name} has no \`accept\``,
          ),
        );
      }
      affected.push(vi);
      reasons.set(vi.name, {
        why,
        evidence,
        ...(st ? { state: st } : {}),
        dropped: drops.dropped,
        runtime: [...drops.evidence, ...strictLogLines(view, ctx, vi.name)],
      });
    }
    if (!affected.length) return out;
    const plan = strictAcceptPlan(fixInput(ctx, cfg), affected);
    for (const vi of affected) {
      const r = reasons.get(vi.name)!;
      const vips = vi.virtualIpaddresses.map((v) => v.address);
      const now =
        r.state === 'MASTER' && r.dropped.length
          ? `This node is MASTER and keepalived's own rule drops ${r.dropped.join(', ')} right now: pings, health checks and services on the VIP get no answer.`
          : r.state === 'MASTER'
            ? "This node is MASTER; the doctor could not read keepalived's drop rule (nft/iptables not readable), but keepalived installs it for every VIP of a non-accepting instance."
            : `This node is ${r.state ?? 'in an unknown state'}; keepalived installs the drop rule the moment it becomes MASTER (and the peer, if configured alike, drops it now).`;
      out.push(
        finding('vrrp-strict-blocks-vip', {
          title: `${vi.name}: ${r.why}${r.why !== 'no_accept' && effectiveVersion(cfg, vi) === 2 && vi.accept === true ? ' on VRRPv2 (where keepalived resets `accept`)' : ' without `accept`'}, so the VIP${vips.length === 1 ? '' : 's'} ${vips.join(', ')} drop${vips.length === 1 ? 's' : ''} traffic addressed to ${vips.length === 1 ? 'it' : 'them'}`,
          detail:
            `${r.why === 'vrrp_strict' ? 'vrrp_strict turns on strict RFC 5798 mode for every instance, and with it' : r.why === 'strict_mode' ? 'strict_mode turns on' : 'no_accept turns on'} Accept_Mode off: unless the node owns the address (priority 255), keepalived adds a firewall rule (nft table keepalived, set vips, \`ip daddr @vips drop\`) that drops every packet addressed to a VIP. ${now} ` +
            "Traffic routed through the node (a gateway VIP used as next hop) still passes; anything addressed to the VIP does not. keepalived's old sample config shipped vrrp_strict with priority 100, so copied configs hit this (acassen/keepalived#2339). " +
            (r.why !== 'no_accept' && effectiveVersion(cfg, vi) === 2
              ? 'On VRRPv2 keepalived resets `accept` under strict mode ("accept mode for VRRP version 2 does not comply with RFC3768 - resetting"), so strict mode itself has to go; it also ignored the authentication blocks, which must stay off so the adverts do not change under the peer.'
              : 'Add `accept` to the instance.'),
          evidence: [...r.evidence, ...r.runtime].slice(0, 6),
          location: { file: vi.loc.file, line: vi.loc.line },
          subject: vi.name,
          ...(plan ? { fix: plan } : {}),
        }),
      );
    }
    return out;
  },
};

/** keepalived's nft tables as the snapshot shows them. */
function keepalivedTables(ctx: CheckContext) {
  const fw = firewall(ctx);
  return (fw.nft?.tables ?? []).filter((t) => t.name === 'keepalived');
}

/** What the keepalived plans read from the snapshot. */
function fixInput(ctx: CheckContext, cfg: KeepalivedConfig): KeepalivedFixInput {
  return {
    cfg,
    mainConf: keepalivedConfig(ctx).path,
    text: (f) => fileText(ctx, f),
    pid: daemonStatus(ctx).daemon?.pid,
    tables: keepalivedTables(ctx),
    configtestExit: configtestExit(ctx),
  };
}

// ================================================================ vrrp-instance-fault

interface LinkInfo {
  ifname: string;
  flags: string[];
  operstate?: string;
}

function links(ctx: CheckContext): LinkInfo[] | undefined {
  return ctx.memo('vrrp-field:links', () => {
    const text = ctx.output(PROBE_IP_LINK);
    if (!text) return undefined;
    try {
      const arr = JSON.parse(text) as Array<{ ifname?: string; flags?: string[]; operstate?: string }>;
      return arr.filter((l) => l.ifname).map((l) => ({ ifname: l.ifname!, flags: l.flags ?? [], ...(l.operstate ? { operstate: l.operstate } : {}) }));
    } catch {
      return undefined;
    }
  });
}

/** Why an interface cannot carry VRRP, or undefined when it is up. */
function linkProblem(ctx: CheckContext, name: string): string | undefined {
  const all = links(ctx);
  if (!all) return undefined;
  const l = all.find((x) => x.ifname === name);
  if (!l) return `interface ${name} does not exist`;
  if (!l.flags.includes('UP')) return `interface ${name} is administratively down (\`ip link set ${name} up\`, or whatever took it down)`;
  if (l.flags.includes('NO-CARRIER') || !l.flags.includes('LOWER_UP') || l.operstate === 'DOWN' || l.operstate === 'LOWERLAYERDOWN')
    return `interface ${name} has no carrier (cable, switch port, or the hypervisor's virtual link is down)`;
  return undefined;
}

function linkEvidence(ctx: CheckContext, name: string): Evidence {
  const l = links(ctx)?.find((x) => x.ifname === name);
  return ev(PROBE_IP_LINK, l ? `${name}: <${l.flags.join(',')}> state ${l.operstate ?? '?'}` : `${name}: not in \`ip link\``);
}

/** The last track-script verdict per script in the log (failed/succeeded). */
function scriptVerdicts(view: LogView | undefined): Map<string, TriggerEvent> {
  const out = new Map<string, TriggerEvent>();
  for (const e of view?.events ?? []) {
    if (e.kind === 'trigger' && (e.trigger === 'track-script-failed' || e.trigger === 'track-script-ok') && e.script) out.set(e.script, e);
  }
  return out;
}

/** The instance's own reasons for FAULT (not those of its sync group). */
function ownFaultReasons(ctx: CheckContext, cfg: KeepalivedConfig, vi: VrrpInstance, view: LogView | undefined): { reasons: string[]; evidence: Evidence[] } {
  const reasons: string[] = [];
  const evidence: Evidence[] = [];
  const iface = vi.interface ?? cfg.globalDefs.defaultInterface;
  if (iface) {
    const p = linkProblem(ctx, iface);
    if (p) {
      reasons.push(p);
      evidence.push(linkEvidence(ctx, iface));
    } else if (links(ctx)) {
      const fam = instanceFamily(vi);
      const addrs = localAddresses(ctx).filter((a) => a.ifname === iface && !vi.virtualIpaddresses.some((v) => v.address === a.address));
      const usable = fam === 'ip' ? addrs.filter((a) => a.family === 'inet') : addrs.filter((a) => a.family === 'inet6' && /^fe80:/i.test(a.address));
      if (!usable.length && !vi.unicastSrcIp) {
        reasons.push(`interface ${iface} has no ${fam === 'ip' ? 'IPv4' : 'IPv6 link-local'} address of its own (keepalived needs one to send adverts from)`);
        evidence.push(ev(PROBE_IP_ADDR, `${iface}: ${addrs.map((a) => a.address).join(', ') || 'no address'}`));
      }
    }
  }
  for (const t of vi.trackInterfaces) {
    const p = linkProblem(ctx, t.name);
    // a weighted track_interface lowers the priority instead of causing FAULT
    if (p && !t.weight) {
      reasons.push(`tracked ${p}`);
      evidence.push(linkEvidence(ctx, t.name));
    }
  }
  for (const dev of [...new Set(vi.virtualIpaddresses.map((v) => v.dev).filter((d): d is string => !!d && d !== iface))]) {
    const p = linkProblem(ctx, dev);
    if (p) {
      reasons.push(`a VIP is bound to ${dev}, and ${p}`);
      evidence.push(linkEvidence(ctx, dev));
    }
  }
  const verdicts = scriptVerdicts(view);
  for (const t of vi.trackScripts) {
    const script = cfg.vrrpScripts.find((s) => s.name === t.name);
    const weight = t.weight ?? script?.weight ?? 0;
    const last = verdicts.get(t.name);
    if (last?.trigger === 'track-script-failed' && weight === 0) {
      reasons.push(`track script ${t.name} fails (weight 0: a failure puts the instance in FAULT)`);
      evidence.push(ev(view!.probe, last.raw.trim()));
    }
  }
  return { reasons, evidence };
}

const faultCheck: Check = {
  id: 'vrrp-instance-fault',
  title: 'VRRP instances in FAULT, and why',
  codes: ['vrrp-instance-fault'],
  run(ctx) {
    const cfg = config(ctx);
    const states = instanceStates(ctx);
    if (!states.length) throw new SkipCheck('no VRRP instance state could be read');
    const view = logView(ctx);
    const out: Finding[] = [];
    const faulty = new Set(states.filter((s) => s.state === 'FAULT').map((s) => s.name));
    const own = new Map(cfg.vrrpInstances.map((vi) => [vi.name, ownFaultReasons(ctx, cfg, vi, view)]));
    for (const name of faulty) {
      const vi = cfg.vrrpInstances.find((v) => v.name === name);
      if (!vi) continue;
      const st = states.find((s) => s.name === name)!;
      const mine = own.get(name)!;
      const reasons = [...mine.reasons];
      const evidence = [...mine.evidence];
      const group = cfg.vrrpSyncGroups.find((g) => g.members.includes(name));
      const lastFault = view?.timeline.transitions.filter((t) => t.instance === name && t.to === 'FAULT').at(-1);
      if (!reasons.length && group) {
        const culprits = group.members.filter((m) => m !== name && (own.get(m)?.reasons.length ?? 0) > 0);
        if (culprits.length) {
          reasons.push(
            `sync group ${group.name} holds it in FAULT because member ${culprits.map((m) => `${m} is (${own.get(m)!.reasons.join('; ')})`).join(', ')}: a sync group moves all its members together`,
          );
          for (const m of culprits) evidence.push(...own.get(m)!.evidence.slice(0, 1));
        } else if (lastFault?.causes.some((c) => c.summary.startsWith('sync group'))) {
          reasons.push(`sync group ${group.name} moved it to FAULT with another member`);
        }
      }
      // keepalived's own words: "(VI_1) entering FAULT state (no IPv4 address for interface)"
      if (lastFault) {
        const said = lastFault.causes.filter(
          (c) => c.summary.startsWith('keepalived says') || c.summary.startsWith('interface') || c.summary.startsWith('track script'),
        );
        for (const c of said) if (!reasons.some((r) => r.includes(c.summary.replace(/^keepalived says: /, '')))) reasons.push(`${c.summary} (log)`);
        if (view)
          evidence.push(
            ...lastFault.causes
              .flatMap((c) => c.evidence)
              .slice(-2)
              .map((l) => ev(view.probe, l.trim())),
            ev(view.probe, lastFault.raw.trim()),
          );
      } else evidence.push(ev(stateProbe(ctx, st.source), `${name}: FAULT (${st.source})`));
      // the log's cause (an interface down) is gone now: nothing here or in the group holds it, yet
      // it is still in FAULT: the group is stuck after the link returned (catalogue 32)
      const groupHeld = reasons.some((r) => r.startsWith('sync group'));
      const logOnly = !mine.reasons.length && !groupHeld && reasons.length > 0 && lastFault?.causes.some((c) => c.summary.startsWith('interface')) === true;
      if (logOnly)
        reasons.unshift(
          'stuck: the interface the log names as the cause is up again now, and no member of its group has a cause left, yet keepalived keeps it in FAULT',
        );
      const known = reasons.length > 0;
      out.push(
        finding('vrrp-instance-fault', {
          title: `${name} is in FAULT${known ? `: ${reasons[0]}` : ''}`,
          detail:
            `An instance in FAULT neither holds its VIPs nor advertises, so this node cannot take over${group ? ` (and sync group ${group.name} pulls its other members with it)` : ''}. ` +
            (logOnly
              ? `Why: ${reasons.join('; ')}. keepalived did not take the link's return (a netlink event it missed, or a member that left FAULT before the others): \`systemctl reload keepalived\` makes it re-read the interfaces; if it recurs, upgrade keepalived. `
              : known
                ? `Why: ${reasons.join('; ')}. `
                : 'The doctor found no down interface, missing address, failing weight-0 track script or FAULT sync-group member; run keepalived with -D (detailed log) and look at `ip -br link`, `ip -br addr` and the tracked scripts and files. ') +
            'At boot, FAULT usually means keepalived started before the network: order it `After=network-online.target` with a wait-online service, or set `vrrp_startup_delay`. The instance leaves FAULT by itself once the cause is gone.',
          evidence: dedupe(evidence).slice(0, 6),
          location: { file: vi.loc.file, line: vi.loc.line },
          subject: name,
        }),
      );
    }
    out.push(...splitGateway(ctx, cfg, states));
    return out;
  },
};

/** A forwarding gateway with several instances outside any sync group that are MASTER and BACKUP at once. */
function splitGateway(ctx: CheckContext, cfg: KeepalivedConfig, states: ReturnType<typeof instanceStates>): Finding[] {
  if (ctx.output(PROBE_IP_FORWARD)?.trim() !== '1') return [];
  const grouped = new Set(cfg.vrrpSyncGroups.flatMap((g) => g.members));
  const loose = cfg.vrrpInstances.filter((vi) => !grouped.has(vi.name) && vi.virtualIpaddresses.length);
  if (loose.length < 2 || new Set(loose.map((vi) => vi.interface)).size < 2) return [];
  const st = (vi: VrrpInstance) => states.find((s) => s.name === vi.name)?.state;
  const masters = loose.filter((vi) => st(vi) === 'MASTER');
  const others = loose.filter((vi) => st(vi) === 'BACKUP' || st(vi) === 'FAULT');
  if (!masters.length || !others.length) return [];
  return [
    finding('vrrp-instance-fault', {
      severity: 'error',
      title: `the gateway's VIPs are split across the nodes: ${masters.map((v) => v.name).join(', ')} MASTER here, ${others.map((v) => `${v.name} ${st(v)}`).join(', ')} (no vrrp_sync_group)`,
      detail: `This node forwards (ip_forward = 1) and its instances on different interfaces (${loose.map((v) => `${v.name} on ${v.interface ?? '?'}`).join(', ')}) are in no sync group, so each fails over on its own: now the clients' gateway and the outside address sit on different nodes, and routed/SNATed traffic goes in through one node and out through the other (or is dropped by the conntrack state the other node never saw). Put the instances in one \`vrrp_sync_group\` so they move together. (Severity error, not critical: two independent VIPs are sometimes meant; a forwarding gateway almost never means it.)`,
      evidence: loose.map((v) =>
        ev(
          stateProbe(ctx, states.find((s) => s.name === v.name)?.source ?? ''),
          `${v.name} (${v.interface ?? '?'}): ${st(v) ?? '?'} (${states.find((s) => s.name === v.name)?.source ?? '?'})`,
        ),
      ),
      subject: loose.map((v) => v.name).join(','),
    }),
  ];
}

/** The probe that decided an instance's state, for evidence. */
function stateProbe(ctx: CheckContext, source: string): string {
  if (source.startsWith('log')) return logView(ctx)?.probe ?? 'keepalived-log';
  if (source.startsWith('data dump')) return 'keepalived-data';
  if (source.startsWith('VIP presence')) return 'ip-addr';
  return 'keepalived-processes';
}

function dedupe(xs: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return xs.filter((e) => {
    const k = `${e.probe}\0${e.excerpt}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ================================================================ vrrp-version-mismatch

const versionCheck: Check = {
  id: 'vrrp-version',
  title: 'both nodes speak the same VRRP version',
  codes: ['vrrp-version-mismatch'],
  run(ctx) {
    const cfg = config(ctx);
    const view = logView(ctx);
    const wire = hasWire(ctx) ? wireView(ctx) : undefined;
    const peer = peerKeepalivedConfig(ctx)?.result.config;
    if (!view && !wire && !peer)
      throw new SkipCheck("needs keepalived's log, the wire capture (--wire) or the peer's config (--peer-config / --peer-snapshot)");
    const out: Finding[] = [];
    for (const vi of cfg.vrrpInstances) {
      const ours = effectiveVersion(cfg, vi);
      const evidence: Evidence[] = [];
      const said: string[] = [];
      let theirs: number | undefined;
      let current = true;
      let when = '';
      if (view) {
        const j = judgeLogProblem(view, 'version', vi.name);
        if (j) {
          const last = j.last as ProblemEvent;
          theirs = last.received;
          current = j.current;
          when = j.when;
          said.push(`keepalived drops the peer's adverts: "${last.message}" (${j.events.length} line${j.events.length === 1 ? '' : 's'})`);
          evidence.push(...(j.events.length > 1 ? [j.events[0]!, last] : [last]).map((e) => ev(view.probe, e.raw.trim())));
        }
      }
      if (wire && vi.virtualRouterId !== undefined) {
        const s = wire.byVrid.find((v) => v.vrid === vi.virtualRouterId);
        const foreign = (s?.sources ?? []).filter((x) => !x.local && x.first.version !== ours);
        if (foreign.length) {
          theirs ??= foreign[0]!.first.version;
          current = true;
          said.push(`on the wire ${foreign.map((f) => `${f.src} sends VRRPv${f.first.version}`).join(', ')} for VRID ${vi.virtualRouterId}`);
          evidence.push(
            ev(
              wire.probes[0]!,
              foreign[0]!.first.raw
                .split('\n')[0]!
                .trim()
                .replace(/auth "(?:[^"\\]|\\.)*"/g, 'auth "***"'),
            ),
          );
        }
      }
      if (peer) {
        const pv =
          peer.vrrpInstances.find((p) => p.virtualRouterId === vi.virtualRouterId && (p.name === vi.name || p.interface === vi.interface)) ??
          peer.vrrpInstances.find((p) => p.name === vi.name);
        if (pv && effectiveVersion(peer, pv) !== ours) {
          theirs ??= effectiveVersion(peer, pv);
          said.push(`the peer's config runs ${pv.name} as VRRPv${effectiveVersion(peer, pv)}`);
          evidence.push(
            ev(
              ctx.probe(PROBE_PEER_CONFIG) ? 'peer-config' : 'peer-snapshot',
              `${pv.loc.file}:${pv.loc.line}: vrrp_instance ${pv.name}: version ${effectiveVersion(peer, pv)}${pv.version === undefined ? ` (${peer.globalDefs.vrrpVersion ? 'vrrp_version' : 'the default'})` : ''}`,
            ),
          );
        }
      }
      // "invalid ip number count" is what an older keepalived logs for the same mismatch
      if (said.length && view) {
        const ipCount = view.events.filter(
          (e) => e.kind === 'problem' && e.problem === 'vrid' && /ip number count/.test(e.message) && (e.instance === undefined || e.instance === vi.name),
        );
        if (ipCount.length) evidence.push(ev(view.probe, ipCount.at(-1)!.raw.trim()));
      }
      if (!said.length) continue;
      const severity: Severity | undefined = current ? undefined : 'info';
      out.push(
        finding('vrrp-version-mismatch', {
          title: `${vi.name}: this node speaks VRRPv${ours}, the peer VRRPv${theirs ?? (ours === 2 ? 3 : 2)}`,
          detail:
            `${said.join('; ')}. keepalived drops adverts of the other version, so neither node hears the other and both become MASTER (both hold ${vi.virtualIpaddresses.map((v) => v.address).join(', ') || 'the VIPs'}). ` +
            `Set the same version on both nodes (\`version ${ours}\` in the instance, or \`vrrp_version\` in global_defs; IPv6 instances are always v3); Red Hat does not support rolling upgrades that change the version, so change both nodes in one window.${current ? '' : ` Severity lowered: ${when}.`}`,
          evidence: dedupe(evidence).slice(0, 6),
          location: { file: vi.loc.file, line: vi.loc.line },
          subject: vi.name,
          ...(severity ? { severity } : {}),
        }),
      );
    }
    return out;
  },
};

// ================================================================ vrrp-flapping

/** Transitions per hour that make a pair "flapping": a healthy pair changes state a few times a day. */
export const FLAP_WARN_PER_HOUR = 4;
export const FLAP_CRIT_PER_HOUR = 10;
const HOUR = 3_600_000;

function classifyCauses(ts: Transition[], view: LogView, from: number): Array<{ cause: string; count: number; advice: string; evidence?: string }> {
  const tally = new Map<string, { count: number; advice: string; evidence?: string }>();
  const add = (cause: string, advice: string, evidence?: string) => {
    const t = tally.get(cause) ?? { count: 0, advice, ...(evidence ? { evidence } : {}) };
    t.count++;
    tally.set(cause, t);
  };
  for (const t of ts) {
    for (const c of t.causes) {
      const s = c.summary;
      const e = c.evidence.at(-1);
      if (/not scheduled in time/.test(s))
        add(
          'keepalived not scheduled in time (CPU starvation, a VM pause, blocking dumps)',
          "raise keepalived's scheduling (`vrrp_priority -20`, `vrrp_rt_priority`), stop frequent SIGUSR1/SIGUSR2 dumps by exporters (use vrrp_notify_fifo), look at the host's load and the hypervisor",
          e,
        );
      else if (/^no advert from a master|^advert timeout/.test(s))
        add(
          "advert timeouts (adverts lost or late: the peer, the network, or this node's scheduling)",
          'capture with timestamps on both nodes (`tcpdump -ttt -ni IF vrrp`), look for packet loss or load at the times; consider `down_timer_adverts` or a longer advert_int',
          e,
        );
      else if (/reloading/i.test(s))
        add('keepalived reloads', 'each reload restarts the election on some versions: reload less often, upgrade, or add `preempt_delay`', e);
      else if (/^track script/.test(s))
        add('track scripts failing and recovering', 'make the check less sensitive (`fall`/`rise`, a timeout below the interval) or fix what it checks', e);
      else if (/^interface/.test(s))
        add('interfaces going down and up', 'look at the link (cable, switch port, bonding, NetworkManager/networkd reapplying it)', e);
      else if (/higher-priority advert/.test(s))
        add(
          'the peer preempting again and again',
          "this node keeps winning and losing the election: look at the peer's tracked scripts and interfaces; `nopreempt` or `preempt_delay` damp it",
          e,
        );
      else if (/priority 0/.test(s))
        add('the master stepping down (priority 0: it stopped, restarted or went to FAULT)', 'look at the peer: why keepalived stops or faults there', e);
      else if (/stopping/.test(s)) add('keepalived stopping or restarting here', 'look at what restarts keepalived (config management, a watchdog, OOM)', e);
      else if (/discarded the peer's adverts/.test(s)) add("the peer's adverts discarded (a mismatch)", 'see the auth/advert_int/VRID/version findings', e);
    }
  }
  // reloads and late timers logged in the window even when no transition named them
  const reloads = view.events.filter((e) => e.kind === 'trigger' && e.trigger === 'reloading' && (e.ts ?? 0) >= from).length;
  if (reloads && !tally.has('keepalived reloads'))
    tally.set('keepalived reloads', { count: reloads, advice: 'each reload can restart the election: reload less often, or upgrade' });
  return [...tally.entries()].map(([cause, t]) => ({ cause, ...t })).sort((a, b) => b.count - a.count);
}

/** Below the flapping rate, a single reload that changed a state is still worth saying (catalogue
 *  30): each such reload is a failover (ARP caches, SNAT connections). Its transitions are the ones
 *  keepalived logged within the cause window after "Reloading" (the timeline names the reload as
 *  their cause). Info, not a warning: a reload that lowered a priority is meant to move the VIP, and
 *  the log cannot tell what the reload changed. */
function reloadMoves(view: LogView, recent: Transition[]): Finding[] {
  const moved = recent.filter((t) => !t.init && t.causes.some((c) => /reloading/i.test(c.summary)) && (t.from === 'MASTER' || t.to === 'MASTER'));
  if (!moved.length) return [];
  const reloads = [...new Set(moved.map((t) => t.causes.find((c) => /reloading/i.test(c.summary))!.evidence.at(-1) ?? ''))].filter(Boolean);
  const insts = [...new Set(moved.map((t) => t.instance))];
  return [
    finding('vrrp-flapping', {
      severity: 'info',
      title: `a reload of keepalived changed the state of ${insts.join(', ')} (${moved.map((t) => `${t.instance} ${t.from ?? '?'} → ${t.to}${t.time ? ` at ${t.time}` : ''}`).join(', ')})`,
      detail:
        'The instances changed state right after a reload (SIGHUP, `systemctl reload keepalived`), so the VIPs moved: a failover (and, when this node takes them back, a second one), with ARP caches and SNATed connections to catch up. ' +
        'Fine when the reload was meant to move them (a lowered priority or a track weight). If not: a changed VRID, interface or unicast peers makes keepalived build the instance anew (starting in BACKUP), and some keepalived versions restart the election on every reload; keep those stable, add `preempt_delay` (or `nopreempt`) so the VIP does not come straight back, and upgrade keepalived if a plain reload does it.',
      evidence: [...reloads.slice(-1).map((r) => ev(view.probe, r.trim())), ...moved.slice(-3).map((t) => ev(view.probe, t.raw.trim()))],
      subject: insts.join(','),
    }),
  ];
}

const flappingCheck: Check = {
  id: 'vrrp-flapping',
  title: 'VRRP state changes per hour',
  codes: ['vrrp-flapping'],
  run(ctx) {
    const view = logView(ctx);
    if (!view) throw new SkipCheck("keepalived's log was not found");
    const all = view.timeline.transitions.filter((t) => !t.init);
    if (all.length && all.every((t) => t.ts === undefined)) throw new SkipCheck('the log lines carry no timestamps, so a rate cannot be computed');
    const from = view.now - HOUR;
    const recent = all.filter((t) => t.ts !== undefined && t.ts >= from && t.ts <= view.now + 60_000);
    const byInst = new Map<string, Transition[]>();
    for (const t of recent) byInst.set(t.instance, [...(byInst.get(t.instance) ?? []), t]);
    const flapping = [...byInst.entries()].filter(([, ts]) => ts.length >= FLAP_WARN_PER_HOUR);
    if (!flapping.length) return reloadMoves(view, recent);
    const worst = Math.max(...flapping.map(([, ts]) => ts.length));
    const ongoing = flapping.some(([, ts]) => view.now - ts.at(-1)!.ts! <= 10 * 60_000 && ts.filter((t) => t.ts! >= view.now - 10 * 60_000).length >= 3);
    const severity: Severity = worst >= FLAP_CRIT_PER_HOUR || ongoing ? 'critical' : 'warning';
    const ts = flapping.flatMap(([, t]) => t);
    const causes = classifyCauses(ts, view, from);
    const sample = flapping[0]![1];
    return [
      finding('vrrp-flapping', {
        severity,
        title: `${flapping.map(([i, t]) => `${i} changed state ${t.length} times`).join(', ')} in the last hour${causes[0] ? ` (mostly ${causes[0].cause.replace(/ \(.*$/, '')})` : ''}`,
        detail:
          `A healthy pair changes state a few times a day; ${worst} changes in an hour (warning from ${FLAP_WARN_PER_HOUR}, critical from ${FLAP_CRIT_PER_HOUR} or while it keeps going) mean short split brains or outages at each flip: the VIP moves, ARP caches and conntrack state lag behind. ` +
          (causes.length
            ? `Causes, from the lines logged before each change: ${causes.map((c) => `${c.cause} (${c.count}x): ${c.advice}`).join('; ')}.`
            : 'keepalived logged no trigger before the changes (run it with -D for detailed logging).') +
          (ongoing ? ' It is still going on (3 or more changes in the last 10 minutes).' : ''),
        evidence: [
          ...sample.slice(-3).map((t) => ev(view.probe, t.raw.trim())),
          ...causes
            .filter((c) => c.evidence)
            .slice(0, 2)
            .map((c) => ev(view.probe, c.evidence!.trim())),
        ],
        subject: flapping.map(([i]) => i).join(','),
      }),
    ];
  },
};

// ================================================================ IPv6 unicast without unicast_src_ip

const ipv6UnicastCheck: Check = {
  id: 'vrrp-ipv6-config',
  title: 'IPv6 instances as keepalived runs them (VRRPv3, no authentication, a named unicast source)',
  codes: ['unicast-peer-invalid', 'keepalived-config-invalid'],
  run(ctx) {
    const cfg = config(ctx);
    const out: Finding[] = [];
    for (const vi of cfg.vrrpInstances) {
      if (instanceFamily(vi) !== 'ip6') continue;
      // keepalived accepts these silently (keepalived -t says nothing) but does not do what they say
      const said: string[] = [];
      if (vi.version === 2 || (vi.version === undefined && cfg.globalDefs.vrrpVersion === 2))
        said.push(
          `${vi.version === 2 ? '`version 2`' : '`vrrp_version 2`'} is ignored: IPv6 VRRP is VRRPv3 only, so this instance speaks v3 (a peer configured as v2 for it would not match)`,
        );
      if (vi.authentication)
        said.push('its `authentication` block is ignored: VRRPv3 has no authentication (RFC 5798), so the adverts are unauthenticated whatever auth_pass says');
      if (said.length) {
        out.push(
          finding('keepalived-config-invalid', {
            severity: 'warning',
            title: `${vi.name} (IPv6): ${said.length === 2 ? 'version 2 and authentication are' : said[0]!.startsWith('its') ? 'authentication is' : 'version 2 is'} ignored`,
            detail: `${said.join('; ')}. (Severity warning: keepalived runs, but not as written.)`,
            evidence: [
              ev(
                configFileProbeId(vi.loc.file),
                `${vi.loc.file}:${vi.loc.line}: vrrp_instance ${vi.name} (first VIP ${vi.virtualIpaddresses[0]?.address ?? '?'})`,
              ),
            ],
            location: { file: vi.loc.file, line: vi.loc.line },
            subject: vi.name,
          }),
        );
      }
      if (!vi.unicastPeers.length || vi.unicastSrcIp) continue;
      const global = vi.unicastPeers.filter((p) => p.address.includes(':') && !/^fe80:/i.test(p.address));
      if (!global.length) continue;
      out.push(
        finding('unicast-peer-invalid', {
          title: `${vi.name}: IPv6 unicast to ${global.map((p) => p.address).join(', ')} without unicast_src_ip`,
          detail:
            "Without unicast_src_ip an IPv6 instance sends from, and binds its receive socket to, the interface's link-local address; a peer that lists this node by its global address sends its adverts there, keepalived never receives them, and both nodes hold every IPv6 VIP (truenas/middleware#19527). Set `unicast_src_ip` to this node's global IPv6 address on " +
            `${vi.interface ?? 'the interface'}, the address the peer lists in its unicast_peer.`,
          evidence: [
            ev(
              configFileProbeId(vi.loc.file),
              `${vi.loc.file}:${vi.unicastPeers[0]!.loc.line}: unicast_peer ${global[0]!.address} (vrrp_instance ${vi.name}, IPv6, no unicast_src_ip)`,
            ),
          ],
          location: { file: vi.loc.file, line: vi.loc.line },
          subject: vi.name,
        }),
      );
    }
    return out;
  },
};

export const vrrpFieldChecks: Check[] = [strictCheck, faultCheck, versionCheck, flappingCheck, ipv6UnicastCheck];
