// `hagw-doctor watch` and the app's live Triage: one event stream for this node.
//
// Event-driven sources, each cheap while nothing happens:
//   - keepalived's log, followed from its end (the file its -g or console names, else journalctl -f,
//     else /var/log/syslog): state changes with their cause, advert errors, keepalived stopping;
//   - `ip -o monitor address`: VIPs added and removed, the moment the kernel does it;
//   - the wire, on demand (--wire, the app's w): `tcpdump -p` on the VRRP interfaces, for the
//     peer's adverts and how long it has been silent;
//   - the change engine's state directory (inotify): changes applied, pending, confirmed, undone;
//   - a light check every CHECK_EVERY_S (60) seconds (the whole check without the wire, the log read
//     over the last hour): findings appearing and clearing, and a state the log did not show.
import os from 'node:os';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import type { CollectOptions, Finding, Report, Snapshot } from '../types.js';
import { parseVrrpLogLine, type VrrpLogEvent } from '../vrrp/log.js';
import { buildTimeline } from '../vrrp/timeline.js';
import { parseAdverts } from '../vrrp/adverts.js';
import { isoTime, type AdvertEvent, type WatchEvent } from './events.js';
import { followCommand, followFile, type Follower } from './follow.js';
import { configFromRecords, KEEPALIVED_LOG_PROBE } from '../probes/keepalived.js';
import { parseIpAddr } from '../state.js';
import { PROBE_IP_ADDR, PROBE_KEEPALIVED_JOURNAL } from '../probes/ids.js';

/** the light check's period, seconds (documented in docs/watch.md) */
export const CHECK_EVERY_S = 60;
/** an advert source is silent after this many of its advert intervals without an advert */
export const SILENT_INTERVALS = 3;
/** while a source stays silent, a reminder this often (seconds) */
const SILENT_REMIND_S = 10;
const RECENT_EVENTS = 200;

export interface WatchOptions {
  /** the node's name in every event (default: the host name, with the network namespace's name when it has one) */
  node?: string;
  /** what the light check collects (--config) */
  collect?: CollectOptions;
  /** light check period, seconds; 0: no periodic check (only the first) */
  checkEvery?: number;
  /** follow VRRP adverts on the wire (tcpdump) */
  wire?: boolean;
  /** follow this log file instead of the one keepalived's process names */
  log?: string;
  /** the change engine's changes directory (default from HAGW_DOCTOR_STATE_DIR) */
  changesDir?: string;
  /** the first check's snapshot and report, when the caller already has them (the app) */
  initial?: { snapshot: Snapshot; report: Report };
  /** the clock (tests) */
  now?: () => number;
}

export interface InstanceLive {
  name: string;
  state: string;
  /** ms since the epoch, when known */
  since?: number;
  transitions: Array<{ at: number; from: string | null; to: string; cause: string }>;
}

export interface PeerLive {
  vrid: number;
  from: string;
  priority: number;
  lastSeen: number;
  advertInt: number;
  silent: boolean;
}

export interface LiveState {
  node: string;
  instances: InstanceLive[];
  vips: Array<{ address: string; interface: string; instance?: string }>;
  peers: PeerLive[];
  wire: 'off' | 'starting' | 'on' | 'failed';
  wireNote?: string;
  /** the last light check */
  report?: Report;
  snapshot?: Snapshot;
  lastCheck?: number;
  checking: boolean;
  log?: string;
  notes: string[];
}

type Listener = (e: WatchEvent) => void;

interface VipConf {
  address: string;
  instance: string;
  iface?: string;
}

export class Watcher {
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<() => void>();
  private readonly followers: Follower[] = [];
  private wireFollowers: Follower[] = [];
  private timers: NodeJS.Timeout[] = [];
  private fsw: FSWatcher | undefined;
  private readonly recent: VrrpLogEvent[] = [];
  /** followers still getting ready (a log file opened at its end): "watching" waits for them */
  private ready: Promise<unknown>[] = [];
  private readonly findings = new Map<string, Finding>();
  private readonly changes = new Map<string, string>();
  private vipConf: VipConf[] = [];
  private localAddrs = new Set<string>();
  private vrrpIfaces: string[] = [];
  private advertInts = new Map<number, number>();
  private lastRemind = new Map<string, number>();
  private logSource: string | undefined;
  private stopped = false;
  private checkRunning = false;
  private live: LiveState;
  readonly now: () => number;

  constructor(private readonly opts: WatchOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.live = { node: opts.node ?? os.hostname(), instances: [], vips: [], peers: [], wire: 'off', checking: false, notes: [] };
  }

  get state(): LiveState {
    return this.live;
  }

  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** called after every change of the live state (for a view) */
  onState(fn: () => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  private changed(): void {
    this.live = { ...this.live };
    for (const fn of [...this.stateListeners]) fn();
  }

  private emit(e: Record<string, unknown> & { kind: WatchEvent['kind'] }, at = this.now()): void {
    const ev = { time: isoTime(at), node: this.live.node, ...e } as WatchEvent;
    for (const fn of [...this.listeners]) fn(ev);
  }

  /** The first check, then every source. Resolves once the followers are started. */
  async start(): Promise<void> {
    const first = this.opts.initial ?? (await this.lightCheck());
    if (this.stopped || !first) return;
    this.adopt(first.snapshot, first.report, true);
    this.startLog(first.snapshot);
    this.startAddressMonitor();
    this.startChanges();
    if (this.opts.wire) this.setWire(true);
    const every = this.opts.checkEvery ?? CHECK_EVERY_S;
    if (every > 0) {
      const t = setInterval(() => void this.runCheck(), every * 1000);
      this.timers.push(t);
    }
    const tick = setInterval(() => this.silenceTick(), 1000);
    this.timers.push(tick);
    await Promise.all(this.ready.splice(0));
    this.emit({
      kind: 'watch',
      level: 'info',
      message: `watching ${this.logSource ? `keepalived's log (${this.logSource})` : "without keepalived's log"}, address events${this.opts.wire ? ', the wire' : ''}, changes; a light check every ${every || '∞'} s`,
    });
  }

  stop(): void {
    this.stopped = true;
    for (const f of [...this.followers, ...this.wireFollowers]) f.stop();
    for (const t of this.timers) clearInterval(t);
    this.fsw?.close();
  }

  // ---------------------------------------------------------------- the light check

  private async lightCheck(): Promise<{ snapshot: Snapshot; report: Report } | undefined> {
    this.live.checking = true;
    this.changed();
    try {
      const { collect, analyse } = await import('../pipeline.js');
      const snapshot = await collect({ since: '1h', ...(this.opts.collect ?? {}), wire: false });
      const report = analyse(snapshot, { source: 'live' });
      return { snapshot, report };
    } catch (err) {
      this.emit({ kind: 'watch', level: 'warning', message: `the periodic check failed: ${(err as Error).message}` });
      return undefined;
    } finally {
      this.live.checking = false;
      this.changed();
    }
  }

  /** Run the light check now (the app's r). */
  async runCheck(): Promise<void> {
    if (this.checkRunning || this.stopped) return;
    this.checkRunning = true;
    try {
      const r = await this.lightCheck();
      if (r && !this.stopped) this.adopt(r.snapshot, r.report, false);
    } finally {
      this.checkRunning = false;
    }
  }

  private adopt(snapshot: Snapshot, report: Report, first: boolean): void {
    const at = this.now();
    if (first && !this.opts.node) {
      const ns = /\(([^)]+)\)\s*$/.exec(snapshot.host.netns)?.[1] ?? snapshot.host.netns.split(/\s+/)[1];
      this.live.node = ns && !ns.startsWith('net:') ? `${snapshot.host.hostname}/${ns}` : snapshot.host.hostname;
    }
    this.learnConfig(snapshot);
    // instances: the first reading, or a state the log did not show
    for (const i of report.instances) {
      const cur = this.instance(i.name);
      const since = i.since ? Date.parse(toIsoGuess(i.since)) : NaN;
      if (first) {
        cur.state = i.state;
        if (Number.isFinite(since)) cur.since = since;
        this.emit(
          {
            kind: 'state',
            instance: i.name,
            from: null,
            to: i.state,
            cause: 'current state',
            initial: true,
            ...(cur.since ? { since: isoTime(cur.since) } : {}),
          },
          at,
        );
      } else if (cur.state !== i.state && i.state !== 'UNKNOWN') {
        this.transition(cur, i.state, `seen by the periodic check (${i.source})`, at);
      }
    }
    if (first) {
      for (const v of heldVips(snapshot, this.vipConf)) {
        this.live.vips.push(v);
        this.emit({ kind: 'vip', address: v.address, interface: v.interface, change: 'held', ...(v.instance ? { instance: v.instance } : {}) }, at);
      }
    }
    // findings appearing and clearing
    const seen = new Set<string>();
    for (const f of report.findings) {
      const key = `${f.code}|${f.subject ?? ''}|${f.node ?? ''}`;
      seen.add(key);
      if (this.findings.has(key)) continue;
      this.findings.set(key, f);
      this.emit(
        {
          kind: 'finding',
          change: 'appeared',
          code: f.code,
          severity: f.severity,
          title: f.title,
          ...(f.subject ? { subject: f.subject } : {}),
          ...(first ? { initial: true } : {}),
        },
        at,
      );
    }
    for (const [key, f] of [...this.findings]) {
      if (seen.has(key)) continue;
      this.findings.delete(key);
      this.emit({ kind: 'finding', change: 'cleared', code: f.code, severity: f.severity, title: f.title, ...(f.subject ? { subject: f.subject } : {}) }, at);
    }
    this.live.report = report;
    this.live.snapshot = snapshot;
    this.live.lastCheck = at;
    // keepalived restarted elsewhere: follow its new log
    if (!first && !this.opts.log) {
      const src = logSourceOf(snapshot);
      if (src && src.label !== this.logSource) {
        for (const f of this.followers.splice(0)) f.stop();
        this.startLog(snapshot);
        this.startAddressMonitor();
      }
    }
    this.changed();
  }

  private learnConfig(snapshot: Snapshot): void {
    try {
      // parsed from the records the check already read (no I/O)
      const cfg = configOf(snapshot);
      if (!cfg) return;
      this.vipConf = cfg.vrrpInstances.flatMap((i) =>
        i.virtualIpaddresses.map((v) => ({ address: v.address, instance: i.name, ...((v.dev ?? i.interface) ? { iface: (v.dev ?? i.interface)! } : {}) })),
      );
      this.vrrpIfaces = [...new Set(cfg.vrrpInstances.map((i) => i.interface).filter((x): x is string => !!x))];
      for (const i of cfg.vrrpInstances) if (i.virtualRouterId !== undefined) this.advertInts.set(i.virtualRouterId, i.advertInt ?? 1);
    } catch {
      /* no config: VIP events fall back to every global address */
    }
    this.localAddrs = new Set(localAddresses(snapshot));
  }

  private instance(name: string): InstanceLive {
    let i = this.live.instances.find((x) => x.name === name);
    if (!i) {
      i = { name, state: 'UNKNOWN', transitions: [] };
      this.live.instances = [...this.live.instances, i].sort((a, b) => a.name.localeCompare(b.name));
    }
    return i;
  }

  private transition(cur: InstanceLive, to: string, cause: string, at: number, logTime?: string): void {
    const from = cur.state === 'UNKNOWN' ? null : cur.state;
    cur.state = to;
    cur.since = at;
    cur.transitions = [...cur.transitions.slice(-19), { at, from, to, cause }];
    this.emit({ kind: 'state', instance: cur.name, from, to, cause, ...(logTime ? { logTime } : {}) }, at);
    this.changed();
  }

  // ---------------------------------------------------------------- keepalived's log

  private startLog(snapshot: Snapshot): void {
    const src = this.opts.log ? { label: this.opts.log, file: this.opts.log } : logSourceOf(snapshot);
    this.logSource = src?.label;
    if (!src) {
      this.emit({ kind: 'watch', level: 'warning', message: `keepalived's log cannot be followed here: state changes show at the next periodic check` });
      return;
    }
    const onLine = (line: string) => this.logLine(line);
    const onError = (msg: string) => this.emit({ kind: 'watch', level: 'warning', message: msg });
    if (src.file) {
      const f = followFile(src.file, onLine, { onError });
      this.followers.push(f);
      // the view says "following" only once the file is open at its end
      this.ready.push(
        f.ready.then(() => {
          this.live.log = src.label;
          this.changed();
        }),
      );
    } else if (src.argv) {
      this.live.log = src.label;
      this.followers.push(
        followCommand(src.argv, onLine, {
          onExit: (code, err) => !this.stopped && onError(`${src.argv![0]} ended (${code ?? 'not started'})${err ? `: ${err.split('\n')[0]}` : ''}`),
        }),
      );
    }
  }

  /** One line of keepalived's log (exported for tests through handleLogLine). */
  logLine(line: string): void {
    const at = this.now();
    const ev = parseVrrpLogLine(line, this.recent.length + 1, { now: at });
    if (!ev) return;
    this.recent.push(ev);
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    if (ev.kind === 'state') {
      if (ev.intent || !ev.instance) return;
      const cur = this.instance(ev.instance);
      if (cur.state === ev.state && !ev.init) return;
      let cause = ev.init ? 'keepalived started' : 'nothing in the log just before it';
      if (!ev.init) {
        const tl = buildTimeline(this.recent, { now: at });
        const tr = [...tl.transitions].reverse().find((t) => t.instance === ev.instance);
        if (tr?.causes.length) cause = tr.causes.map((c) => c.summary).join('; ');
      }
      this.transition(cur, ev.state, cause, at, ev.time);
      return;
    }
    if (ev.kind === 'trigger') {
      if (ev.trigger === 'stopping') {
        for (const i of this.live.instances) if (i.state !== 'STOP') this.transition(i, 'STOP', 'keepalived is stopping on this node', at, ev.time);
      } else if (ev.trigger === 'advert-timeout') {
        this.emit(
          {
            kind: 'advert',
            change: 'timeout',
            ...(ev.instance ? { instance: ev.instance } : {}),
            message: `${ev.instance ?? 'an instance'}: no advert from the master within the master-down interval`,
          },
          at,
        );
      } else if (ev.trigger === 'priority-zero') {
        this.emit(
          {
            kind: 'advert',
            change: 'timeout',
            ...(ev.instance ? { instance: ev.instance } : {}),
            message: `${ev.instance ?? 'an instance'}: the master sent priority 0 (it is stopping or giving up)`,
          },
          at,
        );
      }
      return;
    }
    if (ev.kind === 'problem') {
      const key = `problem|${ev.problem}|${ev.instance ?? ''}`;
      const last = this.lastRemind.get(key) ?? 0;
      if (at - last < 10_000) return;
      this.lastRemind.set(key, at);
      this.emit(
        {
          kind: 'advert',
          change: 'error',
          ...(ev.instance ? { instance: ev.instance } : {}),
          ...(ev.peer ? { from: ev.peer } : {}),
          message: `${ev.instance ? `${ev.instance}: ` : ''}${ev.message}`,
        },
        at,
      );
    }
  }

  // ---------------------------------------------------------------- addresses

  private startAddressMonitor(): void {
    const f = followCommand(['ip', '-o', 'monitor', 'address'], (line) => this.addressLine(line), {
      onExit: (code, err) =>
        !this.stopped &&
        this.emit({
          kind: 'watch',
          level: 'warning',
          message: `ip monitor address ended (${code ?? 'not started'})${err ? `: ${err}` : ''}: VIP changes show at the next periodic check`,
        }),
    });
    this.followers.push(f);
  }

  addressLine(line: string): void {
    const m = /^(Deleted\s+)?(?:\[[^\]]*\]\s*)?\d+:\s+(\S+)\s+inet\s+(\d+\.\d+\.\d+\.\d+)(\/\d+)?/.exec(line);
    if (!m) return;
    const removed = Boolean(m[1]);
    const iface = m[2]!;
    const address = m[3]!;
    const withPrefix = `${address}${m[4] ?? '/32'}`;
    const conf = this.vipConf.find((v) => v.address === address);
    // no config known: every global address change; with one, only its VIPs
    if (this.vipConf.length && !conf) return;
    if (!this.vipConf.length && /\bscope (host|link)\b/.test(line)) return;
    const held = this.live.vips.findIndex((v) => v.address === withPrefix || v.address.split('/')[0] === address);
    if (removed && held < 0) return;
    if (!removed && held >= 0) return;
    if (removed) this.live.vips = this.live.vips.filter((_, i) => i !== held);
    else this.live.vips = [...this.live.vips, { address: withPrefix, interface: iface, ...(conf ? { instance: conf.instance } : {}) }];
    this.emit({ kind: 'vip', address: withPrefix, interface: iface, change: removed ? 'removed' : 'added', ...(conf ? { instance: conf.instance } : {}) });
    this.changed();
  }

  // ---------------------------------------------------------------- the wire

  /** Follow the peer's adverts (tcpdump -p, no promiscuous mode) on the VRRP interfaces, or stop. */
  setWire(on: boolean): void {
    for (const f of this.wireFollowers.splice(0)) f.stop();
    if (!on) {
      this.live.wire = 'off';
      this.live.peers = [];
      this.changed();
      return;
    }
    this.live.wire = 'starting';
    delete this.live.wireNote;
    const ifaces = this.vrrpIfaces.length ? this.vrrpIfaces : ['any'];
    for (const iface of ifaces) {
      let header = '';
      const f = followCommand(
        ['tcpdump', '-p', '-nn', '-l', '-v', '-e', '-i', iface, 'ip proto 112'],
        (line) => {
          if (/^\s/.test(line) && header) {
            const a = parseAdverts(`${header}\n${line}`).adverts[0];
            header = '';
            if (a) this.advert(a.src, a.vrid, a.priority, a.advertInt);
          } else header = line;
        },
        {
          onExit: (code, err) => {
            if (this.stopped || !this.wireFollowers.includes(f)) return;
            this.live.wire = 'failed';
            this.live.wireNote = `tcpdump on ${iface} ended (${code ?? 'not started'})${err ? `: ${err.split('\n').pop()}` : ''}`;
            this.emit({ kind: 'watch', level: 'warning', message: this.live.wireNote });
            this.changed();
          },
        },
      );
      f.child.stderr?.on('data', (d: Buffer) => {
        if (/listening on/.test(String(d)) && this.live.wire === 'starting') {
          this.live.wire = 'on';
          this.changed();
        }
      });
      this.wireFollowers.push(f);
    }
    this.changed();
  }

  advert(from: string, vrid: number, priority: number, advertInt: number): void {
    if (this.localAddrs.has(from)) return;
    const at = this.now();
    const peers = this.live.peers;
    const p = peers.find((x) => x.vrid === vrid && x.from === from);
    const instance = this.instanceOfVrid(vrid);
    if (!p) {
      this.live.peers = [...peers, { vrid, from, priority, lastSeen: at, advertInt: advertInt || 1, silent: false }];
      this.emit(
        {
          kind: 'advert',
          change: 'seen',
          vrid,
          from,
          priority,
          ...(instance ? { instance } : {}),
          message: `${from} advertises vrid ${vrid} with priority ${priority}`,
        },
        at,
      );
    } else {
      if (p.silent) {
        const gap = Math.round((at - p.lastSeen) / 1000);
        this.emit(
          {
            kind: 'advert',
            change: 'resumed',
            vrid,
            from,
            priority,
            silentSeconds: gap,
            ...(instance ? { instance } : {}),
            message: `${from} (vrid ${vrid}) advertises again after ${gap} s of silence`,
          },
          at,
        );
      }
      p.lastSeen = at;
      p.priority = priority;
      p.silent = false;
      this.live.peers = [...peers];
    }
    this.changed();
  }

  private instanceOfVrid(vrid: number): string | undefined {
    const cfg = this.live.snapshot ? configOf(this.live.snapshot) : undefined;
    return cfg?.vrrpInstances.find((i) => i.virtualRouterId === vrid)?.name;
  }

  private silenceTick(): void {
    const at = this.now();
    let any = false;
    for (const p of this.live.peers) {
      const limit = SILENT_INTERVALS * (this.advertInts.get(p.vrid) ?? p.advertInt) * 1000 + 500;
      const quiet = at - p.lastSeen;
      if (quiet < limit) continue;
      const key = `${p.vrid}|${p.from}`;
      const last = this.lastRemind.get(key) ?? 0;
      if (!p.silent || at - last >= SILENT_REMIND_S * 1000) {
        p.silent = true;
        this.lastRemind.set(key, at);
        const instance = this.instanceOfVrid(p.vrid);
        const secs = Math.round(quiet / 1000);
        const ev: Omit<AdvertEvent, 'time' | 'node'> = {
          kind: 'advert',
          change: 'silent',
          vrid: p.vrid,
          from: p.from,
          silentSeconds: secs,
          ...(instance ? { instance } : {}),
          message: `peer ${p.from} (vrid ${p.vrid}) silent ${secs} s`,
        };
        this.emit(ev as unknown as Record<string, unknown> & { kind: 'advert' }, at);
      }
      any = true;
    }
    if (any) this.changed();
  }

  // ---------------------------------------------------------------- changes

  private startChanges(): void {
    const dir = this.opts.changesDir;
    let pending: NodeJS.Timeout | undefined;
    const rescan = () => {
      clearTimeout(pending);
      pending = setTimeout(() => void this.scanChanges(false), 150);
    };
    void this.resolveChangesDir(dir).then((d) => {
      if (this.stopped) return;
      void this.scanChanges(true);
      try {
        this.fsw = fsWatch(d, { persistent: false, recursive: false }, rescan);
      } catch {
        // no state directory yet: look again every 5 s (it appears with the first change)
        const t = setInterval(() => {
          try {
            this.fsw = fsWatch(d, { persistent: false }, rescan);
            clearInterval(t);
            rescan();
          } catch {
            /* still none */
          }
        }, 5000);
        this.timers.push(t);
      }
      // a manifest changes inside its own directory: inotify on the parent does not see that
      const t = setInterval(() => void this.scanChanges(false), 5000);
      this.timers.push(t);
    });
  }

  private changesDir = '';
  private async resolveChangesDir(dir: string | undefined): Promise<string> {
    if (dir) return (this.changesDir = dir);
    const { changePaths } = await import('../change/paths.js');
    return (this.changesDir = changePaths().changesDir);
  }

  private async scanChanges(first: boolean): Promise<void> {
    if (!this.changesDir || this.stopped) return;
    const { listChanges } = await import('../change/manifest.js');
    let list;
    try {
      list = await listChanges(this.changesDir);
    } catch {
      return;
    }
    for (const m of list) {
      const prev = this.changes.get(m.id);
      if (prev === m.state) continue;
      this.changes.set(m.id, m.state);
      if (first && m.state !== 'pending' && m.state !== 'applying') continue;
      this.emit({
        kind: 'change',
        id: m.id,
        state: m.state,
        ...(prev ? { previous: prev } : {}),
        summary: m.plan.summary,
        ...(m.state === 'pending' && m.confirm?.deadline ? { deadline: isoTime(Date.parse(m.confirm.deadline)) } : {}),
        ...(first ? { initial: true } : {}),
      });
    }
  }
}

// ---------------------------------------------------------------- helpers on a snapshot

function configOf(snapshot: Snapshot) {
  return configFromRecords(snapshot.probes, snapshot.options.config);
}

function localAddresses(snapshot: Snapshot): string[] {
  const r = snapshot.probes[PROBE_IP_ADDR];
  return r?.status === 'ok' ? parseIpAddr(r.stdout).map((a) => a.address) : [];
}

function heldVips(snapshot: Snapshot, conf: VipConf[]): Array<{ address: string; interface: string; instance?: string }> {
  const r = snapshot.probes[PROBE_IP_ADDR];
  if (r?.status !== 'ok' || !conf.length) return [];
  const out: Array<{ address: string; interface: string; instance?: string }> = [];
  for (const a of parseIpAddr(r.stdout)) {
    const c = conf.find((v) => v.address === a.address);
    if (c) out.push({ address: `${a.address}/${a.prefix}`, interface: a.ifname, instance: c.instance });
  }
  return out;
}

/** Where keepalived's log can be followed, from what the check found. */
export function logSourceOf(snapshot: Snapshot): { label: string; file?: string; argv?: string[] } | undefined {
  const own = snapshot.probes[KEEPALIVED_LOG_PROBE];
  if (own?.status === 'ok' && own.path) return { label: own.path, file: own.path };
  const journal = snapshot.probes[PROBE_KEEPALIVED_JOURNAL];
  if (journal?.status === 'ok' && journal.exitCode === 0 && journal.stdout.trim() && !/No entries/.test(journal.stdout)) {
    return {
      label: 'journalctl',
      argv: ['journalctl', '--no-pager', '-f', '-n', '0', '-o', 'short-iso', '-t', 'Keepalived_vrrp', '-t', 'Keepalived', '-t', 'keepalived'],
    };
  }
  for (const id of ['syslog', 'messages']) {
    const r = snapshot.probes[id];
    if (r?.status === 'ok' && r.path) return { label: r.path, file: r.path };
  }
  return undefined;
}

/** "Nov 22 02:40:50" / ISO / ctime as the report writes `since`: Date.parse with a year when it has none. */
function toIsoGuess(s: string): string {
  if (/^\d{4}-/.test(s)) return s;
  if (/^[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}$/.test(s)) return `${s} ${new Date().getFullYear()}`;
  return s;
}
