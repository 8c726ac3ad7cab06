// Failover triage, for the 3 a.m. case: state per instance and since when, VIPs held, the peer,
// the last transitions with their causes, and the findings that explain a failover, each one
// key away from its fix.
import React, { useEffect, useState } from 'react';
import { Box } from 'ink';
import { useKeys } from '../components/keys.js';
import type { Finding, Report, Snapshot } from '../../types.js';
import { Menu, type MenuItem } from '../components/menu.js';
import { Screen } from '../components/screen.js';
import { ScrollView, type Line } from '../components/scroll-view.js';
import { Spinner } from '../components/spinner.js';
import { SEVERITY_LABEL, ToneText } from '../components/theme.js';
import { routeOf, useAppContext, useSession } from '../context.js';
import { failoverFindings, vipsHeld } from '../logic/findings.js';
import type { TriageTimeline } from '../logic/timeline.js';
import { timelineLines } from '../../vrrp/timeline.js';
import { wireLines } from '../logic/wire.js';
import { liveLines, wrapLines } from '../logic/live-lines.js';
import { useLiveTriage } from '../hooks/use-live-triage.js';

export function stateLines(report: Report, snapshot: Snapshot | undefined, timeline: TriageTimeline | undefined, opts: { live?: boolean } = {}): Line[] {
  const out: Line[] = [];
  if (!report.instances.length) out.push({ text: 'No VRRP instance configured in this network namespace.', tone: 'warning' });
  // live: the block above says the state and the VIPs as they change; the log's history follows
  for (const i of opts.live ? [] : report.instances) {
    out.push({
      text: `${i.name}: ${i.state}${i.since ? ` since ${i.since}` : ''}  (${i.source})`,
      tone: i.state === 'MASTER' ? 'ok' : i.state === 'FAULT' || i.state === 'STOP' ? 'error' : 'plain',
      bold: true,
    });
    if (i.vips.length) out.push({ text: `  VIPs: ${i.vips.map((v) => (i.vipsHeld.includes(v) ? `${v} (held)` : v)).join(', ')}`, tone: 'muted' });
  }
  const held = vipsHeld(report);
  if (!opts.live) {
    out.push({ text: `VIPs held by this node: ${held.length ? held.join(', ') : 'none'}` });
    out.push({ text: `Peer: ${peerLine(report, snapshot)}`, tone: 'muted' });
  }
  if (snapshot?.options.wire) {
    const wire = wireLines(snapshot);
    out.push({ text: '' }, { text: 'On the wire (VRRP adverts seen here, before the firewall)', bold: true });
    for (const l of wire.lines) out.push({ text: `  ${l}`, tone: wire.captured ? 'plain' : 'warning' });
  }
  out.push({ text: '' });
  out.push({ text: opts.live ? "Earlier transitions (keepalived's log)" : 'Last state transitions', bold: true });
  if (!timeline) out.push({ text: '  reading the log…', tone: 'muted' });
  else if (!timeline.timeline) out.push({ text: `  ${timeline.source}`, tone: 'muted' });
  else {
    return [...out, ...timelineBody(timeline)];
  }
  return out;
}

function timelineBody(t: TriageTimeline): Line[] {
  // the same lines as `hagw-doctor timeline`, briefer: the last 8 transitions, newest first
  return timelineLines(t.timeline!, { brief: { last: 8, source: t.source } });
}

function peerLine(report: Report, snapshot: Snapshot | undefined): string {
  const silent = report.findings.find((f) => f.code === 'vrrp-no-peer-adverts');
  if (silent) return `no advert arrives from it (${silent.title})`;
  const blocked = report.findings.find((f) => f.code === 'vrrp-input-blocked');
  if (blocked) return `its adverts are dropped here (${blocked.title})`;
  if (snapshot?.options.wire) {
    const wire = wireLines(snapshot);
    if (!wire.captured) return `not measured: ${wire.lines[0] ?? 'no capture'}`;
    // "seen" only when another node's adverts were on the wire, never this node's own
    return wire.peerSeen ? `${wire.who}; no finding against it` : (wire.who ?? 'no advert seen on the wire');
  }
  return 'not measured (w: listen for its adverts on the wire)';
}

export function Triage() {
  const { session, services, push, pop, active, bodyHeight, columns } = useAppContext();
  const { run } = useSession();
  const [timeline, setTimeline] = useState<TriageTimeline | undefined>();
  const [focus, setFocus] = useState<'findings' | 'state'>('findings');
  const live = useLiveTriage(session, services);
  // the last finished run stays on screen while a new one runs (w, r): the screen never blanks
  const [shown, setShown] = useState<{ runId: number; report: Report; snapshot: Snapshot | undefined } | undefined>();
  if (run?.phase === 'done' && run.report && (shown?.runId !== run.id || shown.report !== run.report))
    setShown({ runId: run.id, report: run.report, snapshot: run.snapshot });

  useEffect(() => {
    void session.diagnose();
  }, [session]);

  const snapshot = shown?.snapshot;
  useEffect(() => {
    if (!snapshot) return;
    let alive = true;
    import('../logic/timeline.js')
      .then((m) => m.triageTimeline(snapshot))
      .then(
        (t) => alive && setTimeline(t),
        (err: Error) => alive && setTimeline({ source: `the timeline could not be built: ${err.message}` }),
      );
    return () => {
      alive = false;
    };
  }, [snapshot]);

  const watch = live.watch;
  // the live light check's report is the freshest; the session's until it has run
  const report = watch?.state.report ?? shown?.report;
  const explain: Finding[] = report ? failoverFindings(report) : [];
  const busy = run?.phase === 'collecting' || run?.phase === 'analysing';

  useKeys(
    (input, key) => {
      if (key.escape) pop();
      else if (key.tab) setFocus((f) => (f === 'findings' ? 'state' : 'findings'));
      else if (input === 'r') {
        if (watch) void watch.runCheck();
        else void session.diagnose(true);
      }
      // the wire: followed live (a pane of the peer's adverts) or, without a live stream, a few seconds of tcpdump through the pipeline
      else if (input === 'w') {
        if (watch) watch.setWire(watch.state.wire === 'off' || watch.state.wire === 'failed');
        else if (!busy) void session.diagnose(true, { wire: true });
      }
    },
    { isActive: active },
  );

  if (!report) {
    return (
      <Screen title="Failover triage" keys={[['Esc', 'back']]}>
        <Box>
          <Spinner />
          <ToneText>{` reading this node: ${run?.probes ?? 0} probes${run?.wire ? ', listening for VRRP adverts on the wire for a few seconds' : ''}`}</ToneText>
        </Box>
      </Screen>
    );
  }

  const width = Math.max(20, columns - 1);
  const liveBlock = watch ? wrapLines(liveLines(watch.state, live.events, live.now), width) : [];
  const notes: Line[] = [];
  if (!watch && services.demo) notes.push({ text: 'Demo: a recorded snapshot, nothing live to follow.', tone: 'muted' });
  else if (!watch && live.error) notes.push({ text: `The live view could not start: ${live.error}`, tone: 'warning' });
  if (busy) notes.push({ text: run?.wire ? 'Listening for VRRP adverts on the wire for a few seconds…' : 'Checking again…', tone: 'muted' });
  const history = stateLines(report, snapshot, timeline, { live: Boolean(watch) });
  const lines = [...liveBlock, ...wrapLines([...notes, ...history], width)];
  const listHeight = Math.min(explain.length + 1, Math.max(3, Math.floor(bodyHeight / 3)));
  const items: MenuItem[] = explain.map((f, i) => ({
    id: String(i),
    label: `${SEVERITY_LABEL[f.severity]} ${f.code}`,
    hint: `${f.title}${f.fix ? '  (f: fix)' : ''}`,
    tone: f.severity,
  }));
  const wireKey = watch ? (watch.state.wire === 'off' || watch.state.wire === 'failed' ? 'follow the wire' : 'stop the wire') : 'wire';
  return (
    <Screen
      title={watch ? 'Failover triage · live' : 'Failover triage'}
      keys={[
        ['Tab', focus === 'findings' ? 'scroll the state' : 'findings'],
        ['↑↓', 'move'],
        ['Enter', 'open'],
        ['f', 'fix'],
        ['w', wireKey],
        ['r', 're-check'],
        ['Esc', 'back'],
      ]}
    >
      <ScrollView lines={lines} height={bodyHeight - listHeight - 1} isFocused={active && focus === 'state'} />
      <ToneText bold>
        {explain.length
          ? 'What explains a failover here:'
          : 'No finding explains a failover (split brain, blocked VRRP, stale conntrack, SNAT on the wrong node).'}
      </ToneText>
      {explain.length ? (
        <FindingPicker
          items={items}
          findings={explain}
          height={listHeight}
          isFocused={active && focus === 'findings'}
          onOpen={(f, fix) => push(routeOf(f, fix && f.fix ? 'fix' : 'finding'))}
        />
      ) : null}
    </Screen>
  );
}

function FindingPicker({
  items,
  findings,
  height,
  isFocused,
  onOpen,
}: {
  items: MenuItem[];
  findings: Finding[];
  height: number;
  isFocused: boolean;
  onOpen(f: Finding, fix: boolean): void;
}) {
  const [current, setCurrent] = useState(0);
  useKeys(
    (input) => {
      if (input === 'f') onOpen(findings[current]!, true);
    },
    { isActive: isFocused },
  );
  return (
    <Menu
      items={items}
      height={height}
      isFocused={isFocused}
      onHighlight={(it) => setCurrent(Number(it.id))}
      onSelect={(it) => onOpen(findings[Number(it.id)]!, false)}
    />
  );
}
