// The fix screen: exact commands and file diffs, risk and persistence; confirm (typed for a
// disruptive plan); apply through the change engine with live step progress; the re-check; and
// commit-confirmed when the operator is on SSH. State: hooks/use-fix.ts; views: fix-views.tsx.
import React from 'react';
import { Box } from 'ink';
import { useKeys } from '../components/keys.js';
import { Screen } from '../components/screen.js';
import { ToneText } from '../components/theme.js';
import { useAppContext, useSession, useTyping } from '../context.js';
import type { KeyHint } from '../components/footer.js';
import { currentPreview, findingLabel, previewError, useFix } from '../hooks/use-fix.js';
import { FixOutcomeView, FixPreviewView, previewBody, previewHeader, StepList } from './fix-views.js';

export { CONFIRM_SECONDS } from '../hooks/use-fix.js';

export function FixScreen({ code, subject }: { code: string; subject?: string }) {
  const { services, pop, popTo, active, bodyHeight } = useAppContext();
  const { quitRequested } = useSession();
  const fix = useFix(code, subject);
  const { state, dispatch, finding: f, siblings, targets, plan, demo } = fix;
  const { phase } = state;
  const preview = currentPreview(state);
  const word = preview?.confirmWord ?? null;
  useTyping(phase === 'confirm' && word !== null);

  useKeys(
    (input, key) => {
      if (phase === 'preview') {
        if (key.escape) pop();
        else if (input === 'c' && services.ssh && !demo) dispatch({ type: 'toggle-commit-confirmed' });
        else if (input === 'e' && siblings.length > 1) dispatch({ type: 'toggle-every' });
        else if ((input === 'a' || key.return) && !demo) dispatch({ type: 'ask' });
      } else if (phase === 'confirm' && word === null) {
        // a typed word has its own keys (TypedConfirm: Enter, Esc)
        if (input === 'y' || key.return) fix.apply();
        else if (input === 'n' || key.escape) dispatch({ type: 'back' });
      } else if (phase === 'result') {
        if (key.escape) popTo('diagnose');
        else if (key.return) fix.keep();
      }
    },
    { isActive: active && phase !== 'applying' },
  );

  if (!f?.fix || !plan) {
    return (
      <Screen title={`Fix ${code}`} keys={[['Esc', 'back']]}>
        <ToneText tone="muted">{f ? 'This finding has no fix the doctor can apply.' : `${code} is no longer reported.`}</ToneText>
      </Screen>
    );
  }

  const every = state.every && siblings.length > 1;
  const title = every ? `Fix every ${f.code} (${siblings.length})` : `Fix ${findingLabel(f)}`;

  if (phase === 'preview' || phase === 'confirm') {
    const header = previewHeader({ ...f, fix: plan }, preview, services.ssh && !demo ? state.commitConfirmed : undefined);
    if (siblings.length > 1) {
      header.splice(header.length - 1, 0, {
        text: every
          ? `scope: every instance of ${code} (${siblings.map((x) => x.subject ?? '?').join(', ')}) (e: only ${f.subject ?? 'this one'})`
          : `scope: only ${findingLabel(f)} (e: every instance of ${code}, ${siblings.length})`,
        tone: 'accent',
      });
    }
    const keys: KeyHint[] =
      phase === 'confirm'
        ? word
          ? [
              ['Enter', 'submit'],
              ['Esc', 'cancel'],
            ]
          : [
              ['y/Enter', 'apply'],
              ['n/Esc', 'cancel'],
            ]
        : demo
          ? [
              ['j/k', 'scroll'],
              ['Esc', 'back'],
            ]
          : [
              ['j/k', 'scroll'],
              ['a', 'apply…'],
              ...(siblings.length > 1 ? ([['e', every ? 'this one only' : 'every instance']] as KeyHint[]) : []),
              ...(services.ssh ? ([['c', 'commit-confirmed']] as KeyHint[]) : []),
              ['Esc', 'back'],
            ];
    return (
      <Screen title={title} keys={keys} typing={phase === 'confirm' && word !== null}>
        <FixPreviewView
          lines={[...header, ...previewBody(preview, previewError(state))]}
          height={bodyHeight}
          isFocused={active}
          demo={demo}
          {...(phase === 'confirm' ? { confirm: { word, steps: plan.steps.length, onConfirm: fix.apply, onCancel: () => dispatch({ type: 'back' }) } } : {})}
        />
      </Screen>
    );
  }

  const outcome = state.outcome;
  const stepRows = Math.max(3, bodyHeight - 7);
  return (
    <Screen
      title={title}
      keys={
        phase === 'applying'
          ? []
          : [...(outcome?.confirmDeadline && !state.kept ? ([['Enter', 'keep the change']] as KeyHint[]) : []), ['Esc', 'back to findings']]
      }
    >
      <Box flexDirection="column">
        <StepList steps={state.steps} rows={stepRows} />
        {phase === 'applying' ? (
          <ToneText tone="muted">
            {quitRequested
              ? 'Ctrl+C: stopping after the current step; the engine rolls back, then the doctor exits.'
              : 'applying through the change engine… (Ctrl+C stops it and rolls back)'}
          </ToneText>
        ) : outcome ? (
          <FixOutcomeView outcome={outcome} targets={targets} kept={state.kept} rows={bodyHeight - Math.min(state.steps.length, stepRows) - 4} />
        ) : null}
      </Box>
    </Screen>
  );
}
