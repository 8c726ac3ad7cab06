// This node's VRRP state per instance, and the addresses it holds. Derived from the snapshot only.
import type { CheckContext } from './context.js';
import type { InstanceState, ProbeRecord, Role } from './types.js';
import { keepalivedConfig } from './keepalived/from-snapshot.js';
import { parseVrrpLog, type LogEvent } from './vrrp/log.js';
import { KEEPALIVED_LOG_PROBE, processesFrom } from './probes/keepalived.js';
import { daemonsHere, isLegacy, unverifiable, vrrpChildOf, type KeepalivedProcess } from './keepalived/daemon.js';
import { isoTime } from './time.js';
import {
  PROBE_IP_ADDR,
  PROBE_KEEPALIVED_DATA,
  PROBE_KEEPALIVED_DATA_STAT,
  PROBE_KEEPALIVED_JOURNAL,
  PROBE_KEEPALIVED_PROCESSES,
  PROBE_MESSAGES,
  PROBE_PROC_PID1_VISIBLE,
  PROBE_SYSLOG,
  type ProbeId,
} from './probes/ids.js';

export interface LocalAddress {
  ifname: string;
  address: string;
  prefix: number;
  family: 'inet' | 'inet6';
}

interface IpAddrJson {
  ifname?: string;
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

/** Every address on every interface of this namespace, from `ip -j addr show`. */
export function localAddresses(ctx: CheckContext): LocalAddress[] {
  return ctx.memo('local-addresses', () => parseIpAddr(ctx.output(PROBE_IP_ADDR)));
}

export function parseIpAddr(json: string | undefined): LocalAddress[] {
  if (!json) return [];
  let links: IpAddrJson[];
  try {
    links = JSON.parse(json) as IpAddrJson[];
  } catch {
    return [];
  }
  const out: LocalAddress[] = [];
  for (const link of Array.isArray(links) ? links : []) {
    for (const a of link.addr_info ?? []) {
      if ((a.family === 'inet' || a.family === 'inet6') && a.local && link.ifname) {
        out.push({ ifname: link.ifname, address: a.local, prefix: a.prefixlen ?? (a.family === 'inet' ? 32 : 128), family: a.family });
      }
    }
  }
  return out;
}

export function holdsAddress(ctx: CheckContext, address: string): boolean {
  return localAddresses(ctx).some((a) => a.address === address);
}

/** Whether keepalived runs here, decided from the verified process tree only (src/keepalived/daemon.ts). */
export interface DaemonStatus {
  running: 'yes' | 'no' | 'unknown';
  daemon?: KeepalivedProcess;
  vrrpChild?: KeepalivedProcess;
  /** every verified daemon parent of this namespace (more than one: keepalived-duplicate) */
  daemons: KeepalivedProcess[];
  /** why running is unknown, in words ("needs root: ...") */
  why?: string;
}

/** The keepalived processes of the /proc walk (keepalived-processes), parsed once per analysis. */
export function keepalivedProcesses(ctx: CheckContext): KeepalivedProcess[] {
  return ctx.memo('keepalived-processes', () => processesFrom(ctx.snapshot.probes));
}

export function daemonStatus(ctx: CheckContext): DaemonStatus {
  return ctx.memo('keepalived-daemon-status', (): DaemonStatus => {
    const rec = ctx.probe(PROBE_KEEPALIVED_PROCESSES);
    if (!rec) return { running: 'unknown', daemons: [], why: 'the process list was not collected' };
    if (rec.status !== 'ok') return { running: 'unknown', daemons: [], why: `the process list could not be read: ${rec.reason ?? rec.status}` };
    const procs = keepalivedProcesses(ctx);
    const daemons = daemonsHere(procs);
    if (daemons.length) {
      const daemon = daemons[0]!;
      const child = isLegacy(procs) ? undefined : vrrpChildOf(procs, daemon);
      return { running: 'yes', daemon, daemons, ...(child ? { vrrpChild: child } : {}) };
    }
    const blind = unverifiable(procs);
    if (blind.length) {
      return {
        running: 'unknown',
        daemons: [],
        why: `needs root: ${blind.length === 1 ? 'a process' : `${blind.length} processes`} named keepalived (pid ${blind
          .map((p) => p.pid)
          .slice(0, 4)
          .join(', ')}) cannot be verified (/proc/PID/exe, /proc/PID/ns/net are root's)`,
      };
    }
    // hidepid: root's processes are invisible to this user, so none seen proves nothing
    if (!ctx.isRoot && ctx.output(PROBE_PROC_PID1_VISIBLE)?.trim() === 'no') {
      return { running: 'unknown', daemons: [], why: "needs root: /proc hides other users' processes (hidepid), so keepalived cannot be seen" };
    }
    // without root no daemon can be verified (its /proc/PID/exe, its namespace), so none found proves nothing
    if (!ctx.isRoot)
      return {
        running: 'unknown',
        daemons: [],
        why: 'needs root: whether keepalived runs here cannot be verified without root (/proc/PID/exe, /proc/PID/ns/net)',
      };
    return { running: 'no', daemons: [] };
  });
}

/** The log this node's keepalived writes to, as collected, with the probe it came from. */
export function keepalivedLogText(ctx: CheckContext): { probe: ProbeId; text: string; pids?: number[] } | undefined {
  return ctx.memo('keepalived-log-text', () => {
    const own = ctx.probe(KEEPALIVED_LOG_PROBE);
    if (own?.status === 'ok') return { probe: KEEPALIVED_LOG_PROBE, text: own.stdout };
    // shared system logs: only the lines of the verified daemon's process tree (other namespaces run keepalived too)
    const st = daemonStatus(ctx);
    const tree = st.daemon ? keepalivedProcesses(ctx).filter((p) => p.pid === st.daemon!.pid || p.ppid === st.daemon!.pid) : [];
    const pids = tree.map((p) => p.pid);
    for (const id of [PROBE_KEEPALIVED_JOURNAL, PROBE_SYSLOG, PROBE_MESSAGES]) {
      const r: ProbeRecord | undefined = ctx.probe(id);
      if (r?.status === 'ok' && (r.exitCode === undefined || r.exitCode === 0) && /Keepalived/.test(r.stdout)) {
        return { probe: id, text: r.stdout, pids };
      }
    }
    return undefined;
  });
}

/**
 * The state changes the running daemon logged: only lines of its VRRP child (by pid where lines
 * carry one; on the daemon's own console/-g file, after its "Starting VRRP child process, pid=N"
 * line) and not older than the daemon's start. Text is still text: these lines refine the state
 * (a since time, FAULT among the states without VIPs) but never outvote the addresses or the dump.
 */
export function stateEvents(ctx: CheckContext): { probe: ProbeId; events: LogEvent[] } | undefined {
  return ctx.memo('keepalived-state-events', () => {
    const log = keepalivedLogText(ctx);
    if (!log) return undefined;
    const st = daemonStatus(ctx);
    const now = Date.parse(ctx.snapshot.createdAt) || Date.now();
    let text = log.text;
    let pids = log.pids;
    if (st.vrrpChild) {
      pids = [st.vrrpChild.pid];
      if (log.probe === KEEPALIVED_LOG_PROBE) {
        const anchor = text.lastIndexOf(`Starting VRRP child process, pid=${st.vrrpChild.pid}`);
        if (anchor >= 0) text = text.slice(anchor);
      }
    }
    const started = st.daemon?.startedAt ? Date.parse(st.daemon.startedAt) : NaN;
    const events = parseVrrpLog(text, { now, ...(Number.isFinite(started) ? { since: started - 1000 } : {}), ...(pids?.length ? { pids } : {}) }).filter(
      (e): e is LogEvent => e.kind === 'state',
    );
    return { probe: log.probe, events };
  });
}

const DATA_DUMP_MAX_AGE_MS = 5 * 60 * 1000;

/** "VRRP Instance = VI_1" ... "State = MASTER" blocks of /tmp/keepalived.data (kill -USR1). */
export function parseDataDump(text: string): Map<string, string> {
  const states = new Map<string, string>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const inst = /^\s*VRRP Instance = (\S+)/.exec(line);
    if (inst) current = inst[1];
    const st = /^\s*State = (\S+)/.exec(line);
    if (st && current && !states.has(current)) states.set(current, st[1]!);
  }
  return states;
}

function freshDataDump(ctx: CheckContext): Map<string, string> | undefined {
  const text = ctx.output(PROBE_KEEPALIVED_DATA);
  const statText = ctx.output(PROBE_KEEPALIVED_DATA_STAT);
  if (!text || !statText) return undefined;
  let stat: { mtimeMs?: number; uid?: number; mode?: number };
  try {
    stat = JSON.parse(statText) as typeof stat;
  } catch {
    return undefined;
  }
  const mtime = stat.mtimeMs ?? 0;
  // a dump is only written on SIGUSR1: an old one describes a past state
  if (Date.parse(ctx.snapshot.createdAt) - mtime > DATA_DUMP_MAX_AGE_MS) return undefined;
  // the daemon writes it as root; a file anyone else could write, or older than the daemon, is not its word
  if (stat.uid !== undefined && stat.uid !== 0) return undefined;
  if (stat.mode !== undefined && stat.mode & 0o022) return undefined;
  const started = daemonStatus(ctx).daemon?.startedAt;
  if (started && mtime < Date.parse(started) - 1000) return undefined;
  return parseDataDump(text);
}

const KNOWN_STATES = new Set(['MASTER', 'BACKUP', 'FAULT', 'INIT', 'STOP']);
const STANDBY = new Set(['BACKUP', 'FAULT', 'INIT']);

/**
 * The state of each VRRP instance of the config, and the source that decided it. In order: the
 * verified daemon (none: STOP; cannot tell: UNKNOWN), its own data dump (fresh, root's, newer than
 * the daemon), the addresses it holds, and only then its log (see stateEvents). A log that says
 * otherwise than the addresses is noted in `contested` and changes nothing.
 */
export function instanceStates(ctx: CheckContext): InstanceState[] {
  return ctx.memo('instance-states', () => {
    const cfg = keepalivedConfig(ctx).result?.config;
    if (!cfg) return [];
    const daemon = daemonStatus(ctx);
    const events = daemon.running === 'yes' ? stateEvents(ctx) : undefined;
    const dump = daemon.running === 'yes' ? freshDataDump(ctx) : undefined;
    return cfg.vrrpInstances.map((inst): InstanceState => {
      const vips = inst.virtualIpaddresses.map((v) => v.address);
      const vipsHeld = vips.filter((v) => holdsAddress(ctx, v));
      const base = {
        name: inst.name,
        ...(inst.virtualRouterId !== undefined ? { vrid: inst.virtualRouterId } : {}),
        ...(inst.interface !== undefined ? { interface: inst.interface } : {}),
        vips,
        vipsHeld,
      };
      if (daemon.running === 'no') return { ...base, state: 'STOP', source: 'no keepalived daemon in this network namespace' };
      if (daemon.running === 'unknown') return { ...base, state: 'UNKNOWN', source: `keepalived could not be verified (${daemon.why})` };
      const last = events?.events.filter((e) => e.instance === inst.name && !e.intent).at(-1);
      const logSays = last ? { state: last.state, since: last.time, ...(last.ts !== undefined ? { sinceIso: isoTime(last.ts) } : {}) } : undefined;
      const withLog = (st: InstanceState): InstanceState => {
        if (!logSays) return st;
        if (logSays.state === st.state)
          return { ...st, ...(logSays.since ? { since: logSays.since } : {}), ...(logSays.sinceIso ? { sinceIso: logSays.sinceIso } : {}) };
        return {
          ...st,
          contested: `keepalived's log (${events!.probe}) says ${logSays.state}${logSays.since ? ` since ${logSays.since}` : ''}; the ${st.source.startsWith('data dump') ? 'data dump' : 'addresses'} decide`,
        };
      };
      const dumped = dump?.get(inst.name);
      if (dumped && KNOWN_STATES.has(dumped)) {
        const st: InstanceState = { ...base, state: dumped as InstanceState['state'], source: 'data dump (keepalived.data)' };
        const allHeld = vips.length > 0 && vipsHeld.length === vips.length;
        if (vips.length && ((dumped === 'MASTER' && !allHeld) || (dumped !== 'MASTER' && vipsHeld.length))) {
          st.contested = `keepalived's own dump says ${dumped}, but the node holds ${vipsHeld.length} of ${vips.length} VIPs`;
        }
        return withLog(st);
      }
      if (vips.length && vipsHeld.length === vips.length) return withLog({ ...base, state: 'MASTER', source: 'VIP presence (all VIPs held)' });
      if (vips.length && vipsHeld.length === 0) {
        // without VIPs keepalived is BACKUP, FAULT or INIT: the log may tell which, never MASTER
        if (logSays && STANDBY.has(logSays.state))
          return {
            ...base,
            state: logSays.state as InstanceState['state'],
            source: `VIP presence (no VIP held) and the log (${events!.probe})`,
            ...(logSays.since ? { since: logSays.since } : {}),
            ...(logSays.sinceIso ? { sinceIso: logSays.sinceIso } : {}),
          };
        return withLog({ ...base, state: 'BACKUP', source: 'VIP presence (no VIP held)' });
      }
      if (logSays)
        return {
          ...base,
          state: logSays.state,
          source: `log (${events!.probe}), VIPs ${vips.length ? 'partly held' : 'none configured'}`,
          ...(logSays.since ? { since: logSays.since } : {}),
          ...(logSays.sinceIso ? { sinceIso: logSays.sinceIso } : {}),
        };
      return { ...base, state: 'UNKNOWN', source: `no data dump, no log line of the daemon, VIPs ${vips.length ? 'partly held' : 'none configured'}` };
    });
  });
}

/** Whether the role can be the premise of a fix: every instance decided by the daemon's dump or
 *  its addresses, and no source disagreeing. */
export function roleBasis(ctx: CheckContext): { firm: boolean; why?: string } {
  const states = instanceStates(ctx);
  const contested = states.find((s) => s.contested);
  if (contested) return { firm: false, why: `${contested.name}: ${contested.contested}` };
  const weak = states.find((s) => s.state === 'UNKNOWN' || s.source.startsWith('log'));
  if (weak) return { firm: false, why: `${weak.name} is ${weak.state} only from ${weak.source}` };
  return { firm: true };
}

/** The node's role: master if it is MASTER of any instance, else fault, else backup. */
export function nodeRole(ctx: CheckContext): Role {
  const states = instanceStates(ctx).map((s) => s.state);
  if (states.includes('MASTER')) return 'master';
  if (states.includes('FAULT')) return 'fault';
  if (states.includes('BACKUP')) return 'backup';
  return 'unknown';
}
