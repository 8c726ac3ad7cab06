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
import { wireLines } from '../logic/wire.js';

export function stateLines(report: Report, snapshot: Snapshot | undefined, timeline: TriageTimeline | undefined): Line[] {
  const out: Line[] = [];
  if (!report.instances.length) out.push({ text: 'No VRRP instance configured in this network namespace.', tone: 'warning' });
  for (const i of report.instances) {
    out.push({
      text: `${i.name}: ${i.state}${i.since ? ` since ${i.since}` : ''}  (${i.source})`,
      tone: i.state === 'MASTER' ? 'ok' : i.state === 'FAULT' || i.state === 'STOP' ? 'error' : 'plain',
      bold: true,
    });
    if (i.vips.length) out.push({ text: `  VIPs: ${i.vips.map((v) => (i.vipsHeld.includes(v) ? `${v} (held)` : v)).join(', ')}`, tone: 'muted' });
  }
  const held = vipsHeld(report);
  out.push({ text: `VIPs held by this node: ${held.length ? held.join(', ') : 'none'}` });
  out.push({ text: `Peer: ${peerLine(report, snapshot)}`, tone: 'muted' });
  if (snapshot?.options.wire) {
    const wire = wireLines(snapshot);
    out.push({ text: '' }, { text: 'On the wire (VRRP adverts seen here, before the firewall)', bold: true });
    for (const l of wire.lines) out.push({ text: `  ${l}`, tone: wire.captured ? 'plain' : 'warning' });
  }
  out.push({ text: '' });
  out.push({ text: 'Last state transitions', bold: true });
  if (!timeline) out.push({ text: '  reading the log…', tone: 'muted' });
  else if (!timeline.timeline) out.push({ text: `  ${timeline.source}`, tone: 'muted' });
  else {
    return [...out, ...timelineBody(timeline)];
  }
  return out;
}

function timelineBody(t: TriageTimeline): Line[] {
  const tl = t.timeline!;
  const lines: Line[] = [];
  for (const n of tl.notes) lines.push({ text: `  note: ${n}`, tone: 'muted' });
  const real = tl.transitions.slice(-8).reverse();
  if (!real.length) lines.push({ text: `  none in the window (log: ${t.source})`, tone: 'muted' });
  for (const tr of real) {
    lines.push({ text: `  ${tr.time ?? '(no time)'}  ${tr.instance}  ${tr.init ? `starts as ${tr.to}` : `${tr.from ?? '?'} -> ${tr.to}`}` });
    for (const c of tr.causes) lines.push({ text: `      because: ${c.summary}`, tone: 'muted' });
    if (!tr.causes.length && !tr.init) lines.push({ text: '      cause: nothing in the log just before it', tone: 'muted' });
  }
  for (const f of tl.flapping) lines.push({ text: `  FLAPPING: ${f.instance} changed state ${f.count} times in ${f.minutes} min`, tone: 'warning' });
  return lines;
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
  const { session, push, pop, active, bodyHeight } = useAppContext();
  const { run } = useSession();
  const [timeline, setTimeline] = useState<TriageTimeline | undefined>();
  const [focus, setFocus] = useState<'findings' | 'state'>('findings');

  useEffect(() => {
    void session.diagnose();
  }, [session]);

  const snapshot = run?.phase === 'done' ? run.snapshot : undefined;
  useEffect(() => {
    if (!snapshot) return;
    let live = true;
    import('../logic/timeline.js')
      .then((m) => m.triageTimeline(snapshot))
      .then(
        (t) => live && setTimeline(t),
        (err: Error) => live && setTimeline({ source: `the timeline could not be built: ${err.message}` }),
      );
    return () => {
      live = false;
    };
  }, [snapshot]);

  const report = run?.phase === 'done' ? run.report : undefined;
  const explain: Finding[] = report ? failoverFindings(report) : [];

  useKeys(
    (input, key) => {
      if (key.escape) pop();
      else if (key.tab) setFocus((f) => (f === 'findings' ? 'state' : 'findings'));
      else if (input === 'r') void session.diagnose(true);
      // a few seconds of tcpdump on the VRRP interfaces: who really advertises, seen before netfilter
      else if (input === 'w') void session.diagnose(true, { wire: true });
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

  const listHeight = Math.min(explain.length + 1, Math.max(3, Math.floor(bodyHeight / 3)));
  const items: MenuItem[] = explain.map((f, i) => ({
    id: String(i),
    label: `${SEVERITY_LABEL[f.severity]} ${f.code}`,
    hint: `${f.title}${f.fix ? '  (f: fix)' : ''}`,
    tone: f.severity,
  }));
  return (
    <Screen title="Failover triage" keys={[['Tab', focus === 'findings' ? 'scroll the state' : 'findings'], ['↑↓', 'move'], ['Enter', 'open'], ['f', 'fix'], ['w', 'wire'], ['r', 're-run'], ['Esc', 'back']]}>
      <ScrollView lines={stateLines(report, snapshot, timeline)} height={bodyHeight - listHeight - 1} isFocused={active && focus === 'state'} />
      <ToneText bold>{explain.length ? 'What explains a failover here:' : 'No finding explains a failover (split brain, blocked VRRP, stale conntrack, SNAT on the wrong node).'}</ToneText>
      {explain.length ? (
        <FindingPicker items={items} findings={explain} height={listHeight} isFocused={active && focus === 'findings'} onOpen={(f, fix) => push(routeOf(f, fix && f.fix ? 'fix' : 'finding'))} />
      ) : null}
    </Screen>
  );
}

function FindingPicker({ items, findings, height, isFocused, onOpen }: { items: MenuItem[]; findings: Finding[]; height: number; isFocused: boolean; onOpen(f: Finding, fix: boolean): void }) {
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
