// This node's VRRP state per instance, and the addresses it holds. Derived from the snapshot only.
import type { CheckContext } from './context.js';
import type { InstanceState, ProbeRecord, Role } from './types.js';
import { keepalivedConfig } from './keepalived/from-snapshot.js';
import { parseLog, type LogEvent } from './vrrp/log.js';
import { KEEPALIVED_LOG_PROBE, ourKeepalived, processesFrom } from './probes/keepalived.js';

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
  return ctx.memo('local-addresses', () => parseIpAddr(ctx.output('ip-addr')));
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

/** The log this node's keepalived writes to, as collected, with the probe it came from. */
export function keepalivedLogText(ctx: CheckContext): { probe: string; text: string; pids?: number[] } | undefined {
  return ctx.memo('keepalived-log-text', () => {
    const own = ctx.probe(KEEPALIVED_LOG_PROBE);
    if (own?.status === 'ok') return { probe: KEEPALIVED_LOG_PROBE, text: own.stdout };
    // shared system logs: only the lines of our own process tree (other namespaces run keepalived too)
    const pids = processesFrom(ctx.snapshot.probes).filter((p) => p.ours).map((p) => p.pid);
    for (const id of ['keepalived-journal', 'syslog', 'messages']) {
      const r: ProbeRecord | undefined = ctx.probe(id);
      if (r?.status === 'ok' && (r.exitCode === undefined || r.exitCode === 0) && /Keepalived/.test(r.stdout)) {
        return { probe: id, text: r.stdout, pids };
      }
    }
    return undefined;
  });
}

export function stateEvents(ctx: CheckContext): { probe: string; events: LogEvent[] } | undefined {
  return ctx.memo('keepalived-state-events', () => {
    const log = keepalivedLogText(ctx);
    if (!log) return undefined;
    return { probe: log.probe, events: parseLog(log.text, log.pids ? { pids: log.pids } : {}) };
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
  const text = ctx.output('keepalived-data');
  const stat = ctx.output('stat:keepalived-data');
  if (!text || !stat) return undefined;
  const mtime = (JSON.parse(stat) as { mtimeMs?: number }).mtimeMs ?? 0;
  // a dump is only written on SIGUSR1: an old one describes a past state
  if (Date.parse(ctx.snapshot.createdAt) - mtime > DATA_DUMP_MAX_AGE_MS) return undefined;
  return parseDataDump(text);
}

const KNOWN_STATES = new Set(['MASTER', 'BACKUP', 'FAULT', 'INIT', 'STOP']);

/** The state of each VRRP instance of the config, and the source that decided it. */
export function instanceStates(ctx: CheckContext): InstanceState[] {
  return ctx.memo('instance-states', () => {
    const cfg = keepalivedConfig(ctx).result?.config;
    if (!cfg) return [];
    const running = ourKeepalived(ctx.snapshot.probes) !== undefined;
    const events = stateEvents(ctx);
    const dump = freshDataDump(ctx);
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
      if (!running) return { ...base, state: 'STOP', source: 'no keepalived process in this network namespace' };
      const last = events?.events.filter((e) => e.instance === inst.name).at(-1);
      if (last) return { ...base, state: last.state, source: `log (${events!.probe})`, ...(last.time ? { since: last.time } : {}) };
      const dumped = dump?.get(inst.name);
      if (dumped && KNOWN_STATES.has(dumped)) return { ...base, state: dumped as InstanceState['state'], source: 'data dump (keepalived.data)' };
      if (vips.length && vipsHeld.length === vips.length) return { ...base, state: 'MASTER', source: 'VIP presence (all VIPs held)' };
      if (vips.length && vipsHeld.length === 0) return { ...base, state: 'BACKUP', source: 'VIP presence (no VIP held)' };
      return { ...base, state: 'UNKNOWN', source: 'no log line, no data dump, VIPs partly held' };
    });
  });
}

/** The node's role: master if it is MASTER of any instance, else fault, else backup. */
export function nodeRole(ctx: CheckContext): Role {
  const states = instanceStates(ctx).map((s) => s.state);
  if (states.includes('MASTER')) return 'master';
  if (states.includes('FAULT')) return 'fault';
  if (states.includes('BACKUP')) return 'backup';
  return 'unknown';
}
