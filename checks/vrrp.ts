// Checks of the vrrp area: what the wire (--wire) and keepalived's log prove about adverts.
//
// Log-based findings count only lines inside --since (default 24 h). A mismatch logs one line per
// advert while it lasts, so a condition is "current" when its last line is at most 5 minutes older
// than the snapshot (or, for a log without timestamps, comes after the last state change);
// otherwise it is reported at severity info, saying when it was last seen (it has cleared).
//
// vrrp-input-blocked: the netfilter check (checks/netfilter.ts) reports it from the rule set and
// names the rule. This module reports it only from wire proof, and only when the rule set does not
// already explain the drop, so one cause never yields two findings with the same code; the wire
// proof of that case still shows up as evidence of vrrp-split-brain.
//
// SNAT on adverts (an advert leaving this node with a source that is not its address): reported as
// evidence of vrrp-split-brain; vrrp-conntrack-nat needs the conntrack proof, which the netfilter
// checks hold.
import { sameAuthPass } from '../src/secrets.js';
import type { Check } from '../src/check.js';
import type { CheckContext } from '../src/context.js';
import { SkipCheck, finding } from '../src/context.js';
import type { Evidence, Finding, Severity } from '../src/types.js';
import type { VrrpInstance } from '../src/keepalived/model.js';
import { keepalivedConfig } from '../src/keepalived/from-snapshot.js';
import { instanceStates } from '../src/state.js';
import { describeVrid, isMulticast, type AdvertSource, type VridSummary } from '../src/vrrp/adverts.js';
import type { ProblemEvent, ProblemKind } from '../src/vrrp/log.js';
import { hasWire, logView, redactAuth, wireView, type LogView, type WireView } from '../src/vrrp/view.js';
import { firewallFromRecords, dropsAt } from '../src/netfilter/firewall.js';
import { vrrpPaths } from '../src/netfilter/vrrp-paths.js';
import { daemonStatus, localAddresses } from '../src/state.js';
import { missingCapabilities } from '../src/keepalived/daemon.js';
import { processesFrom } from '../src/probes/keepalived.js';

export const RECENT_MS = 5 * 60_000;

function instances(ctx: CheckContext): VrrpInstance[] {
  const cfg = keepalivedConfig(ctx).result?.config;
  if (!cfg) throw new SkipCheck('the keepalived config could not be read');
  return cfg.vrrpInstances.filter((i) => i.virtualRouterId !== undefined);
}

function stateOf(ctx: CheckContext, name: string): string | undefined {
  return instanceStates(ctx).find((s) => s.name === name)?.state;
}

function wireOrUndefined(ctx: CheckContext): WireView | undefined {
  return hasWire(ctx) ? wireView(ctx) : undefined;
}

const others = (s: VridSummary | undefined) => (s?.sources ?? []).filter((x) => !x.local);
const vridOf = (w: WireView, vrid: number) => w.byVrid.find((v) => v.vrid === vrid);

function wireEvidence(w: WireView, s: VridSummary | undefined, src?: AdvertSource): Evidence[] {
  const probe = w.probes[0]!;
  const out: Evidence[] = [];
  if (s) out.push({ probe, excerpt: describeVrid(s) });
  const adv = src?.first;
  if (adv)
    out.push({
      probe,
      excerpt: redactAuth(
        adv.raw
          .split('\n')
          .map((l) => l.trim())
          .join(' '),
      ),
    });
  return out;
}

function expectedAuth(inst: VrrpInstance): string {
  const t = inst.authentication?.type?.toUpperCase();
  if (inst.version === 3) return 'none (v3)';
  if (t === 'PASS') return 'simple';
  if (t === 'AH') return 'ah';
  return 'none';
}

// ---------------------------------------------------------------- log problems and their recency

interface Judged {
  events: ProblemEvent[];
  last: ProblemEvent;
  current: boolean;
  /** why it is (not) current, in words */
  when: string;
}

function lastTransitionLine(view: LogView, instance: string | undefined): number {
  const ts = view.timeline.transitions.filter((t) => !t.init && (instance === undefined || t.instance === instance));
  return ts.at(-1)?.line ?? 0;
}

export function judgeLogProblem(view: LogView, problem: ProblemKind, instance?: string): Judged | undefined {
  const events = view.events.filter(
    (e): e is ProblemEvent => e.kind === 'problem' && e.problem === problem && (instance === undefined || e.instance === undefined || e.instance === instance),
  );
  const last = events.at(-1);
  if (!last) return undefined;
  if (last.ts !== undefined) {
    const ago = Math.round((view.now - last.ts) / 60_000);
    const current = view.now - last.ts <= RECENT_MS;
    return {
      events,
      last,
      current,
      when: current
        ? `last seen ${ago <= 0 ? 'within the last minute' : `${ago} min before the snapshot`}`
        : `last seen ${last.time ?? ''} (${ago} min before the snapshot), so it has most likely been fixed`,
    };
  }
  const current = last.line > lastTransitionLine(view, instance);
  return {
    events,
    last,
    current,
    when: current
      ? 'logged after the last state change'
      : 'logged only before the last state change (the log has no timestamps), so it has most likely cleared',
  };
}

function logEvidence(view: LogView, events: ProblemEvent[]): Evidence[] {
  const pick = events.length > 2 ? [events[0]!, events.at(-1)!] : events;
  return pick.map((e) => ({ probe: view.probe, excerpt: e.raw.trim() }));
}

function severityFor(j: Judged): { severity?: Severity } {
  return j.current ? {} : { severity: 'info' };
}

// ---------------------------------------------------------------- vrrp-split-brain

/** How long after the last "forcing new election" line a log-only split brain still counts as
 *  ongoing: five advert intervals, plus 5 s for the log's one-second timestamps and the time the
 *  snapshot takes to read the log. Older, the other master has stopped advertising: it healed. */
export function splitBrainWindowMs(inst: Pick<VrrpInstance, 'advertInt'>): number {
  return (5 * (inst.advertInt ?? 1) + 5) * 1000;
}

const splitBrain: Check = {
  id: 'vrrp-split-brain',
  title: 'two masters for one VRID',
  codes: ['vrrp-split-brain'],
  run(ctx) {
    const wire = wireOrUndefined(ctx);
    const log = logView(ctx);
    if (!wire && !log) throw new SkipCheck("needs the wire capture (--wire) or keepalived's log");
    const out: Finding[] = [];
    for (const inst of instances(ctx)) {
      if (stateOf(ctx, inst.name) !== 'MASTER') continue;
      const evidence: Evidence[] = [];
      const said: string[] = [];
      if (wire) {
        const s = vridOf(wire, inst.virtualRouterId!);
        const rivals = others(s).filter((x) => x.priority > 0);
        if (rivals.length) {
          evidence.push(...wireEvidence(wire, s, rivals[0]));
          said.push(
            `on the wire, ${rivals.map((r) => `${r.src} (priority ${r.priority})`).join(', ')} advertise${rivals.length === 1 ? 's' : ''} VRID ${inst.virtualRouterId} too: only a master sends adverts`,
          );
        }
        // our own adverts leaving with a foreign source: SNAT rewrote them, the peer cannot match them
        const rewritten = (s?.sources ?? []).filter((x) => x.local && !wire.localAddrs.includes(x.src));
        if (rewritten.length && rivals.length) {
          evidence.push({
            probe: wire.probes[0]!,
            excerpt: `this node's own adverts leave with source ${rewritten.map((r) => r.src).join(', ')}, which is not one of its addresses (SNAT on adverts)`,
          });
          said.push(
            'this node\'s own adverts leave with a rewritten source address, so a unicast peer discards them as "not a unicast peer" (see snat-matches-vrrp / vrrp-conntrack-nat)',
          );
        }
      }
      if (log) {
        // 2.x: a MASTER that hears a lower-priority advert means the peer is MASTER as well
        const since = lastTransitionLine(log, inst.name);
        const elections = log.events.filter(
          (e) => e.kind === 'trigger' && e.trigger === 'lower-priority-election' && e.instance === inst.name && e.line > since,
        );
        // the other master's adverts arrive once per advert interval while the split brain lasts: when
        // the last one is older than a few intervals, the peer stopped advertising (it became BACKUP)
        const last = elections.at(-1);
        const ongoing = last !== undefined && (last.ts === undefined || log.now - last.ts <= splitBrainWindowMs(inst));
        // a capture that listened long enough and heard no other master is later, better evidence
        const wireHeals =
          wire !== undefined && wire.seconds >= 3 * (inst.advertInt ?? 1) && !others(vridOf(wire, inst.virtualRouterId!)).some((x) => x.priority > 0);
        if (elections.length >= 2 && ongoing && !wireHeals) {
          evidence.push(...elections.slice(-2).map((e) => ({ probe: log.probe, excerpt: e.raw.trim() })));
          said.push(
            `keepalived keeps receiving the peer's adverts while MASTER ("forcing new election", ${elections.length} times since it became MASTER): the peer advertises as master because it does not hear this node`,
          );
        }
      }
      if (!said.length) continue;
      out.push(
        finding('vrrp-split-brain', {
          title: `${inst.name} (VRID ${inst.virtualRouterId}) is MASTER here and another node advertises as master`,
          detail: `${said.join('; ')}. Both nodes hold the VIPs${inst.virtualIpaddresses.length ? ` (${inst.virtualIpaddresses.map((v) => v.address).join(', ')})` : ''} and clients reach either at random. Usually one side cannot hear the other: its firewall drops VRRP, SNAT rewrites the adverts, or multicast is not delivered.`,
          evidence,
          subject: inst.name,
        }),
      );
    }
    return out;
  },
};

// ---------------------------------------------------------------- vrrp-input-blocked (wire proof)

function iptablesVrrpDropLines(ctx: CheckContext): Evidence[] {
  const out: Evidence[] = [];
  for (const id of ['iptables-save', 'iptables-nft-save', 'iptables-legacy-save']) {
    const text = ctx.output(id);
    if (!text) continue;
    for (const l of text.split('\n')) {
      if (/(-p (vrrp|112)\b|^:INPUT DROP)/.test(l) && /(-j (DROP|REJECT)|^:INPUT DROP)/.test(l)) out.push({ probe: id, excerpt: l.trim() });
    }
    if (out.length) break;
  }
  return out.slice(0, 5);
}

function outranks(peer: AdvertSource, inst: VrrpInstance): boolean {
  const ours = inst.priority ?? 100;
  return peer.priority > ours && peer.priority > 0;
}

const inputBlocked: Check = {
  id: 'vrrp-wire-input',
  title: 'adverts seen on the wire but not by keepalived',
  codes: ['vrrp-input-blocked'],
  run(ctx) {
    const wire = wireView(ctx);
    const out: Finding[] = [];
    const fw = firewallFromRecords(ctx.snapshot.probes);
    for (const inst of instances(ctx)) {
      if (stateOf(ctx, inst.name) !== 'MASTER') continue;
      const s = vridOf(wire, inst.virtualRouterId!);
      const ourVips = inst.virtualIpaddresses
        .map((v) => v.address)
        .sort()
        .join(',');
      // a higher-priority peer whose adverts keepalived would accept (same auth, interval, VIPs): it should have won
      const peer = others(s).find(
        (x) =>
          outranks(x, inst) &&
          x.authTypes.every((a) => a === expectedAuth(inst)) &&
          x.advertInts.every((n) => n === (inst.advertInt ?? 1)) &&
          x.vipLists.every((l) => l === ourVips),
      );
      if (!peer) continue;
      const pkt = {
        proto: 112,
        src: peer.src,
        dst: peer.destinations[0] ?? '224.0.0.18',
        ...(inst.interface ? { inIface: inst.interface } : {}),
        state: 'NEW',
        localAddresses: wire.localAddrs,
      };
      // the rule set explains it: the netfilter check reports vrrp-input-blocked and names the rule
      if (fw.tables.length && dropsAt(fw, ['prerouting', 'input'], pkt).length) continue;
      const candidates = iptablesVrrpDropLines(ctx);
      out.push(
        finding('vrrp-input-blocked', {
          title: `${inst.name}: adverts from ${peer.src} (priority ${peer.priority}) reach this host, yet keepalived stays MASTER at priority ${inst.priority ?? 100}`,
          detail:
            `The capture (taken before netfilter) shows ${peer.src} advertising VRID ${inst.virtualRouterId} at a higher priority with matching authentication, interval and VIPs; keepalived would step down if it received them, so something between the wire and keepalived's socket discards them. ` +
            (candidates.length
              ? 'The iptables rules below drop VRRP; the rule evaluator could not tie them to this advert for certain.'
              : fw.tables.length
                ? 'No iptables/nft rule the doctor could read drops them: look at rules it cannot model (ebtables/arptables, an nft table in another family, a tc filter), a VRRP socket bound to another interface, or a conntrack entry in state INVALID.'
                : `The rule set could not be read (${fw.unavailable.map((u) => `${u.probe}: ${u.reason}`).join('; ') || 'not collected'}); run as root so the doctor can name the rule.`),
          evidence: [...wireEvidence(wire, s, peer), ...candidates],
          subject: inst.name,
        }),
      );
    }
    return out;
  },
};

// ---------------------------------------------------------------- vrrp-no-peer-adverts

const noPeerAdverts: Check = {
  id: 'vrrp-wire-peers',
  title: 'adverts from the configured peers',
  codes: ['vrrp-no-peer-adverts'],
  run(ctx) {
    const wire = wireView(ctx);
    const out: Finding[] = [];
    for (const inst of instances(ctx)) {
      const interval = inst.advertInt ?? 1;
      // a master sends one advert per interval: a shorter window proves nothing
      if (wire.seconds < 2 * interval) continue;
      const s = vridOf(wire, inst.virtualRouterId!);
      const seen = others(s);
      const state = stateOf(ctx, inst.name);
      const peers = inst.unicastPeers.map((p) => p.address);
      const causes =
        "Possible causes: the peer is down or its keepalived is stopped or in FAULT (check it there: `systemctl status keepalived`); the peer is BACKUP and this node is MASTER, which is healthy only if this node is meant to win (a backup sends nothing); the peer's OUTPUT drops VRRP (its log says \"send advert error\"); a cloud security group / network ACL does not pass IP protocol 112 (invisible from both hosts: a `tcpdump -ni IF 'ip proto 112'` on the peer shows adverts leaving that never arrive here); multicast is not delivered on this network (use unicast_peer)." +
        (peers.length
          ? ''
          : " A switch with IGMP snooping, or special handling of 224.0.0.0/24, can drop multicast VRRP between the nodes: that is invisible from the host (only the switch's configuration or a capture on its ports shows it); unicast_peer avoids it.");
      if (peers.length) {
        for (const peer of peers) {
          if (seen.some((x) => x.src === peer)) continue;
          // a silent backup peer is normal while we are MASTER
          if (state === 'MASTER') continue;
          const strangers = seen.filter((x) => !peers.includes(x.src));
          out.push(
            finding('vrrp-no-peer-adverts', {
              title: `${inst.name}: no advert from unicast peer ${peer} in ${wire.seconds} s`,
              detail: `This node is ${state ?? 'in an unknown state'} for VRID ${inst.virtualRouterId} and the capture saw nothing from ${peer}. ${strangers.length ? `Adverts for VRID ${inst.virtualRouterId} did arrive from ${strangers.map((x) => x.src).join(', ')}, which is not a configured peer: the peer's source is rewritten (SNAT) or its unicast_src_ip differs from what this side lists. ` : ''}${causes}`,
              evidence: s
                ? wireEvidence(wire, s)
                : [
                    {
                      probe: wire.probes[0]!,
                      excerpt: `no advert for VRID ${inst.virtualRouterId} in ${wire.seconds} s (${wire.adverts.length} VRRP packet(s) in all)`,
                    },
                  ],
              subject: inst.name,
            }),
          );
        }
      } else if (state === 'BACKUP' && !seen.length) {
        out.push(
          finding('vrrp-no-peer-adverts', {
            title: `${inst.name}: BACKUP, yet no master advertises VRID ${inst.virtualRouterId} in ${wire.seconds} s`,
            detail: `A backup hears the master once per advert interval (${interval} s). ${causes}`,
            evidence: [
              {
                probe: wire.probes[0]!,
                excerpt: `no advert for VRID ${inst.virtualRouterId} from another node in ${wire.seconds} s${isMulticast('224.0.0.18') ? ' (multicast 224.0.0.18)' : ''}`,
              },
            ],
            subject: inst.name,
          }),
        );
      }
    }
    return out;
  },
};

// ---------------------------------------------------------------- mismatches: VRID/VIPs, auth, interval

interface MismatchSpec {
  id: string;
  title: string;
  code: 'vrid-collision' | 'vrrp-auth-mismatch' | 'vrrp-advert-int-mismatch';
  problem: ProblemKind;
  /** the wire differences of one foreign source, in words, or undefined when it agrees */
  onWire(inst: VrrpInstance, src: AdvertSource): string | undefined;
  logWords: string;
  why: string;
}

function mismatchCheck(spec: MismatchSpec): Check {
  return {
    id: spec.id,
    title: spec.title,
    codes: [spec.code],
    run(ctx) {
      const wire = wireOrUndefined(ctx);
      const log = logView(ctx);
      if (!wire && !log) throw new SkipCheck("needs the wire capture (--wire) or keepalived's log");
      const out: Finding[] = [];
      const insts = instances(ctx);
      const reported = new Set<string>();
      if (wire) {
        for (const inst of insts) {
          const s = vridOf(wire, inst.virtualRouterId!);
          for (const src of others(s)) {
            const diff = spec.onWire(inst, src);
            if (!diff) continue;
            reported.add(inst.name);
            out.push(
              finding(spec.code, {
                title: `${inst.name} (VRID ${inst.virtualRouterId}): ${src.src} ${diff}`,
                detail: `${spec.why} Seen on the wire during the ${wire.seconds} s capture.`,
                evidence: wireEvidence(wire, s, src),
                subject: inst.name,
              }),
            );
          }
        }
      }
      if (log) {
        const names = insts.length ? insts.map((i) => i.name as string | undefined) : [undefined];
        // 1.x logs these without the instance name: judge them once, for the whole log
        const anon = log.events.some((e) => e.kind === 'problem' && e.problem === spec.problem && e.instance === undefined);
        for (const name of anon ? [undefined] : names) {
          if (name && reported.has(name)) continue;
          const j = judgeLogProblem(log, spec.problem, name);
          if (!j || (name === undefined && reported.size)) continue;
          out.push(
            finding(spec.code, {
              title: `${name ?? 'keepalived'}: ${spec.logWords} (${j.events.length} line${j.events.length === 1 ? '' : 's'} in the log)`,
              detail: `${spec.why} ${j.current ? '' : 'Severity lowered: '}${j.when}.`,
              evidence: logEvidence(log, j.events),
              ...severityFor(j),
              ...(name ? { subject: name } : {}),
            }),
          );
        }
      }
      return out;
    },
  };
}

// keepalived advertises (and compares) only the VIPs of the instance's own family, the family of its first VIP
const sortedVips = (inst: VrrpInstance) => {
  const v6 = inst.virtualIpaddresses[0]?.address.includes(':') ?? false;
  return inst.virtualIpaddresses
    .map((v) => v.address)
    .filter((a) => a.includes(':') === v6)
    .sort()
    .join(',');
};

const vridCollision = mismatchCheck({
  id: 'vrid-collision',
  title: 'another VRRP router with the same VRID',
  code: 'vrid-collision',
  problem: 'vrid',
  onWire: (inst, src) => {
    const ours = sortedVips(inst);
    const theirs = src.vipLists.filter((l) => l !== ours);
    return theirs.length ? `advertises the same VRID with other VIPs (${theirs.map((l) => l || 'none').join(' | ')}; ours ${ours || 'none'})` : undefined;
  },
  logWords: 'adverts for its VRID carry another VIP list (or another VRRP version)',
  why: 'Two VRRP routers with one VRID and different VIPs on one segment are two clusters colliding, or one node has a different virtual_ipaddress list, or the nodes speak different VRRP versions ("invalid ip number count" is what a VRRPv2/v3 mismatch logs too; see vrrp-version-mismatch when the versions are known): keepalived discards the other\'s adverts, so each side may become MASTER. Give each cluster its own virtual_router_id, make the VIP lists identical, or set the same version on both nodes.',
});

const authMismatch = mismatchCheck({
  id: 'vrrp-auth',
  title: 'VRRP authentication agrees',
  code: 'vrrp-auth-mismatch',
  problem: 'auth',
  onWire: (inst, src) => {
    const want = expectedAuth(inst);
    const types = src.authTypes.filter((t) => t !== want);
    if (types.length) return `sends auth type ${types.join('/')}; this node expects ${want}`;
    const pass = inst.authentication?.pass;
    // keepalived compares the 8 bytes on the wire (auth_pass is truncated to 8); plain or redacted (src/secrets.ts)
    if (want === 'simple' && pass !== undefined && src.first.authPass !== undefined && !sameAuthPass(pass, src.first.authPass))
      return 'sends a different auth_pass';
    return undefined;
  },
  logWords: 'adverts fail authentication',
  why: 'keepalived drops adverts whose authentication differs, so neither side hears the other and both become MASTER. Use the same authentication block (auth_type and the first 8 characters of auth_pass) on every node. With auth_type AH, "IPSEC-AH : invalid IPSEC HMAC-MD5 value" also appears with identical passwords when the adverts cross a router (it mutates the fields AH covers, acassen/keepalived#93) or with more than two unicast nodes (#143): there, use PASS or no authentication (VRRPv3 has none). "received an invalid passwd!" can also be another cluster on the same VRID with its own password (openshift/installer#2966): check the VRID before aligning passwords with a cluster you do not own.',
});

const intervalMismatch = mismatchCheck({
  id: 'vrrp-advert-int',
  title: 'advert_int agrees',
  code: 'vrrp-advert-int-mismatch',
  problem: 'advert-int',
  onWire: (inst, src) => {
    const want = inst.advertInt ?? 1;
    const bad = src.advertInts.filter((n) => n !== want);
    return bad.length ? `advertises every ${bad.join('/')} s; this node's advert_int is ${want} s` : undefined;
  },
  logWords: "advert_int differs from the peer's",
  why: 'VRRPv2 drops adverts whose interval differs from its own advert_int, so the nodes ignore each other and both become MASTER. Set the same advert_int on every node.',
});

// ---------------------------------------------------------------- vrrp-output-blocked (log)

const outputBlocked: Check = {
  id: 'vrrp-send-errors',
  title: 'adverts can be sent',
  codes: ['vrrp-output-blocked'],
  run(ctx) {
    const log = logView(ctx);
    if (!log) throw new SkipCheck("keepalived's log was not found");
    const out: Finding[] = [];
    const names = new Set(log.events.filter((e) => e.kind === 'problem' && e.problem === 'send').map((e) => e.instance));
    const fw = firewallFromRecords(ctx.snapshot.probes);
    const cfg = keepalivedConfig(ctx).result?.config;
    const paths = cfg ? vrrpPaths(cfg, localAddresses(ctx)) : [];
    // "Operation not permitted" is also what a daemon without CAP_NET_RAW/CAP_NET_ADMIN gets
    const daemon = daemonStatus(ctx);
    const caps =
      daemon.running === 'yes'
        ? [
            ...new Set(
              processesFrom(ctx.snapshot.probes)
                .filter((p) => daemon.daemons.some((d) => d.pid === p.pid || d.pid === p.ppid))
                .flatMap((p) => missingCapabilities(p.capEff)),
            ),
          ]
        : [];
    for (const name of names) {
      // the rule set explains it: the netfilter check reports vrrp-output-blocked and names the rule
      const path = paths.find((p) => p.instance === name);
      if (
        path?.self &&
        fw.tables.length &&
        path.peers.some(
          (peer) =>
            dropsAt(fw, ['output', 'postrouting'], { proto: 112, src: path.self!, dst: peer, ...(path.iface ? { outIface: path.iface } : {}), state: 'NEW' })
              .length,
        )
      )
        continue;
      const j = judgeLogProblem(log, 'send', name);
      if (!j) continue;
      out.push(
        finding('vrrp-output-blocked', {
          title: `${name ?? 'keepalived'} cannot send adverts (${j.events.length} send error${j.events.length === 1 ? '' : 's'} in the log)`,
          detail: `"send advert error 1 (Operation not permitted)" / "Cant send advert" means the kernel refused the advert, ${caps.length ? `and here the daemon runs without ${caps.join(' and ')} (its CapEff lacks them, see keepalived-capabilities-missing): that alone refuses every advert` : 'almost always an OUTPUT (or POSTROUTING) rule that drops protocol 112'}. The peer hears nothing and takes over. ${j.current ? '' : 'Severity lowered: '}${j.when}.`,
          evidence: logEvidence(log, j.events),
          ...severityFor(j),
          ...(name ? { subject: name } : {}),
        }),
      );
    }
    return out;
  },
};

export const vrrpChecks: Check[] = [splitBrain, inputBlocked, noPeerAdverts, vridCollision, authMismatch, intervalMismatch, outputBlocked];
