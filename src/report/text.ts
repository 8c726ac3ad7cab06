// The text report: what an operator reads in a terminal or a ticket.
import type { Finding, FixStep, Report } from '../types.js';
import { style, type Style } from './ansi.js';
import { visibleDeep } from './escape.js';
import { pairLines } from '../peer/text.js';

export interface TextOptions {
  color: boolean;
  width?: number;
  /** print the evidence and fix steps of every finding (default true) */
  verbose?: boolean;
}

export function severityLabel(sev: Finding['severity'], s: Style): string {
  switch (sev) {
    case 'critical':
      return s.bold(s.red('CRITICAL'));
    case 'error':
      return s.red('ERROR   ');
    case 'warning':
      return s.yellow('WARNING ');
    default:
      return s.cyan('INFO    ');
  }
}

export function wrapText(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(indent + line);
  return out;
}

/** An argv shown the way a shell would need it typed (display only: steps never run through a shell). */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function describeStep(step: FixStep): string {
  if ('argv' in step) return shellQuote(step.argv);
  if ('write' in step) return `write ${step.write.path}${step.write.mode !== undefined ? ` (mode ${step.write.mode.toString(8)})` : ''}`;
  return `remove ${step.remove.path}`;
}

export function renderText(hostReport: Report, opts: TextOptions): string {
  // everything below prints host text: render a copy whose control characters are made visible
  const report = visibleDeep(hostReport);
  const s = style(opts.color);
  const width = Math.max(60, Math.min(opts.width ?? 100, 120));
  const verbose = opts.verbose ?? true;
  const out: string[] = [];
  const h = report.host;
  out.push(
    s.bold(`hagw-doctor: ${h.hostname}`) +
      s.dim(
        `  keepalived ${h.keepalived ?? 'not installed'} · kernel ${h.kernel} · netns ${h.netns}${report.source !== 'live' ? ` · from ${report.source}` : ''}`,
      ),
  );
  if (report.instances.length) {
    out.push(`Role: ${s.bold(report.role.toUpperCase())}`);
    for (const i of report.instances) {
      const vips = i.vips.map((v) => (i.vipsHeld.includes(v) ? `${v} (held)` : v)).join(', ');
      out.push(s.dim(`  ${i.name}: ${i.state}${i.since ? ` since ${i.since}` : ''} [${i.source}]${vips ? ` VIPs ${vips}` : ''}`));
    }
  } else out.push(`Role: ${report.role.toUpperCase()}`);
  for (const i of report.instances) if (i.contested) out.push(s.yellow(`  ${i.name}: sources disagree: ${i.contested}`));
  if (report.kind)
    out.push(
      `Kind: ${report.kind}${
        report.kindEvidence?.length
          ? s.dim(
              ` (${report.kindEvidence
                .slice(0, 2)
                .map((e) => e.replace(/^\w+: /, ''))
                .join('; ')})`,
            )
          : ''
      }`,
    );
  out.push('');
  out.push(...pairLines(report, s, width));
  if (report.findings.length === 0)
    out.push(
      report.summary.notJudged?.length ? s.yellow('No problem found in what could be judged; see "Could not judge" below.') : s.green('No problems found.'),
    );
  for (const f of report.findings) {
    const on = f.node && f.node !== 'local' ? `${s.bold(`[${f.node}]`)} ` : '';
    out.push(`${severityLabel(f.severity, s)} ${on}${s.bold(f.code)}  ${f.title}`);
    const pad = ' '.repeat(9);
    out.push(...wrapText(f.detail, width, pad));
    if (f.location) out.push(`${pad}${s.dim('at')} ${f.location.file}${f.location.line ? `:${f.location.line}` : ''}`);
    if (verbose) {
      for (const e of f.evidence) out.push(`${pad}${s.dim(`[${e.probe}]`)} ${e.excerpt}`);
      if (f.fix) {
        out.push(`${pad}${s.cyan('fix:')} ${f.fix.summary} ${s.dim(`(${f.fix.risk}${f.fix.persistence.persistent ? ', persistent' : ', not persistent'})`)}`);
        for (const step of f.fix.steps) out.push(`${pad}  ${s.dim('$')} ${describeStep(step)}`);
        out.push(`${pad}  ${s.dim(`apply with: hagw-doctor fix ${f.code}   (preview: --dry-run)`)}`);
      }
    }
    out.push('');
  }
  const sum = report.summary;
  // the headline names the worst severity it counts ("ERROR: 1 error", never "CRITICAL: 0 critical, 1 error")
  const worst = sum.critical ? 'critical' : sum.error ? 'error' : sum.warning ? 'warning' : undefined;
  const status = (worst ?? sum.status).toUpperCase();
  const statusStyled = status === 'OK' ? s.green(status) : status === 'WARNING' ? s.yellow(status) : s.red(status);
  const found = (
    [
      ['critical', sum.critical],
      ['error', sum.error],
      ['warning', sum.warning],
      ['info', sum.info],
    ] as const
  )
    .filter(([, n]) => n > 0)
    .map(([sev, n]) => `${n} ${sev}`)
    .join(', ');
  const counts = (['pass', 'fail', 'skip', 'error'] as const)
    .map((st) => [st, report.checks.filter((c) => c.status === st).length] as const)
    .filter(([, n]) => n > 0)
    .map(([st, n]) => `${n} ${st}`)
    .join(', ');
  out.push(`${statusStyled}: ${found || 'no findings'}  ${s.dim(`(${report.checks.length} checks: ${counts})`)}`);
  const blind = sum.notJudged ?? [];
  if (blind.length) {
    const root = blind.filter((n) => /needs root/.test(n.reason));
    out.push(s.yellow(`Could not judge${root.length ? ' (needs root: run it as root for these)' : ''}:`));
    for (const n of blind) out.push(`  ${n.check}${n.core ? ' (core)' : ''}: ${n.reason}`);
    if (sum.status === 'unknown')
      out.push(
        s.yellow(
          `UNKNOWN: ${root.some((n) => n.core) ? 'needs root: ' : ''}${blind
            .filter((n) => n.core)
            .map((n) => n.check)
            .join(', ')} could not be judged, so the doctor cannot say this node is healthy.`,
        ),
      );
  }
  const notRun = report.checks.filter((c) => (c.status === 'skip' || c.status === 'error') && !blind.some((n) => n.check === c.id));
  if (notRun.length) {
    out.push(s.dim('Skipped (does not apply here, or not asked for):'));
    for (const c of notRun) out.push(s.dim(`  ${c.id}: ${c.reason ?? ''}`));
  }
  return out.join('\n') + '\n';
}
