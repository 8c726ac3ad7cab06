// Machine formats: JSON (contract), Prometheus textfile, JUnit XML.
import type { Report } from '../types.js';
import { CODES } from '../codes.js';
import { safeJson, xmlBody, xmlText } from './escape.js';

export function renderJson(report: Report): string {
  return safeJson(report) + '\n';
}

const promEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** For node_exporter's textfile collector: one gauge per code (1 when reported), plus status. */
export function renderPrometheus(report: Report): string {
  const host = promEscape(report.host.hostname);
  const lines = [
    '# HELP hagw_doctor_status Overall status: 0 ok, 1 warning, 2 critical, 3 unknown.',
    '# TYPE hagw_doctor_status gauge',
    `hagw_doctor_status{host="${host}"} ${{ ok: 0, warning: 1, critical: 2, unknown: 3 }[report.summary.status]}`,
    '# HELP hagw_doctor_finding 1 when the finding code is reported on this host.',
    '# TYPE hagw_doctor_finding gauge',
  ];
  const reported = new Map<string, string>();
  for (const f of report.findings) if (!reported.has(f.code)) reported.set(f.code, f.severity);
  for (const code of Object.keys(CODES)) {
    const sev = reported.get(code) ?? CODES[code as keyof typeof CODES].severity;
    lines.push(`hagw_doctor_finding{host="${host}",code="${code}",severity="${sev}"} ${reported.has(code) ? 1 : 0}`);
  }
  lines.push('# HELP hagw_doctor_vrrp_master 1 when this node is MASTER of the instance.', '# TYPE hagw_doctor_vrrp_master gauge');
  for (const i of report.instances) lines.push(`hagw_doctor_vrrp_master{host="${host}",instance="${promEscape(i.name)}"} ${i.state === 'MASTER' ? 1 : 0}`);
  lines.push('# HELP hagw_doctor_check_seconds Time each check took.', '# TYPE hagw_doctor_check_seconds gauge');
  for (const c of report.checks) lines.push(`hagw_doctor_check_seconds{host="${host}",check="${promEscape(c.id)}",status="${c.status}"} ${(c.ms / 1000).toFixed(4)}`);
  return lines.join('\n') + '\n';
}

const xml = xmlText;

/** One testcase per check; its findings as failures, skips as skipped. */
export function renderJunit(report: Report): string {
  const failures = report.checks.filter((c) => c.status === 'fail').length;
  const errors = report.checks.filter((c) => c.status === 'error').length;
  const skipped = report.checks.filter((c) => c.status === 'skip').length;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="hagw-doctor ${xml(report.host.hostname)}" tests="${report.checks.length}" failures="${failures}" errors="${errors}" skipped="${skipped}">`,
  ];
  for (const c of report.checks) {
    out.push(`  <testcase classname="hagw-doctor" name="${xml(c.id)}" time="${(c.ms / 1000).toFixed(4)}">`);
    if (c.status === 'skip') out.push(`    <skipped message="${xml(c.reason ?? '')}"/>`);
    if (c.status === 'error') out.push(`    <error message="${xml(c.reason ?? '')}"/>`);
    out.push('  </testcase>');
  }
  for (const f of report.findings) {
    out.push(`  <testcase classname="hagw-doctor.findings" name="${xml(f.code)}">`);
    out.push(`    <failure type="${xml(f.severity)}" message="${xml(f.title)}">${xmlBody([f.detail, ...f.evidence.map((e) => `[${e.probe}] ${e.excerpt}`)].join('\n'))}</failure>`);
    out.push('  </testcase>');
  }
  out.push('</testsuite>');
  return out.join('\n') + '\n';
}
