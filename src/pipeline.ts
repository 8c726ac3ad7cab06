// The pipeline's two halves: collect (I/O) and analyse (pure). Views render the Report.
import type { CollectOptions, Finding, HostKind, Report, Snapshot } from './types.js';
import { SEVERITY_ORDER } from './types.js';
import { PROVIDERS } from './probes/index.js';
import { collectSnapshot, type CollectHooks } from './probes/collect.js';
import { CHECKS } from '../checks/index.js';
import { CheckContext } from './context.js';
import { runCheck, type Check } from './check.js';
import { instanceStates, nodeRole } from './state.js';
import { hostKind, notApplicable, overrideKind } from './host-kind.js';
import { notJudged, summaryStatus } from './judgement.js';
import { scrubFindings } from './secrets.js';

export function collect(options: CollectOptions, hooks?: CollectHooks): Promise<Snapshot> {
  return collectSnapshot(PROVIDERS, options, hooks);
}

export interface AnalyseOptions {
  /** --only: keep only these finding codes (checks that cannot produce them do not run) */
  only?: readonly string[];
  /** "live" or the snapshot file */
  source?: string;
  /** called after each check (the wizard's progress rows) */
  onCheck?: (check: Check, outcome: ReturnType<typeof runCheck>) => void;
  /** --kind: what kind of keepalived host this is, instead of the inferred kind */
  kind?: HostKind;
}

export function checksFor(only?: readonly string[]): readonly Check[] {
  if (!only?.length) return CHECKS;
  return CHECKS.filter((c) => c.codes.some((code) => only.includes(code)));
}

export function analyse(snapshot: Snapshot, opts: AnalyseOptions = {}): Report {
  const ctx = new CheckContext(snapshot);
  if (opts.kind) overrideKind(ctx, opts.kind);
  const findings: Finding[] = [];
  const runs = [];
  for (const check of checksFor(opts.only)) {
    // router-only checks where the host routes for no one: skipped with the kind as the reason
    let na: ReturnType<typeof notApplicable>;
    try {
      na = notApplicable(ctx, check.id);
    } catch {
      na = undefined;
    }
    const outcome: ReturnType<typeof runCheck> = na
      ? { run: { id: check.id, status: 'skip', ms: 0, reason: na.reason, ...(na.blind ? { blind: true } : {}) }, findings: [] }
      : runCheck(check, ctx);
    opts.onCheck?.(check, outcome);
    runs.push(outcome.run);
    findings.push(...outcome.findings.filter((f) => !opts.only?.length || opts.only.includes(f.code)));
  }
  scrubFindings(findings, snapshot);
  dedupe(findings);
  findings.sort((a, b) => SEVERITY_ORDER[b.severity] - SEVERITY_ORDER[a.severity]);
  const count = (s: Finding['severity']) => findings.filter((f) => f.severity === s).length;
  const summary = { critical: count('critical'), error: count('error'), warning: count('warning'), info: count('info') };
  let role: Report['role'] = 'unknown';
  let instances: Report['instances'] = [];
  try {
    role = nodeRole(ctx);
    instances = instanceStates(ctx);
  } catch {
    // state is best effort: a broken config already shows as a finding
  }
  const blind = notJudged(ctx, runs);
  let kind: ReturnType<typeof hostKind>;
  try {
    kind = hostKind(ctx);
  } catch {
    kind = undefined;
  }
  return {
    schema: 'hagw-doctor.report/v1',
    host: { hostname: snapshot.host.hostname, kernel: snapshot.host.kernel, keepalived: snapshot.host.keepalived, netns: snapshot.host.netns },
    role,
    instances,
    summary: {
      status: summaryStatus(summary, blind),
      ...summary,
      ...(blind.length ? { notJudged: blind } : {}),
    },
    findings,
    checks: runs,
    source: opts.source ?? 'live',
    ...(kind ? { kind: kind.kind, kindEvidence: kind.evidence } : {}),
  };
}

export { exitStatus } from './types.js';

/** Two checks may see one problem from two sides (the rule set, the wire): the same code, subject
 *  and title is one finding, keeping the worse severity and both sets of evidence. */
function dedupe(findings: Finding[]): void {
  const seen = new Map<string, Finding>();
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i]!;
    const key = `${f.code}\u0000${f.subject ?? ''}\u0000${f.title}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, f);
      continue;
    }
    if (SEVERITY_ORDER[f.severity] > SEVERITY_ORDER[first.severity]) first.severity = f.severity;
    for (const e of f.evidence) if (!first.evidence.some((x) => x.probe === e.probe && x.excerpt === e.excerpt)) first.evidence.push(e);
    first.fix ??= f.fix;
    findings.splice(i--, 1);
  }
}
