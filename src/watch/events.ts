// The events `hagw-doctor watch` emits, one JSON object a line (--format jsonl) or one line of text.
// Schema (additive, like the report's v1): every event has time (ISO 8601 with the zone offset),
// node and kind; the rest depends on the kind.
import { visibleLine } from '../report/escape.js';
import type { Severity } from '../types.js';
import { isoTime } from '../time.js';

export { isoTime };

export type WatchKind = 'state' | 'vip' | 'advert' | 'finding' | 'change' | 'watch';

interface Base {
  /** when the doctor saw it: ISO 8601 with milliseconds and the local zone offset */
  time: string;
  node: string;
  kind: WatchKind;
}

export interface StateEvent extends Base {
  kind: 'state';
  instance: string;
  /** null: not known before (the first reading, or keepalived's first state after start) */
  from: string | null;
  to: string;
  /** the likely cause, in words ("the master sent priority 0"); "current state" for the first reading */
  cause: string;
  /** the log line's own timestamp, as written, when the event came from the log */
  logTime?: string;
  /** the first reading (where watch started), not a change */
  initial?: boolean;
  /** when the instance entered this state, ISO 8601, when known */
  since?: string;
}

export interface VipEvent extends Base {
  kind: 'vip';
  /** address/prefix as the kernel reported it */
  address: string;
  interface: string;
  change: 'added' | 'removed' | 'held';
  /** the instance whose virtual_ipaddress it is, when the config says */
  instance?: string;
}

export interface AdvertEvent extends Base {
  kind: 'advert';
  /** silent: no advert from that source for `silentSeconds`; resumed: adverts again; seen: a new source; error: keepalived rejected adverts */
  change: 'silent' | 'resumed' | 'seen' | 'error' | 'timeout';
  vrid?: number;
  instance?: string;
  /** the advertising address */
  from?: string;
  priority?: number;
  silentSeconds?: number;
  message: string;
}

export interface FindingEvent extends Base {
  kind: 'finding';
  change: 'appeared' | 'cleared';
  code: string;
  severity: Severity;
  title: string;
  subject?: string;
}

export interface ChangeEvent extends Base {
  kind: 'change';
  id: string;
  /** the change engine's state: applying, pending, confirmed, rolled-back, failed */
  state: string;
  previous?: string;
  summary: string;
  /** pending: the automatic rollback deadline, ISO 8601 */
  deadline?: string;
}

/** about the watch itself: started, a source it could not follow, the light check's cadence */
export interface WatchNoticeEvent extends Base {
  kind: 'watch';
  message: string;
  level: 'info' | 'warning';
}

export type WatchEvent = StateEvent | VipEvent | AdvertEvent | FindingEvent | ChangeEvent | WatchNoticeEvent;

export function toJsonLine(e: WatchEvent): string {
  // JSON.stringify escapes C0; C1 is escaped too, so a line is safe to cat on a terminal
  return JSON.stringify(e).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line of text: "04:35:57.123 gw2 state VI_LAN BACKUP -> MASTER (the master sent priority 0)". */
export function toTextLine(e: WatchEvent): string {
  const t = e.time.slice(11, 23);
  const head = `${t} ${e.node}`;
  let body: string;
  switch (e.kind) {
    case 'state':
      body = e.initial
        ? `state ${e.instance} ${e.to}${e.since ? ` since ${e.since.slice(11, 19)}` : ''} (where watch starts)`
        : `state ${e.instance} ${e.from ?? '?'} -> ${e.to} (${e.cause})`;
      break;
    case 'vip':
      body = `vip ${e.address} ${e.change === 'held' ? 'held' : e.change} on ${e.interface}${e.instance ? ` (${e.instance})` : ''}`;
      break;
    case 'advert':
      body = `advert ${e.message}`;
      break;
    case 'finding':
      body = `finding ${e.change === 'appeared' ? '+' : '-'} ${e.severity.toUpperCase()} ${e.code}${e.subject ? ` [${e.subject}]` : ''}: ${e.title}`;
      break;
    case 'change':
      body = `change ${e.id} ${e.previous ? `${e.previous} -> ` : ''}${e.state}: ${e.summary}${e.deadline ? ` (rolls back at ${e.deadline.slice(11, 19)} unless confirmed)` : ''}`;
      break;
    case 'watch':
      body = `${e.level === 'warning' ? 'watch warning' : 'watch'}: ${e.message}`;
      break;
  }
  // one line: host text (names, messages) never drives the terminal, newlines and bidi overrides included
  return visibleLine(`${head} ${body}`);
}
