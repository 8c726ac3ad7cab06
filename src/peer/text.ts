// The two nodes side by side in the text report: role, each instance's state, VIPs and last
// transition, and the findings per node. Everything shown from the peer is already validated data;
// strings are still cut to printable characters (the peer's output is hostile input).
import type { InstanceState, Report } from '../types.js';
import type { Style } from '../report/ansi.js';

const printable = (t: string, max = 60) => {
  const c = t.replace(/[^\x20-\x7e]/g, '');
  return c.length > max ? `${c.slice(0, max - 1)}…` : c;
};

function counts(report: Report, node: string): string {
  const fs = report.findings.filter((f) => (f.node ?? 'local') === node);
  if (!fs.length) return 'no findings';
  return (['critical', 'error', 'warning', 'info'] as const)
    .map((sev) => [sev, fs.filter((f) => f.severity === sev).length] as const)
    .filter(([, n]) => n > 0)
    .map(([sev, n]) => `${n} ${sev}`)
    .join(', ');
}

function instanceCell(i: InstanceState | undefined): string[] {
  if (!i) return ['-', ''];
  const held = i.vipsHeld.length ? `holds ${i.vipsHeld.join(', ')}` : 'holds no VIP';
  return [`${i.state}${i.since ? ` since ${i.since}` : ''}`, held];
}

/** The pair block; empty when no peer was asked for. */
export function pairLines(report: Report, s: Style, width: number): string[] {
  const peer = report.peer;
  if (!peer) return [];
  const name = printable(peer.host);
  if (!peer.reachable) {
    return [
      `${s.bold('Peer')} ${name}: ${s.yellow('not reachable')} (${peer.via}) — ${printable(peer.reason ?? 'no reason given', 300)}`,
      s.dim("  The findings below are this node's only."),
      '',
    ];
  }
  const col = Math.max(28, Math.floor((Math.min(width, 120) - 16) / 2));
  const row = (label: string, a: string, b: string) => `  ${label.padEnd(14)}${printable(a, col - 2).padEnd(col)}${printable(b, col - 2)}`;
  const out = [
    s.bold(
      row(
        'Pair',
        `this node (${report.host.hostname})`,
        `peer ${name}${peer.hostname && peer.hostname !== peer.host ? ` (${peer.hostname})` : ''}, via ${peer.via}`,
      ),
    ),
  ];
  out.push(row('role', report.role.toUpperCase(), (peer.role ?? 'unknown').toUpperCase()));
  const names = [...new Set([...report.instances.map((i) => i.name), ...(peer.instances ?? []).map((i) => i.name)])];
  for (const n of names) {
    const [a1, a2] = instanceCell(report.instances.find((i) => i.name === n));
    const [b1, b2] = instanceCell(peer.instances?.find((i) => i.name === n));
    out.push(row(n, a1!, b1!));
    out.push(row('', a2!, b2!));
  }
  out.push(row('findings', counts(report, 'local'), counts(report, peer.host)));
  if (peer.reason) out.push(s.dim(`  note: ${printable(peer.reason, 300)}`));
  out.push('');
  return out;
}
