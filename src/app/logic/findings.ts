// What the Diagnose and Triage screens say about findings. Pure: no React, no I/O.
import type { CheckStatus, Finding, Report, Severity } from '../../types.js';
import { SEVERITY_ORDER } from '../../types.js';
import { CODES, isFindingCode } from '../../codes.js';

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
