// What a check sees: the snapshot, typed accessors over its probes, and a memo so that each
// parser runs once per analysis however many checks need it.
import type { Evidence, Finding, FixPlan, ProbeRecord, Severity, Snapshot } from './types.js';
import { CODES, type FindingCode } from './codes.js';
import type { ProbeId } from './probes/ids.js';

/** Thrown by a check that does not apply or cannot judge: reported as skip, never as a finding.
 *  blind: it could not look (a probe failed, timed out, or needs root), so the summary cannot be OK. */
export class SkipCheck extends Error {
  constructor(
    reason: string,
    readonly blind = false,
  ) {
    super(reason);
    this.name = 'SkipCheck';
  }
}

/** A probe that did not give its answer: it failed, timed out, was denied, or needs root (a missing file or binary is an answer). */
export function probeBlind(r: ProbeRecord | undefined): boolean {
  return (
    r !== undefined && (r.status === 'timeout' || r.status === 'error' || r.status === 'denied' || (r.status === 'skipped' && /root/.test(r.reason ?? '')))
  );
}

export class CheckContext {
  private readonly memos = new Map<string, unknown>();
  constructor(readonly snapshot: Snapshot) {}

  probe(id: ProbeId): ProbeRecord | undefined {
    return this.snapshot.probes[id];
  }

  /** stdout of a probe that ran, else undefined */
  output(id: ProbeId): string | undefined {
    const r = this.snapshot.probes[id];
    return r?.status === 'ok' ? r.stdout : undefined;
  }

  /** stdout of a probe that must have run; otherwise the check is skipped with the probe's reason */
  require(id: ProbeId, what?: string): string {
    const r = this.snapshot.probes[id];
    if (!r) throw new SkipCheck(`${what ?? id} was not collected`);
    if (r.status !== 'ok') throw new SkipCheck(`${what ?? id}: ${r.reason ?? r.status}`, probeBlind(r));
    return r.stdout;
  }

  get isRoot(): boolean {
    return this.snapshot.host.uid === 0;
  }

  memo<T>(key: string, compute: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, compute());
    return this.memos.get(key) as T;
  }
}

export interface FindingInput {
  title: string;
  detail: string;
  evidence?: Evidence[];
  fix?: FixPlan;
  /** raise or lower the code's default severity (say why in detail) */
  severity?: Severity;
  location?: { file: string; line?: number };
  subject?: string;
}

export function finding(code: FindingCode, input: FindingInput): Finding {
  return {
    code,
    severity: input.severity ?? CODES[code].severity,
    title: input.title,
    detail: input.detail,
    evidence: input.evidence ?? [],
    ...(input.fix ? { fix: input.fix } : {}),
    ...(input.location ? { location: input.location } : {}),
    ...(input.subject ? { subject: input.subject } : {}),
  };
}

/** Evidence lines from a probe: the lines matching `pick`, at most `max`. */
export function evidenceLines(probe: string, text: string, pick: (line: string) => boolean, max = 5): Evidence[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && pick(l))
    .slice(0, max)
    .map((excerpt) => ({ probe, excerpt: excerpt.trimEnd() }));
}
