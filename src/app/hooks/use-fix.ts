// The fix screen's state: a reducer (pure, tested on its own) and the hook that drives it with the
// services. Phases: preview -> confirm -> applying -> result; Esc at confirm goes back to preview.
import { useEffect, useMemo, useReducer, useState } from 'react';
import type { Finding, FixPlan } from '../../types.js';
import { mergePlans } from '../../change/merge.js';
import { findFinding, useAppContext, useSession } from '../context.js';
import { stillReported } from '../logic/fix.js';
import type { ApplyOutcome, ApplyStepEvent, FixPreview } from '../services.js';

/** Seconds the change stays pending (rolls back by itself) when commit-confirmed is on. */
export const CONFIRM_SECONDS = 120;

export type FixPhase = 'preview' | 'confirm' | 'applying' | 'result';

export interface FixState {
  phase: FixPhase;
  /** every instance of the code (e toggles) or only the one opened */
  every: boolean;
  commitConfirmed: boolean;
  /** the preview of the current scope: a preview made for the other scope is never shown */
  preview?: { every: boolean; preview?: FixPreview; error?: string };
  steps: ApplyStepEvent[];
  outcome?: ApplyOutcome;
  /** the answer to "keep the change" (commit-confirmed) */
  kept?: string;
}

export type FixAction =
  | { type: 'toggle-every' }
  | { type: 'toggle-commit-confirmed' }
  | { type: 'previewed'; every: boolean; preview: FixPreview }
  | { type: 'preview-failed'; every: boolean; error: string }
  | { type: 'ask' }
  | { type: 'back' }
  | { type: 'applying' }
  | { type: 'step'; event: ApplyStepEvent }
  | { type: 'done'; outcome: ApplyOutcome }
  | { type: 'kept'; message: string };

export const initialFixState = (commitConfirmed: boolean): FixState => ({ phase: 'preview', every: false, commitConfirmed, steps: [] });

export function fixReducer(s: FixState, a: FixAction): FixState {
  switch (a.type) {
    case 'toggle-every':
      return s.phase === 'preview' ? { ...s, every: !s.every } : s;
    case 'toggle-commit-confirmed':
      return s.phase === 'preview' ? { ...s, commitConfirmed: !s.commitConfirmed } : s;
    case 'previewed':
      return { ...s, preview: { every: a.every, preview: a.preview } };
    case 'preview-failed':
      return { ...s, preview: { every: a.every, error: a.error } };
    case 'ask':
      // only once the preview of what would run is on screen
      return s.phase === 'preview' && currentPreview(s) ? { ...s, phase: 'confirm' } : s;
    case 'back':
      return s.phase === 'confirm' ? { ...s, phase: 'preview' } : s;
    case 'applying':
      return s.phase === 'confirm' ? { ...s, phase: 'applying', steps: [] } : s;
    case 'step':
      // a step's later event replaces its earlier one (running -> done)
      return { ...s, steps: [...s.steps.filter((p) => !(p.index === a.event.index && p.text === a.event.text)), a.event] };
    case 'done':
      return { ...s, phase: 'result', outcome: a.outcome };
    case 'kept':
      return { ...s, kept: a.message };
  }
}

/** The preview made for the scope on screen, if it has arrived. */
export function currentPreview(s: FixState): FixPreview | undefined {
  return s.preview?.every === s.every ? s.preview.preview : undefined;
}

export function previewError(s: FixState): string | undefined {
  return s.preview?.every === s.every ? s.preview.error : undefined;
}

export const findingLabel = (x: Pick<Finding, 'code' | 'subject'>) => `${x.code}${x.subject ? ` [${x.subject}]` : ''}`;

export interface FixModel {
  state: FixState;
  dispatch: React.Dispatch<FixAction>;
  /** the finding as it was when the screen opened: the re-check may remove it from the report */
  finding: Finding | undefined;
  /** every instance of this code that has a fix, as `hagw-doctor fix CODE` does */
  siblings: Finding[];
  targets: Finding[];
  plan: FixPlan | undefined;
  demo: boolean;
  apply(): void;
  keep(): void;
}

export function useFix(code: string, subject: string | undefined): FixModel {
  const { session, services } = useAppContext();
  const { run } = useSession();
  const [finding] = useState(() => findFinding(run?.report?.findings, code, subject));
  const [siblings] = useState(() => (run?.report?.findings ?? []).filter((x) => x.code === code && x.fix));
  const [state, dispatch] = useReducer(fixReducer, services.ssh, initialFixState);
  const demo = Boolean(services.demo) || !services.apply;
  const scope = state.every;
  const targets: Finding[] = useMemo(() => (finding ? (scope && siblings.length > 1 ? siblings : [finding]) : []), [finding, siblings, scope]);
  const plan = useMemo(() => (finding?.fix ? (targets.length > 1 ? mergePlans(targets.map((t) => t.fix!)) : finding.fix) : undefined), [finding, targets]);
  const snapshot = run?.snapshot;
  const previewedScope = state.preview?.every;

  // the preview of the scope on screen; a new scope asks again (the old one is never shown for it)
  useEffect(() => {
    if (!plan || previewedScope === scope) return;
    let alive = true;
    services.preview(plan, snapshot).then(
      (preview) => alive && dispatch({ type: 'previewed', every: scope, preview }),
      (err: Error) => alive && dispatch({ type: 'preview-failed', every: scope, error: err.message }),
    );
    return () => {
      alive = false;
    };
  }, [plan, scope, previewedScope, services, snapshot]);

  const apply = () => {
    if (!plan || !services.apply || state.phase !== 'confirm') return;
    const applyFn = services.apply;
    dispatch({ type: 'applying' });
    const signal = session.beginApply();
    void (async () => {
      try {
        // the plan was made from an earlier check: look at the host again first; fixed meanwhile
        // (elsewhere, by someone else, by another screen) means nothing to do, nothing applied
        const fresh = await session.recheck();
        const left = stillReported(targets, fresh.findings);
        if (!left.length) {
          dispatch({
            type: 'done',
            outcome: {
              status: 'nothing-to-do',
              message: `${targets.map(findingLabel).join(', ')} is no longer reported on this host: nothing to do, nothing applied.`,
            },
          });
          return;
        }
        if (signal.aborted) {
          dispatch({ type: 'done', outcome: { status: 'refused', message: 'cancelled before the first step: nothing changed.' } });
          return;
        }
        const leftPlan = left.length === targets.length ? plan : left.length > 1 ? mergePlans(left.map((t) => t.fix!)) : left[0]!.fix!;
        const outcome = await applyFn(leftPlan, {
          findings: left,
          recheck: () => session.recheck(),
          ...(state.commitConfirmed && services.ssh ? { confirmTimeout: CONFIRM_SECONDS } : {}),
          onStep: (event) => dispatch({ type: 'step', event }),
          signal,
        });
        dispatch({ type: 'done', outcome });
      } catch (err) {
        dispatch({ type: 'done', outcome: { status: 'failed', message: (err as Error).message } });
      } finally {
        session.endApply();
      }
    })();
  };

  const keep = () => {
    const o = state.outcome;
    if (!o?.confirmDeadline || !o.changeId || !services.confirm || state.kept) return;
    services.confirm(o.changeId).then(
      (message) => dispatch({ type: 'kept', message }),
      (err: Error) => dispatch({ type: 'kept', message: `not confirmed: ${err.message}` }),
    );
  };

  return { state, dispatch, finding, siblings, targets, plan, demo, apply, keep };
}
