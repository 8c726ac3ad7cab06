// What a check sees: the snapshot, typed accessors over its probes, and a memo so that each
// parser runs once per analysis however many checks need it.
import type { Evidence, Finding, FixPlan, ProbeRecord, Severity, Snapshot } from './types.js';
import { CODES, type FindingCode } from './codes.js';
import type { ProbeId } from './probes/ids.js';
import type { KeepalivedConfig } from './keepalived/model.js';
import { keepalivedConfig } from './keepalived/from-snapshot.js';

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

  /** The record of a probe that gave its answer: ok, missing, an error, or denied to root (each an answer
   *  a check may judge). A probe that could not look (not collected, timed out, not run for want of root
   *  or time, denied to a non-root run) makes the check could-not-judge here, never a finding or an OK. */
  answer(id: ProbeId, what: string = id): ProbeRecord {
    const r = this.snapshot.probes[id];
    if (!r) throw new SkipCheck(`${what} could not be read: not collected`, true);
    if (r.status === 'timeout' || r.status === 'skipped') throw new SkipCheck(`${what} could not be read: ${r.reason ?? r.status}`, true);
    if (r.status === 'denied' && !this.isRoot) throw new SkipCheck(`needs root: ${what} is not readable (permission denied)`, true);
    return r;
  }

  /** stdout of a probe that must have run; otherwise the check is skipped with the probe's reason
   *  (could-not-judge when the probe could not look: see probeBlind) */
  require(id: ProbeId, what?: string): string {
    const r = this.snapshot.probes[id];
    if (!r) throw new SkipCheck(`${what ?? id} was not collected`);
    if (r.status !== 'ok') throw new SkipCheck(`${what ?? id}: ${r.reason ?? r.status}`, probeBlind(r));
    return r.stdout;
  }

  get isRoot(): boolean {
    return this.snapshot.host.uid === 0;
  }

  /** This node's keepalived configuration, parsed once; a check that needs it and cannot have it is
   *  skipped with the one wording every check uses. */
  ourConfig(): KeepalivedConfig {
    const loaded = keepalivedConfig(this);
    if (!loaded.result) throw new SkipCheck(`keepalived configuration ${loaded.path} not readable`);
    return loaded.result.config;
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
