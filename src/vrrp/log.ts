// keepalived's log lines, 1.x and 2.x, with syslog / journald short-iso / console prefixes.
//
// 2.x (2.2.7 -l -D, captured): "Sun Nov 22 02:40:50 2026: (VI_1) Entering MASTER STATE"
// 2.x syslog:  "Nov 22 02:40:50 gw2 Keepalived_vrrp[6621]: (VI_1) Entering MASTER STATE"
// journald:    "2026-11-22T02:40:50+0000 gw2 Keepalived_vrrp[6621]: (VI_1) Entering MASTER STATE"
// 1.x syslog:  "Nov 22 02:40:50 gw2 Keepalived_vrrp[6621]: VRRP_Instance(VI_1) Transition to MASTER STATE"
// 1.x console (-l) has no timestamp in some builds: the line starts at the message.
//
// parseLogLine/parseLog return state changes only (what src/state.ts needs); parseVrrpLogLine /
// parseVrrpLog return every event the timeline and the checks read.

export type VrrpState = 'MASTER' | 'BACKUP' | 'FAULT' | 'INIT' | 'STOP';

interface EventBase {
  /** the timestamp as written (syslog "Nov 22 02:34:14", ISO, console ctime), absent when the line has none */
  time?: string;
  /** the timestamp in ms since the epoch, when it could be read (syslog has no year: taken from `now`) */
  ts?: number;
  pid?: number;
  instance?: string;
  /** the line number in the text (1-based; from the end when read backwards: see parseVrrpLog) */
  line: number;
  raw: string;
}

export interface LogEvent extends EventBase {
  kind: 'state';
  state: VrrpState;
  /** the reason keepalived gives in parentheses, e.g. "interface eth0 down" (FAULT, newer builds) */
  reason?: string;
  /** "(init)": the state keepalived starts in, not a change */
  init?: boolean;
  /** 1.x "Transition to X STATE": the wish, confirmed by a following "Entering X STATE" */
  intent?: boolean;
}

export type TriggerKind =
  | 'priority-zero'
  | 'higher-priority'
  | 'lower-priority-election'
  | 'lower-priority-discarded'
  | 'advert-timeout'
  | 'track-script-failed'
  | 'track-script-ok'
  | 'interface-down'
  | 'interface-up'
  | 'sent-priority-zero'
  | 'stopping'
  | 'starting'
  | 'reloading'
  /** "VRRP_Group(G) Syncing instances to X state": a sync group pulls its members along */
  | 'sync-group'
  /** "A thread timer expired N seconds ago": keepalived was not scheduled in time */
  | 'timer-late';

export interface TriggerEvent extends EventBase {
  kind: 'trigger';
  trigger: TriggerKind;
  peer?: string;
  priority?: number;
  ours?: number;
  script?: string;
  iface?: string;
  version?: string;
  /** sync-group: the group, the member it syncs (1.x names it) and the state it syncs to */
  group?: string;
  member?: string;
  state?: VrrpState;
  /** timer-late: how late, in seconds */
  seconds?: number;
}

/** advert errors: each one means the advert was dropped by keepalived */
export type ProblemKind = 'auth' | 'advert-int' | 'vrid' | 'send' | 'unicast-peer' | 'version';

export interface ProblemEvent extends EventBase {
  kind: 'problem';
  problem: ProblemKind;
  /** the message without prefix and instance */
  message: string;
  peer?: string;
  /** version: the version received and the one expected ("wrong version. Received 3 and expect 2") */
  received?: number;
  expected?: number;
}

export type ScriptEventKind = 'not-executable' | 'unsafe' | 'security-off' | 'notify-run' | 'notify-failed';

export interface ScriptEvent extends EventBase {
  kind: 'script';
  script: ScriptEventKind;
  path?: string;
  message: string;
}

export type VrrpLogEvent = LogEvent | TriggerEvent | ProblemEvent | ScriptEvent;

// ---------------------------------------------------------------- prefixes and timestamps

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

const ISO_RE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})?/;
const CONSOLE_RE = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})/;
const SYSLOG_RE = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})/;
const PID_RE = /Keepalived(?:_vrrp|_healthcheckers|_bfd)?\[(\d+)\]/;
// where the message starts: after "Keepalived_vrrp[PID]: " (syslog/journald) or "YYYY: " (2.x console)
const MSG_RE = /(?:Keepalived(?:_vrrp|_healthcheckers|_bfd)?(?:\[\d+\])?:\s|^[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4}:\s)/;

export interface TimeContext {
  /** ms since the epoch: syslog lines carry no year, so the year is the one that puts the line at or before now */
  now?: number;
}

/** The timestamp at the start of a log line, as written and as ms since the epoch (local time when no zone is written). */
export function lineTimestamp(raw: string, tc: TimeContext = {}): { time: string; ts?: number } | undefined {
  const iso = ISO_RE.exec(raw);
  if (iso) {
    let zone = iso[3] ?? '';
    if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
    const ts = Date.parse(`${iso[1]}T${iso[2]}${zone}`);
    return { time: iso[0], ...(Number.isFinite(ts) ? { ts } : {}) };
  }
  const con = CONSOLE_RE.exec(raw);
  if (con) {
    const mon = MONTHS[con[1]!];
    if (mon === undefined) return { time: con[0] };
    const ts = new Date(Number(con[6]), mon, Number(con[2]), Number(con[3]), Number(con[4]), Number(con[5])).getTime();
    return { time: con[0], ts };
  }
  const sys = SYSLOG_RE.exec(raw);
  if (sys) {
    const mon = MONTHS[sys[1]!];
    if (mon === undefined) return undefined;
    const now = tc.now ?? Date.now();
    const year = new Date(now).getFullYear();
    const at = (y: number) => new Date(y, mon, Number(sys[2]), Number(sys[3]), Number(sys[4]), Number(sys[5])).getTime();
    let ts = at(year);
    // a December line read in January belongs to last year
    if (ts > now + 2 * 86400_000) ts = at(year - 1);
    return { time: sys[0], ts };
  }
  return undefined;
}

function messageOf(raw: string): string {
  const m = MSG_RE.exec(raw);
  return (m ? raw.slice(m.index + m[0].length) : raw).trim();
}

// ---------------------------------------------------------------- one line

const INSTANCE_RE = /^(?:VRRP_Instance)?\(([^()\s]+)\):?\s+/;

type Parsed = Omit<LogEvent, keyof EventBase> | Omit<TriggerEvent, keyof EventBase> | Omit<ProblemEvent, keyof EventBase> | Omit<ScriptEvent, keyof EventBase>;

function classify(msg: string): Parsed | null {
  let m: RegExpExecArray | null;
  // ---- state
  if ((m = /^(Entering|entering|Transition to) (MASTER|BACKUP|FAULT|INIT|STOP) (?:STATE|state)(?:\s*\(([^)]*)\))?/.exec(msg))) {
    const init = m[3] === 'init';
    const reason = !init && m[3] ? m[3].trim() : undefined;
    return {
      kind: 'state',
      state: m[2] as VrrpState,
      ...(init ? { init: true } : {}),
      ...(reason ? { reason } : {}),
      ...(m[1] === 'Transition to' ? { intent: true } : {}),
    };
  }
  if (/^Now in FAULT state/.test(msg)) return { kind: 'state', state: 'FAULT' };
  // ---- triggers
  if (/priority 0 advert/i.test(msg) || /^Received advert with priority 0/.test(msg)) return { kind: 'trigger', trigger: 'priority-zero' };
  if ((m = /^Master received advert from (\S+) with higher priority (\d+), ours (\d+)/.exec(msg))) {
    return { kind: 'trigger', trigger: 'higher-priority', peer: m[1]!, priority: Number(m[2]), ours: Number(m[3]) };
  }
  if ((m = /^Received higher prio advert(?: (\d+))?/.exec(msg)))
    return { kind: 'trigger', trigger: 'higher-priority', ...(m[1] ? { priority: Number(m[1]) } : {}) };
  if ((m = /^Received advert from (\S+) with lower priority (\d+), ours (\d+), forcing new election/.exec(msg))) {
    return { kind: 'trigger', trigger: 'lower-priority-election', peer: m[1]!, priority: Number(m[2]), ours: Number(m[3]) };
  }
  if (/^Received lower prio advert, forcing new election/.test(msg) || /^forcing a new MASTER election/.test(msg)) {
    return { kind: 'trigger', trigger: 'lower-priority-election' };
  }
  if ((m = /^received lower priority \((\d+)\) advert from (\S+) - discarding/.exec(msg))) {
    return { kind: 'trigger', trigger: 'lower-priority-discarded', priority: Number(m[1]), peer: m[2]! };
  }
  if (/^Receive advertisement timeout/.test(msg)) return { kind: 'trigger', trigger: 'advert-timeout' };
  if ((m = /^VRRP_Script\(([^)]+)\) failed/.exec(msg))) return { kind: 'trigger', trigger: 'track-script-failed', script: m[1]! };
  if ((m = /^VRRP_Script\(([^)]+)\) succeeded/.exec(msg))) return { kind: 'trigger', trigger: 'track-script-ok', script: m[1]! };
  if ((m = /^(?:Netlink reports (\S+) down|Kernel is reporting: interface (\S+) DOWN)/.exec(msg)))
    return { kind: 'trigger', trigger: 'interface-down', iface: (m[1] ?? m[2])! };
  if ((m = /^(?:Netlink reports (\S+) up|Kernel is reporting: interface (\S+) UP)/.exec(msg)))
    return { kind: 'trigger', trigger: 'interface-up', iface: (m[1] ?? m[2])! };
  if (/^(?:sent|sending) 0 priority/.test(msg)) return { kind: 'trigger', trigger: 'sent-priority-zero' };
  if (/^Stopping(?: Keepalived)?\b/.test(msg) && !/Stopping (?:healthchecker|VRRP|BFD) child/i.test(msg)) return { kind: 'trigger', trigger: 'stopping' };
  if ((m = /^Starting Keepalived v(\S+)/.exec(msg))) return { kind: 'trigger', trigger: 'starting', version: m[1]! };
  if (/^Reloading\b/.test(msg)) return { kind: 'trigger', trigger: 'reloading' };
  // 2.x "VRRP_Group(G) Syncing instances to FAULT state"; 1.x "VRRP_Group(G): Syncing vrrp.1 to FAULT state"
  if ((m = /^VRRP_Group\(([^)]+)\):? Syncing (?:instances|(\S+)) to (MASTER|BACKUP|FAULT) state/.exec(msg))) {
    return { kind: 'trigger', trigger: 'sync-group', group: m[1]!, state: m[3] as VrrpState, ...(m[2] ? { member: m[2] } : {}) };
  }
  if ((m = /A thread timer expired ([\d.]+) seconds ago/.exec(msg))) return { kind: 'trigger', trigger: 'timer-late', seconds: Number(m[1]) };
  // ---- VRRP version (v2/v3) or v3 checksum mismatch between the peers
  if ((m = /wrong version\. Received (\d+) and expect (\d+)/.exec(msg))) {
    return { kind: 'problem', problem: 'version', message: msg, received: Number(m[1]), expected: Number(m[2]) };
  }
  if (/Invalid VRRPv3 checksum/i.test(msg)) return { kind: 'problem', problem: 'version', message: msg };
  // ---- advert errors (1.x spelled "advertissement", 2.x says rcv'd, 1.x rcved)
  if (/invalid passwd/.test(msg) || /^receiv(?:e|ed) a \d+ auth, expecting \d+/.test(msg) || /IPSEC-AH : invalid/.test(msg)) {
    return { kind: 'problem', problem: 'auth', message: msg };
  }
  if (/advertis?sement interval mismatch/.test(msg)) return { kind: 'problem', problem: 'advert-int', message: msg };
  if (/ip address associated with VRID/.test(msg) || /VIP associated with\s+VRID mismatch/.test(msg) || /(?:unexpected|invalid) ip number count/.test(msg)) {
    return { kind: 'problem', problem: 'vrid', message: msg };
  }
  if ((m = /(?:send advert error|Cant send advert(?: to (\S+))?)/.exec(msg)))
    return { kind: 'problem', problem: 'send', message: msg, ...(m[1] ? { peer: m[1] } : {}) };
  if ((m = /unicast source address (\S+) not a unicast peer/.exec(msg))) return { kind: 'problem', problem: 'unicast-peer', message: msg, peer: m[1]! };
  // ---- scripts
  if ((m = /WARNING - script '([^']+)' is not executable/.exec(msg))) return { kind: 'script', script: 'not-executable', path: m[1]!, message: msg };
  if ((m = /Unsafe permissions found for script '([^']+)'/.exec(msg))) return { kind: 'script', script: 'unsafe', path: m[1]!, message: msg };
  if (/SECURITY VIOLATION - scripts are being executed but script_security not enabled/.test(msg))
    return { kind: 'script', script: 'security-off', message: msg };
  if ((m = /^Opening script file (\S+)/.exec(msg))) return { kind: 'script', script: 'notify-run', path: m[1]!, message: msg };
  if ((m = /notify.*?(?:'([^']+)'|`([^`]+)`|(\/\S+))?.*(?:exited with status [1-9]\d*|timed out|failed)/i.exec(msg))) {
    const path = m[1] ?? m[2] ?? m[3];
    return { kind: 'script', script: 'notify-failed', message: msg, ...(path ? { path } : {}) };
  }
  return null;
}

/** Every event a line carries, or null (most lines carry none: ARPs, addresses, sockets). */
export function parseVrrpLogLine(raw: string, line = 0, tc: TimeContext = {}): VrrpLogEvent | null {
  let msg = messageOf(raw);
  const inst = INSTANCE_RE.exec(msg);
  if (inst) msg = msg.slice(inst[0].length);
  // 1.x names a few instances without the wrapper: "VRRP_Instance(VI_1)" is handled above
  const parsed = classify(msg);
  if (!parsed) return null;
  const pid = PID_RE.exec(raw)?.[1];
  const t = lineTimestamp(raw, tc);
  return {
    ...parsed,
    line,
    raw,
    ...(inst ? { instance: inst[1]! } : {}),
    ...(pid ? { pid: Number(pid) } : {}),
    ...(t ? { time: t.time } : {}),
    ...(t?.ts !== undefined ? { ts: t.ts } : {}),
  } as VrrpLogEvent;
}

/** A state change line (src/state.ts), or null. */
export function parseLogLine(raw: string, line = 0): LogEvent | null {
  const ev = parseVrrpLogLine(raw, line);
  return ev?.kind === 'state' ? ev : null;
}

export interface ParseLogOptions {
  /** keep only lines of these pids (and lines with no pid, as on the console) */
  pids?: readonly number[];
}

export function parseLog(text: string, opts: ParseLogOptions = {}): LogEvent[] {
  return parseVrrpLog(text, opts).filter((e): e is LogEvent => e.kind === 'state');
}

export interface ParseVrrpLogOptions extends ParseLogOptions, TimeContext {
  /** ms since the epoch: stop at the first timestamped line older than this (reading from the end) */
  since?: number;
  /** stop after this many events (newest kept) */
  maxEvents?: number;
}

/** Every event of a log text, oldest first. Reads from the end and stops at `since`, so a huge
 *  log costs only the window asked for. Lines without a timestamp are kept while inside the window. */
export function parseVrrpLog(text: string, opts: ParseVrrpLogOptions = {}): VrrpLogEvent[] {
  const pids = opts.pids && opts.pids.length ? new Set(opts.pids) : undefined;
  const out: VrrpLogEvent[] = [];
  // line numbers are counted from the start, which needs the count of newlines: cheap next to the regexes
  let lineNo = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineNo++;
  let end = text.length;
  while (end >= 0) {
    const start = text.lastIndexOf('\n', end - 1);
    const raw = text.slice(start + 1, end);
    end = start;
    const n = lineNo--;
    if (start < 0) end = -1;
    if (
      raw === '' ||
      !/Keepalived|VRRP|STATE|state|advert|script|priority|Netlink|Stopping|Starting|Reloading|interval|passwd|auth|VRID|ip number|version|timer/.test(raw)
    ) {
      if (opts.since !== undefined && raw !== '') {
        const t = lineTimestamp(raw, opts);
        if (t?.ts !== undefined && t.ts < opts.since) break;
      }
      continue;
    }
    const ev = parseVrrpLogLine(raw, n, opts);
    if (!ev) {
      if (opts.since !== undefined) {
        const t = lineTimestamp(raw, opts);
        if (t?.ts !== undefined && t.ts < opts.since) break;
      }
      continue;
    }
    if (opts.since !== undefined && ev.ts !== undefined && ev.ts < opts.since) break;
    if (pids && ev.pid !== undefined && !pids.has(ev.pid)) continue;
    out.push(ev);
    if (opts.maxEvents !== undefined && out.length >= opts.maxEvents) break;
  }
  return out.reverse();
}
