// Machine formats: JSON (contract), Prometheus textfile, JUnit XML.
import type { Report } from '../types.js';
import { safeJson, xmlBody, xmlText } from './escape.js';

export function renderJson(report: Report): string {
  return safeJson(report) + '\n';
}

export { renderPrometheus } from './prometheus.js';

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
    out.push(
      `    <failure type="${xml(f.severity)}" message="${xml(f.title)}">${xmlBody([f.detail, ...f.evidence.map((e) => `[${e.probe}] ${e.excerpt}`)].join('\n'))}</failure>`,
    );
    out.push('  </testcase>');
  }
  out.push('</testsuite>');
  return out.join('\n') + '\n';
}
