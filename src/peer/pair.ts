// Both nodes in one report. The peer's snapshot is embedded in this node's as the `peer-snapshot`
// probe (and its reachability as `peer-status`), so `check --from` reproduces the same report;
// the pair checks (checks/keepalived-pair.ts) read it from there. analysePair() adds the peer's
// own findings (marked with its name, never with a fix to apply here), and says for each split
// brain which node's finding is the cause.
import { scrubFindings } from '../secrets.js';
import type { CollectOptions, Finding, FixStep, InstanceState, PeerStatus, ProbeRecord, Report, Snapshot } from '../types.js';
import { embeddedSnapshot, SEVERITY_ORDER } from '../types.js';
import { analyse, type AnalyseOptions } from '../pipeline.js';
import { PEER_SNAPSHOT_PROBE, WIRE_PROBE_PREFIX } from '../probes/ids.js';
import { configDrift, type Drift } from './drift.js';
import { CheckContext } from '../context.js';
import { keepalivedConfig } from '../keepalived/from-snapshot.js';

import { PEER_STATUS_PROBE } from '../probes/ids.js';
export { PEER_STATUS_PROBE };
export const LOCAL_NODE = 'local';

/** This node's snapshot with the peer's (or its failure) inside. */
export function embedPeer(local: Snapshot, peer: { status: PeerStatus; snapshot?: Snapshot }): Snapshot {
  const rec = (id: string, stdout: string): ProbeRecord => ({ id, kind: 'internal', status: 'ok', stdout, stderr: '', ms: 0 });
  const probes: Record<string, ProbeRecord> = { ...local.probes, [PEER_STATUS_PROBE]: rec(PEER_STATUS_PROBE, JSON.stringify(peer.status)) };
  if (peer.snapshot) probes[PEER_SNAPSHOT_PROBE] = rec(PEER_SNAPSHOT_PROBE, JSON.stringify(peer.snapshot));
  else delete probes[PEER_SNAPSHOT_PROBE];
  const options: CollectOptions = { ...local.options, peer: peer.status.host };
  delete options.peerSnapshot;
  return { ...local, options, probes };
}

/** A snapshot file given with --peer-snapshot put into a snapshot (also one loaded with --from). */
export function embedPeerSnapshotFile(local: Snapshot, file: string, peer: Snapshot): Snapshot {
  const rec: ProbeRecord = { id: PEER_SNAPSHOT_PROBE, kind: 'file', path: file, status: 'ok', stdout: JSON.stringify(peer), stderr: '', ms: 0 };
  const probes: Record<string, ProbeRecord> = { ...local.probes, [PEER_SNAPSHOT_PROBE]: rec };
  delete probes[PEER_STATUS_PROBE];
  const options: CollectOptions = { ...local.options, peerSnapshot: file };
  delete options.peer;
  return { ...local, options, probes };
}

function parsePeerSnapshot(snapshot: Snapshot): Snapshot | undefined {
  const r = snapshot.probes[PEER_SNAPSHOT_PROBE];
  return r?.status === 'ok' ? embeddedSnapshot(r.stdout) : undefined;
}

/** The peer asked for in this snapshot: its status and snapshot, or undefined when none was. */
export function peerOf(snapshot: Snapshot): { status: PeerStatus; snapshot?: Snapshot } | undefined {
  const statusRec = snapshot.probes[PEER_STATUS_PROBE];
  const peer = parsePeerSnapshot(snapshot);
  if (statusRec?.status === 'ok') {
    try {
      const s = JSON.parse(statusRec.stdout) as PeerStatus;
      if (typeof s.host === 'string' && typeof s.reachable === 'boolean') return { status: s, ...(peer && s.reachable ? { snapshot: peer } : {}) };
    } catch {
      // fall through
    }
  }
  if (peer) return { status: { host: peer.host.hostname, reachable: true, via: 'snapshot' }, snapshot: peer };
  if (snapshot.options.peerSnapshot)
    return { status: { host: snapshot.options.peerSnapshot, reachable: false, via: 'snapshot', reason: 'the file is not a readable snapshot' } };
  return undefined;
}

/** A command line for the operator to read (and run there): each word quoted only when needed. */
export function showCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function stepText(step: FixStep): string {
  if ('argv' in step) return showCommand(step.argv);
  if ('write' in step) return `write ${step.write.path}`;
  return `remove ${step.remove.path}`;
}

/** A peer finding as shown here: whose it is, what to run there; its fix plan is never applied on this node. */
function asPeerFinding(f: Finding, name: string): Finding {
  const { fix, ...rest } = f;
  let detail = f.detail;
  if (fix) {
    detail += `\nOn ${name}, the fix is: ${fix.steps.map(stepText).join('; ')}. Run it there with its preview, backup and rollback: \`hagw-doctor fix ${f.code}\` on ${name}, or from here \`hagw-doctor fix --on-peer ${name} ${f.code}\`.`;
  }
  return { ...rest, detail, node: name };
}

const PAIR_CONFIG_CODES = new Set([
  'vrrp-auth-mismatch',
  'vrrp-advert-int-mismatch',
  'unicast-peer-invalid',
  'keepalived-config-invalid',
  'vrrp-version-mismatch',
]);

function when(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** A config disagreement between the nodes belongs to the node whose file changed after its keepalived loaded it. */
function attributeDrift(findings: Finding[], mine: Drift | undefined, theirs: Drift | undefined, peerName: string): void {
  if (!mine && !theirs) return;
  for (const f of findings) {
    if (!PAIR_CONFIG_CODES.has(f.code) || !f.evidence.some((e) => e.probe === 'peer-config' || e.probe.startsWith(`${peerName}:kconf:`))) continue;
    const notes: string[] = [];
    if (theirs)
      notes.push(
        `${theirs.file} on ${peerName} changed at ${when(theirs.changedAt)}, after its keepalived ${theirs.loadedBy.startsWith('reloaded') ? theirs.loadedBy : `started at ${when(theirs.loadedAt)}`}: ${peerName} has not loaded it yet, so the running pair still agrees, and the next reload or restart of ${peerName} breaks it`,
      );
    if (mine)
      notes.push(
        `${mine.file} on this node changed at ${when(mine.changedAt)}, after its keepalived ${mine.loadedBy.startsWith('reloaded') ? mine.loadedBy : `started at ${when(mine.loadedAt)}`}: this node has not loaded it yet`,
      );
    f.detail += `\nConfig drift: ${notes.join('; ')}.`;
    if (theirs && !mine) {
      f.node = peerName;
      f.evidence.push({
        probe: `${peerName}:stat:${theirs.file}`,
        excerpt: `modified ${when(theirs.changedAt)}; keepalived loaded its config ${when(theirs.loadedAt)}`,
      });
    }
  }
}

/** Codes that explain why the nodes do not hear each other (the causes of a split brain). */
const CAUSES = [
  'vrrp-input-blocked',
  'vrrp-output-blocked',
  'vrrp-conntrack-nat',
  'snat-matches-vrrp',
  'vrrp-auth-mismatch',
  'vrrp-advert-int-mismatch',
  'unicast-peer-invalid',
  'vrrp-version-mismatch',
  'vrrp-multicast-in-cloud',
  'vrrp-strict-blocks-vip',
];

function nodeLabel(node: string | undefined, peerName: string): string {
  return node === LOCAL_NODE || node === undefined ? 'this node' : `the peer ${peerName}`;
}

/** check's analysis with the other node: its findings, marked, and the split brain's cause named. */
export function analysePair(snapshot: Snapshot, opts: AnalyseOptions = {}): Report {
  const report = analyse(snapshot, opts);
  const peer = peerOf(snapshot);
  if (!peer) return report;
  const name = peer.status.via === 'ssh' ? peer.status.host : (peer.snapshot?.host.hostname ?? peer.status.host);
  for (const f of report.findings) f.node ??= LOCAL_NODE;
  const status: PeerStatus = { ...peer.status };
  if (peer.snapshot) {
    const theirs = analyse(peer.snapshot, { ...(opts.only ? { only: opts.only } : {}), source: `peer:${name}` });
    status.hostname = peer.snapshot.host.hostname;
    status.role = theirs.role;
    status.instances = theirs.instances;
    const mine = new Set(report.findings.map((f) => `${f.code}\u0000${f.subject ?? ''}\u0000${f.title}`));
    for (const f of theirs.findings) {
      // a pair finding the peer's snapshot shows the same way is already here
      if (mine.has(`${f.code}\u0000${f.subject ?? ''}\u0000${f.title}`) && f.code === 'vrrp-split-brain') continue;
      report.findings.push(asPeerFinding(f, name));
    }
    attributeDrift(report.findings, configDrift(snapshot), configDrift(peer.snapshot), name);
    dropHealedSplitBrain(report.findings, report.instances, theirs.instances);
    attributeSplitBrain(report.findings, name, { local: report, peer: theirs, snapshot, peerSnapshot: peer.snapshot });
  }
  // the peer's findings were scrubbed of its own secrets; this node's are the pair's too
  scrubFindings(report.findings, snapshot);
  report.findings.sort((a, b) => SEVERITY_ORDER[b.severity] - SEVERITY_ORDER[a.severity]);
  const count = (s: Finding['severity']) => report.findings.filter((f) => f.severity === s).length;
  const summary = { critical: count('critical'), error: count('error'), warning: count('warning'), info: count('info') };
  // the peer's findings add to the counts; what this node could not judge keeps its weight
  const prev = report.summary.status;
  const status2 =
    summary.critical + summary.error > 0 ? 'critical' : prev === 'unknown' ? 'unknown' : summary.warning > 0 || prev === 'warning' ? 'warning' : 'ok';
  report.summary = { ...report.summary, ...summary, status: status2 };
  report.peer = status;
  return report;
}

/** A split brain judged from one node's log alone ("forcing new election" while MASTER) is an
 *  inference about the other node; with the other node read, its state now decides. When that node
 *  is not MASTER for the instance (BACKUP, FAULT, STOP), it is not advertising as master: the
 *  episode in the log has healed. A finding with wire evidence (a rival advert seen now) stays. */
function dropHealedSplitBrain(findings: Finding[], local: InstanceState[], peer: InstanceState[]): void {
  const healedOn = (states: InstanceState[], subject: string) => {
    const st = states.find((s) => s.name === subject);
    return st !== undefined && (st.state === 'BACKUP' || st.state === 'FAULT' || st.state === 'STOP');
  };
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i]!;
    if (f.code !== 'vrrp-split-brain' || !f.subject || / both nodes hold /.test(f.title)) continue;
    if (f.evidence.some((e) => e.probe.includes(WIRE_PROBE_PREFIX))) continue;
    const other = f.node === undefined || f.node === LOCAL_NODE ? peer : local;
    if (healedOn(other, f.subject)) findings.splice(i--, 1);
  }
}

interface PairFacts {
  local: Report;
  peer: Report;
  snapshot: Snapshot;
  peerSnapshot: Snapshot;
}

/** The check that evaluates both nodes' rule sets for VRRP in and out (checks/netfilter.ts). */
const VRRP_FILTER_CHECK = 'netfilter-vrrp-filter';

/** Both nodes hold the VIPs and neither node shows a cause: each node's rule set passes VRRP in and
 *  out, no SNAT touches the adverts, authentication, version, interval and unicast peers agree. The
 *  adverts are then lost between the hosts (catalogue 4 and 24): a cloud security group or network
 *  ACL, a switch's IGMP snooping or 224.0.0.0/24 filtering, a hypervisor's port security. None of
 *  them can be read from a host, so the finding says so and what to check, and says which node's
 *  rule set could not be judged when one could not (then the host is not excluded). */
function nameOutsideCause(findings: Finding[], peerName: string, pair: PairFacts): void {
  const judged = (r: Report) => r.checks.find((c) => c.id === VRRP_FILTER_CHECK);
  const mine = judged(pair.local);
  const theirs = judged(pair.peer);
  const confs = [pair.snapshot, pair.peerSnapshot].map((s) => keepalivedConfig(new CheckContext(s)).result?.config);
  for (const f of findings) {
    if (f.code !== 'vrrp-split-brain' || !/ both nodes hold /.test(f.title)) continue;
    const inst = confs.map((c) => c?.vrrpInstances.find((i) => i.name === f.subject));
    const unicast = inst.some((i) => (i?.unicastPeers.length ?? 0) > 0);
    const ah = inst.some((i) => i?.authentication?.type?.toUpperCase() === 'AH');
    const proto = ah ? 'IP protocol 51 (AH: the adverts use auth_type AH)' : 'IP protocol 112 (VRRP)';
    const notJudged = [
      ...(mine?.status === 'pass' ? [] : [`this node (${mine?.reason ?? mine?.status ?? 'not run'})`]),
      ...(theirs?.status === 'pass' ? [] : [`${peerName} (${theirs?.reason ?? theirs?.status ?? 'not run'})`]),
    ];
    const outside = [
      `a cloud security group / network ACL that does not pass ${proto} between the nodes`,
      ...(unicast ? [] : ['a switch with IGMP snooping (or a filter on 224.0.0.0/24) that does not flood the VRRP group 224.0.0.18 to every port']),
      "a hypervisor port-security or MAC filter, or a VLAN that differs between the nodes' ports",
    ];
    const check = `Check: run \`tcpdump -ni ${inst[0]?.interface ?? 'IF'} '${ah ? 'ip proto 51' : 'ip proto 112'}'\` on both nodes: each shows its own adverts leaving and none of the other's arriving when the path drops them; then the ${unicast ? 'security group / ACL rules' : 'security group / ACL rules and the switch (IGMP snooping on the VLAN, a querier, 224.0.0.0/24 handling)'} between them. ${unicast ? '' : 'unicast_peer on both nodes avoids the multicast handling. '}`;
    f.detail += notJudged.length
      ? `\nCause: none found on either node, but a host firewall is not excluded: the VRRP rules of ${notJudged.join(' and ')} could not be judged. If they pass VRRP, the adverts are lost outside both hosts: ${outside.join('; ')}. ${check}`.trimEnd()
      : `\nCause: outside both hosts. Neither node shows one: both rule sets pass VRRP in and out, no SNAT rewrites the adverts, authentication, version, interval and peers agree; so the adverts are lost between the nodes, where no host can look: ${outside.join('; ')}. ${check}`.trimEnd();
  }
}

/** Name, in each split-brain finding, the findings on either node that explain it. One split brain
 *  per instance: the log's view (a MASTER hearing the other master) joins the addresses' view. */
function attributeSplitBrain(findings: Finding[], peerName: string, pair: PairFacts): void {
  const live = new Map<string, Finding>();
  for (const f of findings) if (f.code === 'vrrp-split-brain' && f.subject && / both nodes hold /.test(f.title)) live.set(f.subject, f);
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i]!;
    const keep = f.code === 'vrrp-split-brain' && f.subject ? live.get(f.subject) : undefined;
    if (!keep || keep === f) continue;
    for (const e of f.evidence)
      if (!keep.evidence.some((x) => x.probe === e.probe && x.excerpt === e.excerpt))
        keep.evidence.push(e.probe.includes(':') || !f.node || f.node === LOCAL_NODE ? e : { ...e, probe: `${f.node}:${e.probe}` });
    findings.splice(i--, 1);
  }
  const causes = findings.filter((f) => CAUSES.includes(f.code));
  if (!causes.length) {
    nameOutsideCause(findings, peerName, pair);
    return;
  }
  for (const f of findings) {
    if (f.code !== 'vrrp-split-brain') continue;
    const related = causes.filter((c) => !c.subject || !f.subject || c.subject === f.subject);
    const list = (related.length ? related : causes).slice(0, 4);
    f.detail += `\nCause: ${list.map((c) => `on ${nodeLabel(c.node, peerName)}, ${c.title} (${c.code})`).join('; ')}.`;
    for (const c of list)
      for (const e of c.evidence.slice(0, 1))
        f.evidence.push({ probe: c.node && c.node !== LOCAL_NODE ? `${c.node}:${e.probe}` : e.probe, excerpt: e.excerpt });
  }
}
