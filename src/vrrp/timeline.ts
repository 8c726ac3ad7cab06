// The failover timeline: state transitions from keepalived's log, each with the likely cause
// chain (the trigger lines just before it), notify/script events, advert errors, and flapping.
import type { LogEvent, ProblemEvent, ScriptEvent, TriggerEvent, VrrpLogEvent, VrrpState } from './log.js';

export interface Cause {
  /** what happened, in words */
  summary: string;
  /** the log lines that show it, oldest first */
  evidence: string[];
}

export interface Transition {
  time?: string;
  ts?: number;
  instance: string;
  from?: VrrpState;
  to: VrrpState;
  /** keepalived started in this state (init), not a change */
  init: boolean;
  /** likely cause chain, nearest cause last */
  causes: Cause[];
  line: number;
  raw: string;
}

export interface FlapEpisode {
  instance: string;
  count: number;
  /** first and last transition of the episode */
  fromTime?: string;
  toTime?: string;
  minutes: number;
}

export type TimelineEntry =
  | { type: 'transition'; transition: Transition }
  | { type: 'trigger'; event: TriggerEvent }
  | { type: 'problem'; event: ProblemEvent; repeats: number; lastTime?: string }
  | { type: 'script'; event: ScriptEvent; repeats: number; lastTime?: string };

export interface Timeline {
  since?: number;
  now: number;
  transitions: Transition[];
  entries: TimelineEntry[];
  flapping: FlapEpisode[];
  /** the last known state per instance */
  current: Record<string, VrrpState>;
  /** advert errors per kind: how many, when last */
  problems: Array<{ problem: ProblemEvent['problem']; instance?: string; count: number; first: ProblemEvent; last: ProblemEvent }>;
  notes: string[];
}

export interface TimelineOptions {
  /** ms since the epoch; events before it are dropped (events without a time are kept) */
  since?: number;
  now?: number;
  /** flapping: this many transitions of one instance ... */
  flapCount?: number;
  /** ... within this many minutes */
  flapMinutes?: number;
  /** how far back (ms) a trigger line may stand from the transition it explains */
  causeWindowMs?: number;
}

export const FLAP_COUNT = 4;
export const FLAP_MINUTES = 10;
const CAUSE_WINDOW_MS = 10_000;
// triggers without an instance (interfaces, scripts, the daemon stopping) apply to every instance
const GLOBAL_TRIGGERS = new Set<TriggerEvent['trigger']>([
  'track-script-failed',
  'track-script-ok',
  'interface-down',
  'interface-up',
  'stopping',
  'starting',
  'reloading',
  'sync-group',
  'timer-late',
]);

export function buildTimeline(events: readonly VrrpLogEvent[], opts: TimelineOptions = {}): Timeline {
  const now = opts.now ?? Date.now();
  const since = opts.since;
  const inWindow = (e: VrrpLogEvent) => since === undefined || e.ts === undefined || e.ts >= since;
  const causeWindow = opts.causeWindowMs ?? CAUSE_WINDOW_MS;
  const notes: string[] = [];
  if (events.length && events.every((e) => e.ts === undefined))
    notes.push('the log lines carry no timestamps (console log): times and the --since window cannot be applied');

  const current: Record<string, VrrpState> = {};
  const transitions: Transition[] = [];
  const entries: TimelineEntry[] = [];
  const problems = new Map<string, Timeline['problems'][number]>();
  // recent triggers per instance ('' = global), trimmed to the cause window at each transition
  const pending = new Map<string, TriggerEvent[]>();
  const pendingProblems = new Map<string, ProblemEvent[]>();
  let lastScriptEntry: Extract<TimelineEntry, { type: 'script' }> | undefined;
  let lastProblemEntry: Extract<TimelineEntry, { type: 'problem' }> | undefined;

  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const keep = inWindow(e);
    if (e.kind === 'state') {
      if (e.intent) {
        // 1.x: "Transition to MASTER" then "Entering MASTER": the second line is the transition
        const next = events.slice(i + 1, i + 6).find((n): n is LogEvent => n.kind === 'state' && n.instance === e.instance && !n.intent);
        if (next && next.state === e.state) continue;
      }
      const inst = e.instance ?? '?';
      const from = current[inst];
      current[inst] = e.state;
      if (!keep) continue;
      if (from === e.state && !e.init) continue;
      const causes = e.init
        ? [{ summary: 'keepalived started (initial state)', evidence: [] }]
        : explain(e, from, gather(pending, inst, e, causeWindow), gather(pendingProblems, inst, e, causeWindow));
      if (e.intent) causes.push({ summary: `keepalived wanted ${e.state} but logged no "Entering ${e.state} STATE" after it`, evidence: [e.raw] });
      const t: Transition = {
        ...(e.time ? { time: e.time } : {}),
        ...(e.ts !== undefined ? { ts: e.ts } : {}),
        instance: inst,
        ...(from ? { from } : {}),
        to: e.state,
        init: e.init === true,
        causes,
        line: e.line,
        raw: e.raw,
      };
      transitions.push(t);
      entries.push({ type: 'transition', transition: t });
      pending.delete(inst);
      pendingProblems.delete(inst);
      lastProblemEntry = undefined;
      continue;
    }
    if (e.kind === 'trigger') {
      const key = e.instance ?? e.member ?? (GLOBAL_TRIGGERS.has(e.trigger) ? '' : '?');
      const list = pending.get(key) ?? [];
      list.push(e);
      if (list.length > 20) list.shift();
      pending.set(key, list);
      if (keep && e.trigger !== 'lower-priority-discarded' && e.trigger !== 'lower-priority-election') entries.push({ type: 'trigger', event: e });
      continue;
    }
    if (e.kind === 'problem') {
      const list = pendingProblems.get(e.instance ?? '') ?? [];
      list.push(e);
      if (list.length > 5) list.shift();
      pendingProblems.set(e.instance ?? '', list);
      if (!keep) continue;
      const key = `${e.problem}\0${e.instance ?? ''}`;
      const agg = problems.get(key);
      if (agg) {
        agg.count++;
        agg.last = e;
      } else problems.set(key, { problem: e.problem, ...(e.instance ? { instance: e.instance } : {}), count: 1, first: e, last: e });
      // repeated identical errors (one per advert) fold into one entry
      if (lastProblemEntry && lastProblemEntry.event.problem === e.problem && lastProblemEntry.event.instance === e.instance) {
        lastProblemEntry.repeats++;
        if (e.time) lastProblemEntry.lastTime = e.time;
      } else {
        lastProblemEntry = { type: 'problem', event: e, repeats: 1 };
        entries.push(lastProblemEntry);
      }
      continue;
    }
    if (!keep) continue;
    if (lastScriptEntry && lastScriptEntry.event.script === e.script && lastScriptEntry.event.path === e.path && entries.at(-1) === lastScriptEntry) {
      lastScriptEntry.repeats++;
      if (e.time) lastScriptEntry.lastTime = e.time;
    } else {
      lastScriptEntry = { type: 'script', event: e, repeats: 1 };
      entries.push(lastScriptEntry);
    }
  }

  return {
    ...(since !== undefined ? { since } : {}),
    now,
    transitions,
    entries,
    flapping: detectFlapping(transitions, opts.flapCount ?? FLAP_COUNT, opts.flapMinutes ?? FLAP_MINUTES),
    current,
    problems: [...problems.values()],
    notes,
  };
}

function gather<T extends VrrpLogEvent>(pending: Map<string, T[]>, inst: string, at: LogEvent, windowMs: number): T[] {
  const all = [...(pending.get(inst) ?? []), ...(pending.get('') ?? [])];
  return all.filter((t) => at.ts === undefined || t.ts === undefined || at.ts - t.ts <= windowMs).sort((a, b) => a.line - b.line);
}

/** The likely cause chain of one transition, from the triggers logged just before it. */
function explain(e: LogEvent, from: VrrpState | undefined, triggers: TriggerEvent[], problems: ProblemEvent[]): Cause[] {
  const causes: Cause[] = [];
  const has = (k: TriggerEvent['trigger']) => triggers.filter((t) => t.trigger === k);
  const lines = (xs: VrrpLogEvent[]) => xs.map((x) => x.raw);
  const stopping = has('stopping');
  if (stopping.length) causes.push({ summary: 'keepalived on this node was stopping', evidence: lines(stopping) });
  const reloading = has('reloading');
  if (reloading.length && !stopping.length) causes.push({ summary: 'keepalived on this node was reloading its config', evidence: lines(reloading) });
  const ifDown = has('interface-down');
  if (ifDown.length) causes.push({ summary: `interface ${[...new Set(ifDown.map((t) => t.iface))].join(', ')} went down`, evidence: lines(ifDown) });
  const ifUp = has('interface-up');
  if (ifUp.length && e.state !== 'FAULT')
    causes.push({ summary: `interface ${[...new Set(ifUp.map((t) => t.iface))].join(', ')} came back up`, evidence: lines(ifUp) });
  const failed = has('track-script-failed');
  if (failed.length) causes.push({ summary: `track script ${[...new Set(failed.map((t) => t.script))].join(', ')} failed`, evidence: lines(failed) });
  const ok = has('track-script-ok');
  if (ok.length && e.state !== 'FAULT')
    causes.push({ summary: `track script ${[...new Set(ok.map((t) => t.script))].join(', ')} recovered`, evidence: lines(ok) });
  const synced = has('sync-group').filter((t) => t.state === e.state);
  if (synced.length)
    causes.push({
      summary: `sync group ${[...new Set(synced.map((t) => t.group))].join(', ')} moved its members to ${e.state} together (another member changed state)`,
      evidence: lines(synced.slice(-1)),
    });
  const late = has('timer-late');
  if (late.length)
    causes.push({
      summary: `keepalived was not scheduled in time (a timer fired ${Math.max(...late.map((t) => t.seconds ?? 0))} s late): CPU starvation, a VM pause or a blocking dump`,
      evidence: lines(late.slice(-1)),
    });
  if (e.reason) causes.push({ summary: `keepalived says: ${e.reason}`, evidence: [e.raw] });
  const prio0 = has('priority-zero');
  if (prio0.length) causes.push({ summary: 'the master sent priority 0: it stopped or went to FAULT', evidence: lines(prio0.slice(-1)) });
  const higher = has('higher-priority');
  if (higher.length) {
    const h = higher.at(-1)!;
    const who = h.peer ? ` from ${h.peer}` : '';
    const prio = h.priority !== undefined ? ` (priority ${h.priority}${h.ours !== undefined ? ` > ours ${h.ours}` : ''})` : '';
    causes.push({ summary: `a higher-priority advert arrived${who}${prio}: the peer took over`, evidence: [h.raw] });
  }
  const timeout = has('advert-timeout');
  if (timeout.length && e.state === 'MASTER' && !prio0.length && !stopping.length) {
    causes.push({
      summary:
        from === undefined || from === 'BACKUP' || from === 'INIT'
          ? 'no advert from a master within 3 advert intervals: the master is down, unreachable, or its adverts are dropped (firewall, multicast not delivered, auth/VRID/interval mismatch)'
          : 'advert timeout',
      evidence: lines(timeout.slice(-1)),
    });
  }
  const dropped = problems.filter((p) => p.problem !== 'send');
  if (dropped.length && e.state === 'MASTER') {
    const kinds = [...new Set(dropped.map((p) => p.problem))];
    causes.push({
      summary: `keepalived discarded the peer's adverts (${kinds.join(', ')} mismatch), so it did not count them`,
      evidence: lines(dropped.slice(-2)),
    });
  }
  if (!causes.length) causes.push({ summary: 'no trigger logged just before it (keepalived logs less without -D; see the lines above it)', evidence: [] });
  return causes;
}

/** Episodes of at least `count` non-initial transitions of one instance within `minutes`. */
export function detectFlapping(transitions: readonly Transition[], count = FLAP_COUNT, minutes = FLAP_MINUTES): FlapEpisode[] {
  const out: FlapEpisode[] = [];
  const byInst = new Map<string, Transition[]>();
  for (const t of transitions) {
    if (t.init || t.ts === undefined) continue;
    const list = byInst.get(t.instance) ?? [];
    list.push(t);
    byInst.set(t.instance, list);
  }
  const span = minutes * 60_000;
  for (const [instance, list] of byInst) {
    let i = 0;
    while (i < list.length) {
      let j = i;
      while (j + 1 < list.length && list[j + 1]!.ts! - list[i]!.ts! <= span) j++;
      const n = j - i + 1;
      if (n >= count) {
        // extend the episode while transitions keep coming within the span of the previous one
        while (j + 1 < list.length && list[j + 1]!.ts! - list[j]!.ts! <= span) j++;
        const first = list[i]!;
        const last = list[j]!;
        out.push({
          instance,
          count: j - i + 1,
          ...(first.time ? { fromTime: first.time } : {}),
          ...(last.time ? { toTime: last.time } : {}),
          minutes: Math.max(1, Math.round((last.ts! - first.ts!) / 60_000)),
        });
        i = j + 1;
      } else i++;
    }
  }
  return out;
}

// ---------------------------------------------------------------- rendering

const PROBLEM_WORDS: Record<ProblemEvent['problem'], string> = {
  auth: 'authentication mismatch',
  'advert-int': 'advert_int mismatch',
  vrid: 'VRID / VIP-list (or VRRP version) mismatch',
  version: 'VRRP version (v2/v3) mismatch',
  send: 'adverts cannot be sent',
  'unicast-peer': 'advert from an address that is not a unicast peer',
};

const SCRIPT_WORDS: Record<ScriptEvent['script'], string> = {
  'not-executable': 'script not executable, disabled',
  unsafe: 'script has unsafe permissions, disabled',
  'security-off': 'scripts run but enable_script_security is off',
  'notify-run': 'notify script run',
  'notify-failed': 'notify script failed',
};

const TRIGGER_WORDS: Partial<Record<TriggerEvent['trigger'], (t: TriggerEvent) => string>> = {
  'priority-zero': () => 'received priority 0 (the master is leaving)',
  'higher-priority': (t) => `higher-priority advert${t.peer ? ` from ${t.peer}` : ''}${t.priority !== undefined ? ` (${t.priority})` : ''}`,
  'advert-timeout': () => 'no advert within the master-down interval',
  'track-script-failed': (t) => `track script ${t.script} failed`,
  'track-script-ok': (t) => `track script ${t.script} succeeded`,
  'interface-down': (t) => `interface ${t.iface} down`,
  'interface-up': (t) => `interface ${t.iface} up`,
  'sent-priority-zero': () => 'sent priority 0 (leaving MASTER)',
  stopping: () => 'keepalived stopping',
  starting: (t) => `keepalived ${t.version ?? ''} starting`.replace('  ', ' '),
  reloading: () => 'keepalived reloading its config',
  'sync-group': (t) => `sync group ${t.group} syncs its members to ${t.state}`,
  'timer-late': (t) => `a keepalived timer fired ${t.seconds} s late (not scheduled in time)`,
};

function when(e: { time?: string }): string {
  return (e.time ?? '(no time)').padEnd(24);
}

/** The timeline as text: one line per entry, causes indented under each transition. */
export function renderTimeline(tl: Timeline): string {
  const out: string[] = [];
  const window = tl.since !== undefined ? `since ${new Date(tl.since).toISOString()}` : 'whole log';
  out.push(`keepalived timeline (${window}): ${tl.transitions.filter((t) => !t.init).length} transition(s)`);
  for (const n of tl.notes) out.push(`note: ${n}`);
  if (!tl.entries.length) {
    out.push('no state change, trigger or error in the window');
  }
  for (const entry of tl.entries) {
    if (entry.type === 'transition') {
      const t = entry.transition;
      const arrow = t.init ? `starts as ${t.to}` : `${t.from ?? '?'} -> ${t.to}`;
      out.push(`${when(t)} ${t.instance}  ${arrow}`);
      for (const c of t.causes) out.push(`${' '.repeat(26)}  because: ${c.summary}`);
    } else if (entry.type === 'trigger') {
      const words = TRIGGER_WORDS[entry.event.trigger]?.(entry.event);
      if (words) out.push(`${when(entry.event)} ${entry.event.instance ? `${entry.event.instance}  ` : ''}${words}`);
    } else if (entry.type === 'problem') {
      const e = entry.event;
      const rep = entry.repeats > 1 ? ` x${entry.repeats}${entry.lastTime ? ` (last ${entry.lastTime})` : ''}` : '';
      out.push(`${when(e)} ${e.instance ? `${e.instance}  ` : ''}${PROBLEM_WORDS[e.problem]}: ${e.message}${rep}`);
    } else {
      const e = entry.event;
      const rep = entry.repeats > 1 ? ` x${entry.repeats}` : '';
      out.push(`${when(e)} ${SCRIPT_WORDS[e.script]}${e.path ? `: ${e.path}` : ''}${rep}`);
    }
  }
  for (const f of tl.flapping) {
    out.push(`FLAPPING: ${f.instance} changed state ${f.count} times in ${f.minutes} min (${f.fromTime ?? '?'} .. ${f.toTime ?? '?'})`);
  }
  const states = Object.entries(tl.current);
  if (states.length) out.push(`last logged state: ${states.map(([i, s]) => `${i} ${s}`).join(', ')}`);
  return out.join('\n') + '\n';
}

/** "24h", "30m", "2d", "90s", or an ISO date → ms since the epoch. */
export function parseSince(text: string, now = Date.now()): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim());
  if (m) return now - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : undefined;
}
