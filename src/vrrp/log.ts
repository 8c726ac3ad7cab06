// keepalived's log lines, 1.x and 2.x, with syslog / journald short-iso / console prefixes.
export type VrrpState = 'MASTER' | 'BACKUP' | 'FAULT' | 'INIT' | 'STOP';

export interface LogEvent {
  kind: 'state';
  /** the timestamp as written (syslog "Nov 22 02:34:14", ISO, or absent on the console) */
  time?: string;
  pid?: number;
  instance?: string;
  state: VrrpState;
  /** the line number in the text (1-based) */
  line: number;
  raw: string;
}

// 2.x: "(VI_1) Entering MASTER STATE"; 1.x: "VRRP_Instance(VI_1) Transition to MASTER STATE" /
// "VRRP_Instance(VI_1) Entering BACKUP STATE"; sync groups log "VRRP_Group(G1)" too (ignored).
const STATE_RE = /(?:VRRP_Instance)?\(([^()\s]+)\)\s*(?:Entering|Transition to) (MASTER|BACKUP|FAULT|INIT|STOP) STATE/;
const PID_RE = /Keepalived(?:_vrrp)?\[(\d+)\]/;
const TIME_RE = /^(\d{4}-\d{2}-\d{2}T\S+|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})/;

export function parseLogLine(raw: string, line = 0): LogEvent | null {
  const m = STATE_RE.exec(raw);
  if (!m) return null;
  const pid = PID_RE.exec(raw)?.[1];
  const time = TIME_RE.exec(raw)?.[1];
  return {
    kind: 'state',
    state: m[2] as VrrpState,
    instance: m[1]!,
    line,
    raw,
    ...(pid ? { pid: Number(pid) } : {}),
    ...(time ? { time } : {}),
  };
}

export interface ParseLogOptions {
  /** keep only lines of these pids (and lines with no pid, as on the console) */
  pids?: readonly number[];
}

export function parseLog(text: string, opts: ParseLogOptions = {}): LogEvent[] {
  const pids = opts.pids && opts.pids.length ? new Set(opts.pids) : undefined;
  const out: LogEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const ev = parseLogLine(lines[i]!, i + 1);
    if (!ev) continue;
    if (pids && ev.pid !== undefined && !pids.has(ev.pid)) continue;
    out.push(ev);
  }
  return out;
}
