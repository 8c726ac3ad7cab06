// Pair consistency: this node's keepalived.conf against the peer's (`check --config A --peer-config B`).
// Mapping of each disagreement to a contract code:
//   auth_type/auth_pass differ (first 8 characters)      -> vrrp-auth-mismatch
//   advert_int differs                                    -> vrrp-advert-int-mismatch
//   unicast not mirrored (A lists B's unicast_src_ip and B lists A's), one side unicast and the other
//   multicast, a node listing its own unicast_src_ip as a peer         -> unicast-peer-invalid
//   same-named instance with a different VRID, different VIP sets (keepalived logs "ip address
//   associated with VRID N not present in MASTER advert"), an instance missing on the peer,
//   no clear master (equal priorities)                   -> keepalived-config-invalid (these are config
//   faults, not runtime state, so vip-state-mismatch, which is about addresses held now, does not fit)
import { sameAuthPass } from '../src/secrets.js';
import type { Check } from '../src/check.js';
import { CheckContext, SkipCheck, finding } from '../src/context.js';
import type { Evidence, Finding, InstanceState } from '../src/types.js';
import { keepalivedConfig, peerKeepalivedConfig, peerSnapshot } from '../src/keepalived/from-snapshot.js';
import type { KeepalivedConfig, Loc, VrrpInstance } from '../src/keepalived/model.js';
import { daemonStatus, instanceStates, localAddresses } from '../src/state.js';
import { ourKeepalived } from '../src/keepalived/records.js';
import { effectiveVersion } from '../src/netfilter/vrrp-paths.js';
import { PROBE_IP_ADDR, PROBE_PEER_CONFIG, configFileProbeId } from '../src/probes/ids.js';

const at = (loc: Loc) => `${loc.file}:${loc.line}`;
const ev = (loc: Loc, excerpt: string): Evidence => ({ probe: configFileProbeId(loc.file), excerpt: `${at(loc)}: ${excerpt}` });
const pev = (loc: Loc, excerpt: string): Evidence => ({ probe: PROBE_PEER_CONFIG, excerpt: `${at(loc)}: ${excerpt}` });

function vipSet(vi: VrrpInstance): string[] {
  return vi.virtualIpaddresses.map((v) => `${v.address}/${v.prefix}`).sort();
}

/** Whether the two instances authenticate each other: the same auth_type and, for PASS, the same
 *  first 8 characters of auth_pass (all keepalived compares). A redacted side is compared by its
 *  fingerprint (src/secrets.ts), so a redacted snapshot still tells "differs"; two plain values are
 *  compared as they are (no fingerprint to compute). */
function sameAuth(x: VrrpInstance, y: VrrpInstance): boolean {
  const a = x.authentication?.type ? x.authentication : undefined;
  const b = y.authentication?.type ? y.authentication : undefined;
  if (!a || !b) return !a && !b;
  if (a.type !== b.type) return false;
  if (!a.pass || !b.pass) return !a.pass && !b.pass;
  return sameAuthPass(a.pass, b.pass);
}

export function comparePair(own: VrrpInstance[], peer: VrrpInstance[]): Finding[] {
  const out: Finding[] = [];
  for (const a of own) {
    const b = peer.find((p) => p.name === a.name) ?? peer.find((p) => p.virtualRouterId !== undefined && p.virtualRouterId === a.virtualRouterId);
    const loc = { file: a.loc.file, line: a.loc.line };
    if (!b) {
      out.push(
        finding('keepalived-config-invalid', {
          title: `(${a.name}) has no counterpart in the peer's configuration`,
          detail: `No instance named ${a.name} or with VRID ${a.virtualRouterId ?? '?'} exists on the peer: this node is MASTER alone for it, with no failover.`,
          evidence: [ev(a.loc, `vrrp_instance ${a.name}`)],
          location: loc,
          subject: a.name,
          severity: 'warning',
        }),
      );
      continue;
    }
    if (a.virtualRouterId !== b.virtualRouterId) {
      out.push(
        finding('keepalived-config-invalid', {
          title: `(${a.name}) VRID ${a.virtualRouterId ?? 'unset'} here, ${b.virtualRouterId ?? 'unset'} on the peer`,
          detail: 'The two nodes run different virtual routers: neither hears the other, and both become MASTER. Use the same virtual_router_id on both.',
          evidence: [ev(a.loc, `virtual_router_id ${a.virtualRouterId ?? 'unset'}`), pev(b.loc, `virtual_router_id ${b.virtualRouterId ?? 'unset'}`)],
          location: loc,
          subject: a.name,
        }),
      );
      continue;
    }
    if (!sameAuth(a, b)) {
      out.push(
        finding('vrrp-auth-mismatch', {
          title: `(${a.name}) authentication differs from the peer's`,
          detail:
            'The nodes discard each other\'s adverts ("received an invalid passwd!") and both become MASTER. Use the same auth_type and auth_pass (keepalived compares the first 8 characters) on both, or none on either.',
          evidence: [
            ev(a.authentication?.loc ?? a.loc, `authentication ${a.authentication?.type || 'none'}`),
            pev(b.authentication?.loc ?? b.loc, `authentication ${b.authentication?.type || 'none'}`),
          ],
          location: { file: (a.authentication?.loc ?? a.loc).file, line: (a.authentication?.loc ?? a.loc).line },
          subject: a.name,
        }),
      );
    }
    const ai = a.advertInt ?? 1;
    const bi = b.advertInt ?? 1;
    if (ai !== bi) {
      out.push(
        finding('vrrp-advert-int-mismatch', {
          title: `(${a.name}) advert_int ${ai} here, ${bi} on the peer`,
          detail:
            'keepalived drops adverts whose interval differs from its own ("advertisement interval mismatch"), so the nodes do not hear each other. Use the same advert_int on both.',
          evidence: [ev(a.loc, `advert_int ${ai}`), pev(b.loc, `advert_int ${bi}`)],
          location: loc,
          subject: a.name,
        }),
      );
    }
    const va = vipSet(a);
    const vb = vipSet(b);
    if (va.join(' ') !== vb.join(' ')) {
      out.push(
        finding('keepalived-config-invalid', {
          title: `(${a.name}) VIPs differ from the peer's`,
          detail: `Here: ${va.join(' ') || 'none'}; on the peer: ${vb.join(' ') || 'none'}. keepalived logs "ip address associated with VRID ${a.virtualRouterId} not present in MASTER advert", and after a failover clients lose the addresses only one node carries. Give both nodes the same virtual_ipaddress list.`,
          evidence: [ev(a.loc, `virtual_ipaddress ${va.join(' ')}`), pev(b.loc, `virtual_ipaddress ${vb.join(' ')}`)],
          location: loc,
          subject: a.name,
        }),
      );
    }
    out.push(...unicastMirror(a, b));
    if (a.priority !== undefined && b.priority !== undefined && a.priority === b.priority) {
      out.push(
        finding('keepalived-config-invalid', {
          title: `(${a.name}) both nodes have priority ${a.priority}: no clear master`,
          detail:
            'With equal priorities the node with the higher IP address wins, which is rarely what was meant, and which node is master depends on start order with nopreempt. Give the intended master the higher priority.',
          evidence: [ev(a.loc, `priority ${a.priority}`), pev(b.loc, `priority ${b.priority}`)],
          location: loc,
          subject: a.name,
          severity: 'warning',
        }),
      );
    }
  }
  return out;
}

function unicastMirror(a: VrrpInstance, b: VrrpInstance): Finding[] {
  const out: Finding[] = [];
  const loc = { file: a.loc.file, line: a.loc.line };
  const aUni = a.unicastPeers.length > 0;
  const bUni = b.unicastPeers.length > 0;
  const problem = (title: string, detail: string, evidence: Evidence[]) =>
    out.push(finding('unicast-peer-invalid', { title: `(${a.name}) ${title}`, detail, evidence, location: loc, subject: a.name }));
  if (aUni !== bUni) {
    problem(
      `${aUni ? 'unicast here, multicast on the peer' : 'multicast here, unicast on the peer'}`,
      'One node sends adverts to its unicast peers, the other to the multicast group: a unicast node drops adverts from an address not in its unicast_peer list, so they never agree. Use unicast on both, each listing the other.',
      [
        ev(a.loc, aUni ? `unicast_peer ${a.unicastPeers.map((p) => p.address).join(' ')}` : 'no unicast_peer'),
        pev(b.loc, bUni ? `unicast_peer ${b.unicastPeers.map((p) => p.address).join(' ')}` : 'no unicast_peer'),
      ],
    );
    return out;
  }
  if (!aUni) return out;
  if (b.unicastSrcIp && !a.unicastPeers.some((p) => p.address === b.unicastSrcIp))
    problem(
      `does not list the peer's unicast_src_ip ${b.unicastSrcIp} as a unicast_peer`,
      `keepalived drops adverts from a source that is not in unicast_peer ("unicast source address ${b.unicastSrcIp} not a unicast peer"). Add ${b.unicastSrcIp} to this node's unicast_peer.`,
      [ev(a.loc, `unicast_peer ${a.unicastPeers.map((p) => p.address).join(' ')}`), pev(b.loc, `unicast_src_ip ${b.unicastSrcIp}`)],
    );
  if (a.unicastSrcIp && !b.unicastPeers.some((p) => p.address === a.unicastSrcIp))
    problem(
      `the peer does not list this node's unicast_src_ip ${a.unicastSrcIp} as a unicast_peer`,
      `The peer drops this node's adverts ("not a unicast peer") and becomes MASTER too. Add ${a.unicastSrcIp} to the peer's unicast_peer.`,
      [ev(a.loc, `unicast_src_ip ${a.unicastSrcIp}`), pev(b.loc, `unicast_peer ${b.unicastPeers.map((p) => p.address).join(' ')}`)],
    );
  if (a.unicastSrcIp && a.unicastPeers.some((p) => p.address === a.unicastSrcIp))
    problem(`lists its own unicast_src_ip ${a.unicastSrcIp} as a peer`, 'unicast_peer lists the other node(s), never this one.', [
      ev(a.loc, `unicast_src_ip ${a.unicastSrcIp}`),
    ]);
  return out;
}

const pairConsistency: Check = {
  id: 'keepalived-pair',
  title: "this node's keepalived.conf against the peer's",
  codes: ['vrrp-auth-mismatch', 'vrrp-advert-int-mismatch', 'unicast-peer-invalid', 'keepalived-config-invalid'],
  run(ctx) {
    const given = ctx.snapshot.options.peerConfig ?? ctx.snapshot.options.peerSnapshot ?? ctx.snapshot.options.peer;
    if (!given) throw new SkipCheck('no peer configuration given (--peer, --peer-config or --peer-snapshot)');
    const peer = peerKeepalivedConfig(ctx);
    if (!peer) throw new SkipCheck(`no readable keepalived configuration in ${given}`);
    const own = ctx.ourConfig();
    return [...comparePair(own.vrrpInstances, peer.result.config.vrrpInstances), ...compareSyncGroups(own, peer.result.config)];
  },
};

/** A sync group moves its members together, so every member must have the same winner: the node
 *  with the higher priority. When one member's priority favours this node and another's favours the
 *  peer (catalogue 32), each node preempts the member it wins and drags the group with it: the
 *  group flips back and forth, or settles on a node the other member's priority did not mean. */
export function compareSyncGroups(own: KeepalivedConfig, peer: KeepalivedConfig): Finding[] {
  const out: Finding[] = [];
  for (const g of own.vrrpSyncGroups) {
    const rows = g.members.flatMap((m) => {
      const a = own.vrrpInstances.find((i) => i.name === m);
      const b = a ? (peer.vrrpInstances.find((p) => p.name === a.name) ?? peer.vrrpInstances.find((p) => p.virtualRouterId === a.virtualRouterId)) : undefined;
      if (!a || !b) return [];
      const pa = a.priority ?? 100;
      const pb = b.priority ?? 100;
      return [{ a, b, pa, pb, winner: pa > pb ? 'here' : pa < pb ? 'peer' : 'tie' }];
    });
    const here = rows.filter((r) => r.winner === 'here');
    const there = rows.filter((r) => r.winner === 'peer');
    if (!here.length || !there.length) continue;
    const words = (r: (typeof rows)[number]) => `${r.a.name} ${r.pa} here, ${r.pb} on the peer`;
    out.push(
      finding('keepalived-config-invalid', {
        title: `(${g.name}) the sync group's members disagree on the master: ${here.map((r) => r.a.name).join(', ')} prefer${here.length === 1 ? 's' : ''} this node, ${there.map((r) => r.a.name).join(', ')} the peer`,
        detail: `Priorities: ${rows.map(words).join('; ')}. A sync group keeps its members in one state, so each node wins one member's election and drags the whole group with it: the group flips between the nodes (each flip moves every VIP, and SNATed connections break) or sticks on the node the other member's priority did not mean. Give every member of ${g.name} the higher priority on the same node (the intended master), and let track weights move all of them together (\`sync_group_tracking_weight\` or the same track on every member).`,
        evidence: rows.flatMap((r) => [ev(r.a.loc, `${r.a.name}: priority ${r.pa}`), pev(r.b.loc, `${r.b.name}: priority ${r.pb}`)]),
        location: { file: g.loc.file, line: g.loc.line },
        subject: g.name,
      }),
    );
  }
  return out;
}

// ---------------------------------------------------------------- the pair, live (both snapshots)
// Who holds each VIP now, from both nodes' addresses (no --wire needed): both -> vrrp-split-brain,
// neither while both run keepalived -> vip-state-mismatch; VRRP versions -> vrrp-version-mismatch;
// the master's negative track weights against the backup's priority -> nopreempt-ineffective.

function weightOf(cfg: KeepalivedConfig, name: string, own: number | undefined): number | undefined {
  return own ?? cfg.vrrpScripts.find((s) => s.name === name)?.weight;
}

/** How far failing tracks can lower this instance's priority (a sum of negative weights); undefined: none is weighted. */
function worstDrop(cfg: KeepalivedConfig, vi: VrrpInstance): number | undefined {
  const weights = [...vi.trackScripts.map((t) => weightOf(cfg, t.name, t.weight)), ...vi.trackInterfaces.map((t) => t.weight)].filter(
    (w): w is number => w !== undefined && w !== 0,
  );
  if (!weights.length) return undefined;
  return weights.filter((w) => w < 0).reduce((a, b) => a + b, 0);
}

function ipEvidence(node: string, probe: string, vip: string): Evidence {
  return { probe, excerpt: `${node}: holds ${vip}` };
}

const pairLive: Check = {
  id: 'keepalived-pair-live',
  title: 'who holds each VIP, on both nodes',
  codes: ['vrrp-split-brain', 'vip-state-mismatch', 'vrrp-version-mismatch', 'nopreempt-ineffective'],
  run(ctx) {
    const peer = peerSnapshot(ctx);
    if (!peer) throw new SkipCheck("needs the other node's snapshot (--peer HOST or --peer-snapshot FILE)");
    const pctx = new CheckContext(peer);
    const own = ctx.ourConfig();
    const theirs = keepalivedConfig(pctx).result?.config;
    if (!ctx.output(PROBE_IP_ADDR) || !pctx.output(PROBE_IP_ADDR)) throw new SkipCheck('the addresses of both nodes are needed (ip -j addr)');
    const peerName = ctx.snapshot.options.peer ?? peer.host.hostname;
    const mine = new Set(localAddresses(ctx).map((a) => a.address));
    const there = new Set(localAddresses(pctx).map((a) => a.address));
    const myStates = new Map(instanceStates(ctx).map((s) => [s.name, s] as const));
    const theirStates = new Map<string, InstanceState>(instanceStates(pctx).map((s) => [s.name, s] as const));
    const bothRun = daemonStatus(ctx).daemon !== undefined && ourKeepalived(peer.probes) !== undefined;
    const out: Finding[] = [];
    for (const vi of own.vrrpInstances) {
      const other = theirs?.vrrpInstances.find((p) => p.name === vi.name) ?? theirs?.vrrpInstances.find((p) => p.virtualRouterId === vi.virtualRouterId);
      const state = (m: Map<string, InstanceState>, n: string | undefined) => (n ? (m.get(n)?.state ?? 'UNKNOWN') : 'UNKNOWN');
      const both = vi.virtualIpaddresses.map((v) => v.address).filter((a) => mine.has(a) && there.has(a));
      if (both.length) {
        out.push(
          finding('vrrp-split-brain', {
            title: `${vi.name} (VRID ${vi.virtualRouterId ?? '?'}): both nodes hold ${both.join(', ')}`,
            detail: `This node (${state(myStates, vi.name)}) and the peer ${peerName} (${state(theirStates, other?.name)}) both carry ${both.join(', ')}: a split brain. Clients and upstream routers reach either node at random, and SNATed connections break. One node does not hear the other's adverts: a firewall dropping VRRP, SNAT rewriting the adverts, or a mismatched VRID, password or interval.`,
            evidence: both.flatMap((a) => [ipEvidence('this node', 'ip-addr', a), ipEvidence(peerName, `${peerName}:ip-addr`, a)]),
            subject: vi.name,
          }),
        );
      }
      const none = vi.virtualIpaddresses.map((v) => v.address).filter((a) => !mine.has(a) && !there.has(a));
      if (none.length && bothRun && other) {
        out.push(
          finding('vip-state-mismatch', {
            title: `${vi.name}: neither node holds ${none.join(', ')}`,
            detail: `Both nodes run keepalived, yet no node carries ${none.join(', ')} (this node ${state(myStates, vi.name)}, the peer ${peerName} ${state(theirStates, other.name)}): clients have no gateway. Look for an instance in FAULT and for a VIP removed by hand or by a network manager.`,
            evidence: [
              { probe: PROBE_IP_ADDR, excerpt: `this node: no ${none.join(', ')}` },
              { probe: `${peerName}:ip-addr`, excerpt: `${peerName}: no ${none.join(', ')}` },
            ],
            subject: vi.name,
          }),
        );
      }
      if (!other || !theirs) continue;
      // the instance's own version, else global_defs vrrp_version, else 2 (IPv6: 3)
      const va = effectiveVersion(own, vi);
      const vb = effectiveVersion(theirs, other);
      const whence = (v: VrrpInstance, c: KeepalivedConfig) =>
        v.version !== undefined ? 'version in the instance' : c.globalDefs.vrrpVersion !== undefined ? 'vrrp_version in global_defs' : 'the default';
      if (va !== vb) {
        out.push(
          finding('vrrp-version-mismatch', {
            title: `(${vi.name}) VRRP version ${va} here, ${vb} on the peer ${peerName}`,
            detail:
              'keepalived drops adverts of the other VRRP version, so neither node hears the other and both become MASTER. Use the same version (vrrp_version in global_defs, or version in the instance) on both.',
            evidence: [
              ev(vi.loc, `version ${va} (${whence(vi, own)})`),
              { probe: `${peerName}:kconf:${other.loc.file}`, excerpt: `${at(other.loc)}: version ${vb} (${whence(other, theirs)})` },
            ],
            location: { file: vi.loc.file, line: vi.loc.line },
            subject: vi.name,
          }),
        );
      }
      // the intended master: the higher priority; can its failing tracks hand the VIP over?
      const [master, mcfg, backup, mname] =
        (vi.priority ?? 100) >= (other.priority ?? 100) ? ([vi, own, other, 'this node'] as const) : ([other, theirs, vi, `the peer ${peerName}`] as const);
      const drop = worstDrop(mcfg, master);
      if (drop !== undefined && master.priority !== undefined && backup.priority !== undefined && master.priority + drop >= backup.priority) {
        out.push(
          finding('nopreempt-ineffective', {
            title: `(${vi.name}) the track weights of ${mname} cannot move the VIP: ${master.priority}${drop} = ${master.priority + drop}, the other node has ${backup.priority}`,
            detail: `Even with every weighted track failing, ${mname} keeps priority ${master.priority + drop}, not below the other node's ${backup.priority}, so it stays MASTER with a failed check. Make the weights larger (in absolute value) than the priority gap of ${master.priority - backup.priority}, or use a track without weight (FAULT on failure).`,
            evidence: [
              ev(vi.loc, `priority ${vi.priority ?? 'unset'}`),
              { probe: `${peerName}:kconf:${other.loc.file}`, excerpt: `${at(other.loc)}: priority ${other.priority ?? 'unset'}` },
            ],
            location: { file: vi.loc.file, line: vi.loc.line },
            subject: vi.name,
            severity: 'warning',
          }),
        );
      }
    }
    return out;
  },
};

export const keepalivedPairChecks: Check[] = [pairConsistency, pairLive];
