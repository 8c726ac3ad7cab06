// A check: a pure function of the snapshot (through CheckContext) that returns findings.
import type { CheckRun, Finding } from './types.js';
import { type CheckContext, SkipCheck } from './context.js';
import type { FindingCode } from './codes.js';

export interface Check {
  /** stable id shown in the report's checks[] */
  id: string;
  /** what it looks at, in a few words (the wizard's progress row) */
  title: string;
  /** the finding codes it can produce */
  codes: readonly FindingCode[];
  run(ctx: CheckContext): Finding[];
}

export interface CheckOutcome {
  run: CheckRun;
  findings: Finding[];
}

/** Skip reasons that quote a probe which could not look (checks that build their reason from the probe's). */
const BLIND_REASON = /needs root|timed out|did not finish within|permission denied/i;

/** Runs one check; a check that throws is reported as error in its row, never crashes the report. */
export function runCheck(check: Check, ctx: CheckContext): CheckOutcome {
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const findings = check.run(ctx);
    return { run: { id: check.id, status: findings.length ? 'fail' : 'pass', ms: ms() }, findings };
  } catch (err) {
    if (err instanceof SkipCheck) {
      const blind = err.blind || BLIND_REASON.test(err.message);
      return { run: { id: check.id, status: 'skip', ms: ms(), reason: err.message, ...(blind ? { blind } : {}) }, findings: [] };
    }
    return { run: { id: check.id, status: 'error', ms: ms(), reason: (err as Error)?.message ?? String(err), blind: true }, findings: [] };
  }
}
