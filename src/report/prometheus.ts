// The Prometheus text exposition of a report, for node_exporter's textfile collector
// (`check --format prometheus -o FILE`, deploy/systemd). Metric names and labels are documented
// in docs/report.md; the alerting rules in deploy/prometheus rely on them.
//
// Every series carries node (the hostname) and netns (the network namespace's name, else its
// net:[inode]), so two lab nodes on one host, or a host's namespaces, stay apart. Per-instance
// series add vrrp_instance (not "instance": Prometheus gives every scraped series the target's
// instance label), vrid and interface; VIP series add vip: vrid and vip together identify a
// pair across its two nodes (the split-brain rule counts holders by them).
// There are no counters: each file describes one run, so nothing ends in _total.
import type { Report, Role, Severity } from '../types.js';
import { CODES } from '../codes.js';

/** A label value as the exposition format wants it: backslash, quote and newline escaped, any
 *  other control character dropped (host data is untrusted and a stray byte breaks the file). */
export function labelValue(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex -- control characters are what a label must not hold
      .replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, '')
      .replace(/\\/g, '\\\\')
      .replace(/"/g, '\\"')
      .replace(/\n/g, '\\n')
  );
}

/** "gw1 (net:[4026532311])" -> "gw1"; "net:[4026531840]" stays (the host's own namespace). */
export function netnsLabel(netns: string): string {
  const named = /^(.*\S)\s+\(net:\[\d+\]\)$/.exec(netns);
  return (named ? named[1]! : netns).trim() || 'unknown';
}

type Labels = Record<string, string | number>;

class Exposition {
  private lines: string[] = [];
  constructor(private readonly common: Labels) {}

  metric(name: string, help: string, samples: Array<[Labels, number]>): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const all = { ...this.common, ...labels };
      const text = Object.entries(all)
        .map(([k, v]) => `${k}="${labelValue(String(v))}"`)
        .join(',');
      this.lines.push(`${name}{${text}} ${formatValue(value)}`);
    }
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
}

const STATUS_VALUE = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;
const ROLES: Role[] = ['master', 'backup', 'fault', 'unknown'];
const STATES = ['MASTER', 'BACKUP', 'FAULT', 'INIT', 'STOP', 'UNKNOWN'] as const;
const SEVERITIES: Severity[] = ['critical', 'error', 'warning', 'info'];
const WORST = { info: 0, warning: 1, error: 2, critical: 3 } as const;

export interface PrometheusOptions {
  /** when this run happened (default: now); the "doctor not reporting" alert watches it */
  now?: Date;
  /** the doctor's version, for hagw_doctor_info */
  version?: string;
}

export function renderPrometheus(report: Report, opts: PrometheusOptions = {}): string {
  const common: Labels = { node: report.host.hostname, netns: netnsLabel(report.host.netns) };
  const out = new Exposition(common);
  const now = opts.now ?? new Date();

  out.metric('hagw_doctor_last_run_timestamp_seconds', 'When the doctor last ran here (Unix time); alert when it stops moving.', [
    [{}, Math.floor(now.getTime() / 1000)],
  ]);
  out.metric('hagw_doctor_status', 'Overall status, as the exit status of check: 0 ok, 1 warning, 2 critical, 3 unknown.', [
    [{}, STATUS_VALUE[report.summary.status]],
  ]);
  out.metric('hagw_doctor_info', 'Always 1; the labels say what ran where.', [
    [
      {
        version: opts.version ?? '',
        keepalived: report.host.keepalived ?? '',
        kernel: report.host.kernel,
        kind: report.kind ?? '',
        source: report.source.startsWith('demo:') || report.source === 'live' ? report.source : 'snapshot',
      },
      1,
    ],
  ]);

  out.metric(
    'hagw_doctor_findings',
    'How many findings of each severity this run reported.',
    SEVERITIES.map((s) => [{ severity: s }, report.summary[s as 'critical' | 'error' | 'warning' | 'info']]),
  );

  // one series per registry code, 0 when not reported: the series exist before anything goes
  // wrong, so an alert can also resolve; the severity label is the reported one (a check may
  // lower or raise it), else the registry's default
  const reported = new Map<string, Severity>();
  for (const f of report.findings) {
    const seen = reported.get(f.code);
    if (!seen || WORST[f.severity] > WORST[seen]) reported.set(f.code, f.severity);
  }
  out.metric(
    'hagw_doctor_finding',
    '1 when the finding code is reported on this node, else 0 (one series per code of the registry).',
    Object.keys(CODES)
      .sort()
      .map((code) => [{ code, severity: reported.get(code) ?? CODES[code as keyof typeof CODES].severity }, reported.has(code) ? 1 : 0]),
  );

  out.metric(
    'hagw_doctor_role',
    "1 for this node's role (master if it is MASTER of any instance), 0 for the others.",
    ROLES.map((r) => [{ role: r }, report.role === r ? 1 : 0]),
  );

  const inst = (i: Report['instances'][number]): Labels => ({ vrrp_instance: i.name, vrid: i.vrid ?? '', interface: i.interface ?? '' });
  out.metric(
    'hagw_doctor_vrrp_state',
    'VRRP state of each instance: 1 for its current state, 0 for the others.',
    report.instances.flatMap((i) => STATES.map((st): [Labels, number] => [{ ...inst(i), state: st }, i.state === st ? 1 : 0])),
  );
  out.metric(
    'hagw_doctor_vrrp_master',
    '1 when this node is MASTER of the instance.',
    report.instances.map((i) => [inst(i), i.state === 'MASTER' ? 1 : 0]),
  );
  out.metric(
    'hagw_doctor_vip_held',
    '1 when this node holds the virtual address (vrid and vip identify the pair: more than one holder is a split brain).',
    report.instances.flatMap((i) => i.vips.map((vip): [Labels, number] => [{ ...inst(i), vip }, i.vipsHeld.includes(vip) ? 1 : 0])),
  );

  const statuses = ['pass', 'fail', 'skip', 'error'] as const;
  out.metric(
    'hagw_doctor_checks',
    'How many checks passed, failed, could not judge (skip) or broke (error).',
    statuses.map((s) => [{ status: s }, report.checks.filter((c) => c.status === s).length]),
  );
  out.metric(
    'hagw_doctor_check_duration_seconds',
    'Time each check took in this run.',
    report.checks.map((c) => [{ check: c.id, status: c.status }, c.ms / 1000]),
  );
  return out.text();
}
