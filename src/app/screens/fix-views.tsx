// The fix screen's views, each a function of what it is given: the preview (with the consent under
// it), and the progress and outcome of an apply. No state of their own beyond the typed word.
import React from 'react';
import { Box } from 'ink';
import type { Finding } from '../../types.js';
import type { Line } from '../components/scroll-view.js';
import { ScrollView } from '../components/scroll-view.js';
import { Spinner } from '../components/spinner.js';
import { ToneText } from '../components/theme.js';
import { TypedConfirm } from '../components/typed-confirm.js';
import type { ApplyOutcome, ApplyStepEvent, FixPreview } from '../services.js';
import type { PreviewLine } from '../logic/findings.js';
import { CONFIRM_SECONDS, findingLabel } from '../hooks/use-fix.js';

export function previewHeader(f: Finding, preview: FixPreview | undefined, commitConfirmed: boolean | undefined): Line[] {
  const plan = f.fix!;
  const out: Line[] = [
    { text: plan.summary, bold: true },
    {
      text: `risk: ${plan.risk}${plan.risk === 'disruptive' ? ' (can cut traffic or this session)' : ''}`,
      tone: plan.risk === 'disruptive' ? 'warning' : 'ok',
    },
    {
      text: `persistence: ${plan.persistence.persistent ? 'survives a reboot' : 'runtime only, lost at reboot'}: ${plan.persistence.how}`,
      tone: plan.persistence.persistent ? 'plain' : 'warning',
    },
  ];
  if (plan.verifies.length) out.push({ text: `success: the re-check no longer reports ${plan.verifies.join(', ')}`, tone: 'muted' });
  if (preview?.backup.length) out.push({ text: `backed up first: ${preview.backup.join('; ')}`, tone: 'muted' });
  for (const i of preview?.irreversible ?? []) out.push({ text: `cannot be undone: ${i}`, tone: 'warning' });
  if (commitConfirmed !== undefined) {
    out.push({
      text: `commit-confirmed: ${commitConfirmed ? `on: rolls back by itself after ${CONFIRM_SECONDS} s unless you keep it` : 'off'} (c toggles)`,
      tone: commitConfirmed ? 'accent' : 'muted',
    });
  }
  out.push({ text: '' });
  return out;
}

const TONE: Record<PreviewLine['kind'], Line['tone']> = { add: 'add', remove: 'remove', command: 'accent', note: 'muted', heading: 'plain', context: 'plain' };

export function previewBody(preview: FixPreview | undefined, error: string | undefined): Line[] {
  if (preview) return preview.lines.map((l) => ({ text: l.text, tone: TONE[l.kind] }));
  return [{ text: error ? `preview failed: ${error}` : 'preparing the preview…', tone: 'muted' }];
}

export interface FixPreviewViewProps {
  lines: Line[];
  height: number;
  isFocused: boolean;
  demo: boolean;
  /** the consent asked under the preview; undefined while previewing */
  confirm?: { word: string | null; steps: number; onConfirm(): void; onCancel(): void };
}

/** The preview, scrollable, with the consent under it: the typed word for a disruptive plan, y/n otherwise. */
export function FixPreviewView({ lines, height, isFocused, demo, confirm }: FixPreviewViewProps) {
  const rows = confirm ? 2 : demo ? 1 : 0;
  return (
    <>
      <ScrollView lines={lines} height={height - rows} isFocused={isFocused && !confirm} />
      {demo ? <ToneText tone="warning">demo: not applied (a recorded snapshot; run hagw-doctor on the gateway itself to fix it)</ToneText> : null}
      {confirm ? (
        confirm.word ? (
          <TypedConfirm
            message="This change is disruptive."
            word={confirm.word}
            isFocused={isFocused}
            onConfirm={confirm.onConfirm}
            onCancel={confirm.onCancel}
          />
        ) : (
          <Box flexDirection="column">
            <ToneText bold>{`Apply these ${confirm.steps} step(s) now? (y/n)`}</ToneText>
            <ToneText tone="muted">the engine backs up first and rolls back by itself if a step fails or the re-check still reports the problem</ToneText>
          </Box>
        )
      ) : null}
    </>
  );
}

const MARK: Record<ApplyStepEvent['status'], { mark: string; tone: 'ok' | 'error' | 'warning' }> = {
  running: { mark: ' ', tone: 'warning' },
  done: { mark: '✓', tone: 'ok' },
  already: { mark: '↺', tone: 'warning' },
  restored: { mark: '↺', tone: 'ok' },
  failed: { mark: '✗', tone: 'error' },
  tolerated: { mark: '↺', tone: 'warning' },
  undone: { mark: '↺', tone: 'warning' },
};

export function StepList({ steps, rows }: { steps: ApplyStepEvent[]; rows: number }) {
  return (
    <>
      {steps
        .filter((s) => s.index >= 0)
        .slice(-Math.max(3, rows))
        .map((s) => (
          <Box key={`${s.index}:${s.text}`}>
            {s.status === 'running' ? <Spinner /> : <ToneText tone={MARK[s.status].tone}>{MARK[s.status].mark}</ToneText>}
            <ToneText>{` ${s.index < s.total ? `${s.index + 1}/${s.total} ` : ''}${s.text}`}</ToneText>
            {s.detail ? <ToneText tone="muted">{`  ${s.detail}`}</ToneText> : null}
          </Box>
        ))}
    </>
  );
}

/** The outcome in one headline (the engine's words under it). */
export function outcomeHeadline(outcome: ApplyOutcome, targets: readonly Finding[]): string {
  switch (outcome.status) {
    case 'applied':
      return `Applied. ${targets.map(findingLabel).join(', ')} ${targets.length > 1 ? 'are' : 'is'} gone from the re-check.`;
    case 'nothing-to-do':
      return 'Nothing to do: already fixed.';
    case 'rolled-back':
      return 'Still reported after the fix: rolled back.';
    case 'refused':
      return 'Refused: nothing changed.';
    case 'failed':
      return 'Failed.';
  }
}

// ToneText, not @inkjs/ui's StatusMessage: its colours ignore NO_COLOR / --no-color
const TONE_OF: Record<ApplyOutcome['status'], 'ok' | 'muted' | 'error'> = {
  applied: 'ok',
  'nothing-to-do': 'muted',
  'rolled-back': 'error',
  refused: 'error',
  failed: 'error',
};

export function FixOutcomeView({
  outcome,
  targets,
  kept,
  rows,
}: {
  outcome: ApplyOutcome;
  targets: readonly Finding[];
  kept: string | undefined;
  rows: number;
}) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <ToneText tone={TONE_OF[outcome.status]} bold>
        {outcomeHeadline(outcome, targets)}
      </ToneText>
      {outcome.message
        .split('\n')
        .slice(0, Math.max(2, rows))
        .map((l, i) => (
          <ToneText key={i} tone="muted">
            {l}
          </ToneText>
        ))}
      {outcome.confirmDeadline ? (
        <ToneText tone="warning" bold>
          {kept ?? `Commit-confirmed: press Enter to keep it; otherwise it rolls back by itself at ${outcome.confirmDeadline.toISOString()}.`}
        </ToneText>
      ) : null}
    </Box>
  );
}
