// What the Diagnose and Triage screens say about findings. Pure: no React, no I/O.
import type { CheckStatus, Finding, FixStep, Report, Severity, Snapshot } from '../../types.js';
import { SEVERITY_ORDER } from '../../types.js';
import { CODES, isFindingCode } from '../../codes.js';
import { describeStep } from '../../report/text.js';
import { unifiedDiff } from '../../change/diff.js';
import { fileProbeId } from '../../probes/ids.js';

export const SEVERITIES_WORST_FIRST: readonly Severity[] = ['critical', 'error', 'warning', 'info'];

export interface SeverityGroup {
  severity: Severity;
  findings: Finding[];
}

/** Findings grouped by severity, worst first; empty groups left out. */
export function groupBySeverity(findings: readonly Finding[]): SeverityGroup[] {
  return SEVERITIES_WORST_FIRST.map((severity) => ({ severity, findings: findings.filter((f) => f.severity === severity) })).filter(
    (g) => g.findings.length > 0,
  );
}

/** The findings in the order the list shows them (group by group). */
export function displayOrder(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_ORDER[b.severity] - SEVERITY_ORDER[a.severity]);
}

/** The one-character mark of a finished check row. */
export function checkMark(status: CheckStatus): string {
  switch (status) {
    case 'pass':
      return '✓';
    case 'fail':
      return '✗';
    case 'skip':
      return '-';
    default:
      return '!';
  }
}

/** A failed check is marked by its worst finding: ✗ for error/critical, ! for warning/info. */
export function failMark(findings: readonly Finding[]): string {
  return findings.some((f) => SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER.error) ? '✗' : '!';
}

/** The gateway paragraph: the check's own detail, and what the code means in general. */
export function whyItMatters(f: Finding): string {
  const meaning = isFindingCode(f.code) ? CODES[f.code].meaning : undefined;
  return meaning ? `${f.detail} (${f.code}: ${meaning}.)` : f.detail;
}

export interface PreviewLine {
  text: string;
  kind: 'heading' | 'command' | 'add' | 'remove' | 'context' | 'note';
}

/** The fix screen's preview built from the plan itself (exact argv, file diffs against the
 *  content the snapshot recorded), used when the change engine has no planPreview. */
export function planPreviewLines(plan: NonNullable<Finding['fix']>, snapshot: Snapshot | undefined): PreviewLine[] {
  const out: PreviewLine[] = [];
  plan.steps.forEach((step, i) => {
    out.push({ kind: 'heading', text: `${i + 1}. ${describeStep(step)}${step.why ? `  (${step.why})` : ''}` });
    out.push(...stepDetail(step, snapshot));
  });
  if (plan.touches.conntrack) out.push({ kind: 'note', text: 'conntrack entries that are deleted cannot be restored by undo' });
  return out;
}

function stepDetail(step: FixStep, snapshot: Snapshot | undefined): PreviewLine[] {
  if ('argv' in step) {
    const out: PreviewLine[] = [{ kind: 'command', text: `   $ ${describeStep(step)}` }];
    for (const u of step.undo ?? []) out.push({ kind: 'note', text: `   undo: ${describeStep({ argv: u })}` });
    if (step.optional) out.push({ kind: 'note', text: '   (a failure of this step is tolerated)' });
    return out;
  }
  if ('write' in step) {
    const before = snapshotFile(snapshot, step.write.path);
    const diff = unifiedDiff(before ?? '', step.write.content, {
      fromLabel: before === undefined ? '/dev/null' : step.write.path,
      toLabel: step.write.path,
    });
    if (!diff) return [{ kind: 'note', text: '   (the file already has exactly this content)' }];
    return diff
      .replace(/\n$/, '')
      .split('\n')
      .map((line) => ({ kind: diffKind(line), text: `   ${line}` }));
  }
  const before = snapshotFile(snapshot, step.remove.path);
  return before === undefined
    ? [{ kind: 'note', text: '   (not present when the snapshot was taken)' }]
    : before
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => ({ kind: 'remove' as const, text: `   -${l}` }));
}

function diffKind(line: string): PreviewLine['kind'] {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('@@')) return 'heading';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'remove';
  return 'context';
}

function snapshotFile(snapshot: Snapshot | undefined, file: string): string | undefined {
  const r = snapshot?.probes[fileProbeId(file)];
  return r?.status === 'ok' ? r.stdout : undefined;
}

/** The word an operator types to confirm a disruptive plan. */
export const CONFIRM_WORD = 'apply';

/** The codes that explain a failover, in the order the 3 a.m. reader needs them. */
export const FAILOVER_CODES: readonly string[] = [
  'vrrp-split-brain',
  'vrrp-input-blocked',
  'vrrp-output-blocked',
  'vrrp-conntrack-nat',
  'snat-matches-vrrp',
  'snat-on-backup',
  'snat-missing-on-master',
  'snat-source-not-local',
  'vrrp-no-peer-adverts',
  'vip-state-mismatch',
  'keepalived-not-running',
  'vrrp-auth-mismatch',
  'vrrp-advert-int-mismatch',
  'vrid-collision',
  'vrrp-notrack-missing',
  'ip-forward-off',
];

export function failoverFindings(report: Report): Finding[] {
  return report.findings.filter((f) => FAILOVER_CODES.includes(f.code)).sort((a, b) => FAILOVER_CODES.indexOf(a.code) - FAILOVER_CODES.indexOf(b.code));
}

/** "what this node holds": VIP lines for the home header and triage. */
export function vipsHeld(report: Report): string[] {
  return [...new Set(report.instances.flatMap((i) => i.vipsHeld))];
}
