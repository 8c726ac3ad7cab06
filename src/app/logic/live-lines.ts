// Triage's live block, as lines (pure, tested): each instance's state since when and how long
// ago, its last transitions with their causes, the VIPs held, the peer's adverts and how long it
// has been silent, and the latest events. Lines are wrapped to the width, never cut.
import type { LiveState } from '../../watch/watcher.js';
import type { WatchEvent } from '../../watch/events.js';
import type { Line } from '../components/scroll-view.js';

export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const hhmmss = (ms: number) => {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
};

export function liveLines(state: LiveState, events: readonly WatchEvent[], now: number): Line[] {
  const out: Line[] = [];
  if (!state.instances.length) out.push({ text: 'No VRRP instance known yet (reading this node…)', tone: 'muted' });
  for (const i of state.instances) {
    const since = i.since !== undefined ? ` since ${hhmmss(i.since)} (${ago(now - i.since)} ago)` : '';
    out.push({
      text: `${i.name}  ${i.state}${since}`,
      tone: i.state === 'MASTER' ? 'ok' : i.state === 'FAULT' || i.state === 'STOP' ? 'error' : 'plain',
      bold: true,
    });
  }
  const transitions = state.instances
    .flatMap((i) => i.transitions.map((t) => ({ ...t, instance: i.name })))
    .sort((a, b) => b.at - a.at)
    .slice(0, 4);
  for (const t of transitions) out.push({ text: `  ${hhmmss(t.at)}  ${t.instance} ${t.from ?? '?'} -> ${t.to}: ${t.cause}`, tone: 'muted' });
  out.push({ text: `VIPs held: ${state.vips.length ? state.vips.map((v) => `${v.address} on ${v.interface}`).join(', ') : 'none'}` });
  out.push(...peerLines(state, now));
  const shown = events
    .filter((e) => e.kind !== 'watch' && !(e as { initial?: boolean }).initial)
    .slice(-5)
    .reverse();
  if (shown.length) {
    out.push({ text: 'Latest events', bold: true });
    for (const e of shown)
      out.push({ text: `  ${e.time.slice(11, 19)}  ${eventText(e)}`, tone: e.kind === 'finding' && e.change === 'appeared' ? 'warning' : 'plain' });
  }
  const check = state.checking ? 'checking now…' : state.lastCheck ? `last light check ${ago(now - state.lastCheck)} ago` : 'first check…';
  out.push({ text: `live: ${state.log ? `keepalived's log ${state.log}` : "keepalived's log not followed"}, address events; ${check}`, tone: 'muted' });
  return out;
}

function peerLines(state: LiveState, now: number): Line[] {
  if (state.wire === 'off') return [{ text: "Peer's adverts: not followed (w: follow them on the wire)", tone: 'muted' }];
  if (state.wire === 'failed') return [{ text: `Peer's adverts: the wire cannot be followed: ${state.wireNote ?? 'tcpdump ended'}`, tone: 'warning' }];
  if (!state.peers.length)
    return [
      {
        text: state.wire === 'starting' ? "Peer's adverts: starting tcpdump…" : "Peer's adverts: none seen on the wire yet",
        tone: state.wire === 'on' ? 'warning' : 'muted',
      },
    ];
  return state.peers.map((p) => {
    const quiet = now - p.lastSeen;
    return p.silent
      ? { text: `Peer ${p.from} vrid ${p.vrid}: SILENT ${ago(quiet)} (last priority ${p.priority})`, tone: 'error' as const, bold: true }
      : { text: `Peer ${p.from} vrid ${p.vrid} priority ${p.priority}: last advert ${(quiet / 1000).toFixed(1)} s ago`, tone: 'ok' as const };
  });
}

export function eventText(e: WatchEvent): string {
  switch (e.kind) {
    case 'state':
      return `${e.instance} ${e.from ?? '?'} -> ${e.to} (${e.cause})`;
    case 'vip':
      return `VIP ${e.address} ${e.change} on ${e.interface}`;
    case 'advert':
      return e.message;
    case 'finding':
      return `${e.change === 'appeared' ? 'new' : 'cleared'}: ${e.code}${e.subject ? ` [${e.subject}]` : ''} ${e.title}`;
    case 'change':
      return `change ${e.id}: ${e.previous ? `${e.previous} -> ` : ''}${e.state} (${e.summary})`;
    case 'watch':
      return e.message;
  }
}

export { wrapLine, wrapLines } from './wrap.js';
