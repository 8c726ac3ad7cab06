// What the checks read of VRRP: the wire capture (--wire) and keepalived's log events, each
// parsed once per analysis through ctx.memo.
import type { CheckContext } from '../context.js';
import { SkipCheck } from '../context.js';
import type { ProbeRecord } from '../types.js';
import { WIRE_PROBE_PREFIX } from '../probes/vrrp.js';
import { parseAdverts, summariseAdverts, type VrrpAdvert, type VridSummary } from './adverts.js';
import { parseVrrpLog, type VrrpLogEvent } from './log.js';
import { buildTimeline, parseSince, type Timeline } from './timeline.js';
import { keepalivedLogText, localAddresses } from '../state.js';
import { PROBE_IP_ADDR, type ProbeId } from '../probes/ids.js';

export interface WireView {
  probes: string[];
  adverts: VrrpAdvert[];
  byVrid: VridSummary[];
  /** the shortest window actually listened, seconds */
  seconds: number;
  localAddrs: string[];
}

function localMacs(ctx: CheckContext): string[] {
  const text = ctx.output(PROBE_IP_ADDR);
  if (!text) return [];
  try {
    return (JSON.parse(text) as Array<{ address?: string; link_type?: string }>)
      .filter((l) => l.link_type !== 'loopback' && l.address)
      .map((l) => l.address!.toLowerCase());
  } catch {
    return [];
  }
}

function wireRecords(ctx: CheckContext): ProbeRecord[] {
  return Object.values(ctx.snapshot.probes).filter((r) => r.id.startsWith(WIRE_PROBE_PREFIX));
}

/** The capture, or SkipCheck with the reason (not asked for, not root, no tcpdump). */
export function wireView(ctx: CheckContext): WireView {
  const v = ctx.memo('vrrp-wire-view', (): WireView | string => {
    const recs = wireRecords(ctx);
    if (!recs.length) return ctx.snapshot.options.wire ? 'the wire capture was not collected' : 'the wire view needs --wire';
    const ok = recs.filter((r) => r.status === 'ok' && r.exitCode !== 127 && r.exitCode !== 126);
    if (!ok.length) {
      const r = recs[0]!;
      if (r.status === 'ok' && (r.exitCode === 127 || r.exitCode === 126)) return 'tcpdump is not installed (or not executable)';
      return `wire capture: ${r.reason ?? r.status}`;
    }
    // timeout's 124 is the normal end of the window; tcpdump's own 1 is an error (bad interface...)
    const usable = ok.filter((r) => r.exitCode === 124 || r.exitCode === 0);
    if (!usable.length) return `tcpdump failed: ${(ok[0]!.stderr || ok[0]!.stdout).trim().split('\n').at(-1) ?? `exit ${ok[0]!.exitCode}`}`;
    const adverts = usable.flatMap((r) => parseAdverts(`${r.stdout}\n${r.stderr}`).adverts);
    const localAddrs = localAddresses(ctx).map((a) => a.address);
    const seconds = Math.min(...usable.map((r) => Number(r.argv?.[1]) || 0));
    return {
      probes: usable.map((r) => r.id),
      adverts,
      byVrid: summariseAdverts(adverts, { localMacs: localMacs(ctx), localAddresses: localAddrs }),
      seconds,
      localAddrs,
    };
  });
  if (typeof v === 'string') throw new SkipCheck(v);
  return v;
}

export function hasWire(ctx: CheckContext): boolean {
  try {
    wireView(ctx);
    return true;
  } catch {
    return false;
  }
}

export interface LogView {
  probe: ProbeId;
  events: VrrpLogEvent[];
  timeline: Timeline;
  now: number;
  since: number;
}

export const DEFAULT_SINCE = '24h';

/** keepalived's log events within --since (default 24 h) of the snapshot, or undefined without a log. */
export function logView(ctx: CheckContext): LogView | undefined {
  return ctx.memo('vrrp-log-view', () => {
    const log = keepalivedLogText(ctx);
    if (!log) return undefined;
    const now = Date.parse(ctx.snapshot.createdAt) || Date.now();
    const since = parseSince(ctx.snapshot.options.since ?? DEFAULT_SINCE, now) ?? now - 86_400_000;
    const events = parseVrrpLog(log.text, { now, since, ...(log.pids ? { pids: log.pids } : {}) });
    return { probe: log.probe, events, timeline: buildTimeline(events, { now, since }), now, since };
  });
}

/** Redact simple-auth passwords from tcpdump lines before they go into a report. */
export function redactAuth(line: string): string {
  return line.replace(/auth "(?:[^"\\]|\\.)*"/g, 'auth "***"');
}

export interface WireWho {
  /** adverts from another node were seen (source address not this node's) */
  peerSeen: boolean;
  /** the other nodes' addresses, with the VRIDs they advertised */
  peers: Array<{ src: string; vrids: number[] }>;
  /** this node's own adverts were seen */
  ownSeen: boolean;
  /** one line: whose adverts the capture holds */
  line: string;
}

/** Whose adverts the capture saw. "peer seen" only for adverts from another node: a source
 *  address that is not one of this node's, sent by another host. This node's own adverts (they
 *  show up in every capture on its interface) never count as the peer. */
export function wireWho(view: Pick<WireView, 'byVrid' | 'localAddrs' | 'seconds'>): WireWho {
  const local = new Set(view.localAddrs);
  const peers = new Map<string, number[]>();
  let ownSeen = false;
  for (const v of view.byVrid) {
    for (const s of v.sources) {
      if (s.local || local.has(s.src)) ownSeen = true;
      else peers.set(s.src, [...(peers.get(s.src) ?? []), v.vrid]);
    }
  }
  const list = [...peers].map(([src, vrids]) => ({ src, vrids: [...new Set(vrids)].sort((a, b) => a - b) }));
  let line: string;
  if (list.length)
    line = `peer seen: adverts from ${list.map((p) => `${p.src} (vrid ${p.vrids.join(',')})`).join(', ')}${ownSeen ? ", and this node's own" : ''}`;
  else if (ownSeen) line = `only this node's own adverts seen in ${view.seconds} s: no advert from another node`;
  else line = `no VRRP advert seen in ${view.seconds} s`;
  return { peerSeen: list.length > 0, peers: list, ownSeen, line };
}

/** For `check --wire` in text: what the capture saw and whose adverts they were. */
export function wireSummaryLines(ctx: CheckContext): string[] {
  try {
    const view = wireView(ctx);
    const who = wireWho(view);
    return [`Wire (${view.adverts.length} VRRP adverts in ${view.seconds} s, before the firewall): ${who.line}`];
  } catch (err) {
    if (err instanceof SkipCheck) return [`Wire: not measured (${err.message})`];
    throw err;
  }
}
