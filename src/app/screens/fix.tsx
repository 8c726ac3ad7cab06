// The fix screen: exact commands and file diffs, risk and persistence; confirm (typed for a
// disruptive plan); apply through the change engine with live step progress; the re-check; and
// commit-confirmed when the operator is on SSH.
import React, { useEffect, useState } from 'react';
import { Box } from 'ink';
import { useKeys } from '../components/keys.js';
import type { Finding } from '../../types.js';
import { Screen } from '../components/screen.js';
import { ScrollView, type Line } from '../components/scroll-view.js';
import { Spinner } from '../components/spinner.js';
import { TextField } from '../components/text-field.js';
import { ToneText } from '../components/theme.js';
import { findFinding, useAppContext, useSession, useTyping } from '../context.js';
import type { ApplyOutcome, ApplyStepEvent, FixPreview } from '../services.js';
import type { KeyHint } from '../components/footer.js';
import { mergePlans } from '../../change/merge.js';
import { stillReported } from '../logic/fix.js';

/** Seconds the change stays pending (rolls back by itself) when commit-confirmed is on. */
export const CONFIRM_SECONDS = 120;

type Phase = 'preview' | 'confirm' | 'applying' | 'result';

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

export function FixScreen({ code, subject }: { code: string; subject?: string }) {
  const { session, services, pop, popTo, active, bodyHeight } = useAppContext();
  const { run, quitRequested } = useSession();
  // the finding as it was when the screen opened: the re-check may remove it from the report
  const [f] = useState(() => findFinding(run?.report?.findings, code, subject));
  const [preview, setPreview] = useState<FixPreview | undefined>();
  const [previewError, setPreviewError] = useState<string | undefined>();
  const [phase, setPhase] = useState<Phase>('preview');
  const [commitConfirmed, setCommitConfirmed] = useState(services.ssh);
  const [steps, setSteps] = useState<ApplyStepEvent[]>([]);
  const [outcome, setOutcome] = useState<ApplyOutcome | undefined>();
  const [typed, setTyped] = useState<string | undefined>();
  const [kept, setKept] = useState<string | undefined>();
  const demo = Boolean(services.demo) || !services.apply;
  // every instance of this code that has a fix, as `hagw-doctor fix CODE` does (e toggles)
  const [siblings] = useState(() => (run?.report?.findings ?? []).filter((x) => x.code === code && x.fix));
  const [every, setEvery] = useState(false);
  const targets: Finding[] = f ? (every && siblings.length > 1 ? siblings : [f]) : [];
  const plan = f?.fix ? (targets.length > 1 ? mergePlans(targets.map((t) => t.fix!)) : f.fix) : undefined;

  useEffect(() => {
    if (!plan) return;
    setPreview(undefined);
    services.preview(plan, run?.snapshot).then(setPreview, (err: Error) => setPreviewError(err.message));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [f, every]);

  const typing = phase === 'confirm' && preview?.confirmWord != null;
  useTyping(typing);

  const apply = async () => {
    if (!plan || !services.apply) return;
    setPhase('applying');
    session.setApplying(true);
    try {
      // the plan was made from an earlier check: look at the host again first; fixed meanwhile
      // (elsewhere, by someone else, by another screen) means nothing to do, nothing applied
      const fresh = await session.recheck();
      const left = stillReported(targets, fresh.findings);
      if (!left.length) {
        setOutcome({
          status: 'nothing-to-do',
          message: `${targets.map(label).join(', ')} is no longer reported on this host: nothing to do, nothing applied.`,
        });
        return;
      }
      const res = await services.apply(left.length === targets.length ? plan : left.length > 1 ? mergePlans(left.map((t) => t.fix!)) : left[0]!.fix!, {
        findings: left,
        recheck: () => session.recheck(),
        ...(commitConfirmed ? { confirmTimeout: CONFIRM_SECONDS } : {}),
        onStep: (e) => setSteps((prev) => [...prev.filter((p) => !(p.index === e.index && p.text === e.text)), e]),
      });
      setOutcome(res);
    } catch (err) {
      setOutcome({ status: 'failed', message: (err as Error).message });
    } finally {
      session.setApplying(false);
      setPhase('result');
    }
  };

  useKeys(
    (input, key) => {
      if (phase === 'preview') {
        if (key.escape) pop();
        else if (input === 'c' && services.ssh && !demo) setCommitConfirmed((v) => !v);
        else if (input === 'e' && siblings.length > 1) setEvery((v) => !v);
        else if ((input === 'a' || key.return) && !demo && preview) setPhase('confirm');
      } else if (phase === 'confirm') {
        if (key.escape) setPhase('preview');
        else if (!preview?.confirmWord && (input === 'y' || key.return)) void apply();
        else if (!preview?.confirmWord && input === 'n') setPhase('preview');
      } else if (phase === 'result') {
        if (key.escape) popTo('diagnose');
        else if (key.return && outcome?.pendingUntil && outcome.changeId && services.confirm && !kept) {
          void services.confirm(outcome.changeId).then(setKept, (err: Error) => setKept(`not confirmed: ${err.message}`));
        }
      }
    },
    { isActive: active && phase !== 'applying' },
  );

  if (!f?.fix) {
    return (
      <Screen title={`Fix ${code}`} keys={[['Esc', 'back']]}>
        <ToneText tone="muted">{f ? 'This finding has no fix the doctor can apply.' : `${code} is no longer reported.`}</ToneText>
      </Screen>
    );
  }

  const header = previewHeader({ ...f, fix: plan! }, preview, services.ssh && !demo ? commitConfirmed : undefined);
  if (siblings.length > 1) {
    header.splice(header.length - 1, 0, {
      text: every
        ? `scope: every instance of ${code} (${siblings.map((x) => x.subject ?? '?').join(', ')}) (e: only ${f.subject ?? 'this one'})`
        : `scope: only ${label(f)} (e: every instance of ${code}, ${siblings.length})`,
      tone: 'accent',
    });
  }
  const title = every && siblings.length > 1 ? `Fix every ${f.code} (${siblings.length})` : `Fix ${label(f)}`;

  if (phase === 'preview' || phase === 'confirm') {
    const lines: Line[] = [
      ...header,
      ...(preview
        ? preview.lines.map((l) => ({ text: l.text, tone: toneOf(l.kind) }))
        : [{ text: previewError ? `preview failed: ${previewError}` : 'preparing the preview…', tone: 'muted' as const }]),
    ];
    const confirmRows = phase === 'confirm' ? 2 : demo ? 1 : 0;
    const keys: KeyHint[] =
      phase === 'confirm'
        ? preview?.confirmWord
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
      <Screen title={title} keys={keys} typing={typing}>
        <ScrollView lines={lines} height={bodyHeight - confirmRows} isFocused={active && phase === 'preview'} />
        {demo ? <ToneText tone="warning">demo: not applied (a recorded snapshot; run hagw-doctor on the gateway itself to fix it)</ToneText> : null}
        {phase === 'confirm' ? (
          preview?.confirmWord ? (
            <Box flexDirection="column">
              <ToneText tone="warning" bold>{`This change is disruptive. Type "${preview.confirmWord}" and Enter to go ahead.`}</ToneText>
              <TextField
                isFocused={active}
                onChange={() => setTyped(undefined)}
                onSubmit={(v) => (v.trim() === preview.confirmWord ? void apply() : setTyped(v))}
              />
              {typed !== undefined ? <ToneText tone="error">{`"${typed}" is not "${preview.confirmWord}": nothing applied`}</ToneText> : null}
            </Box>
          ) : (
            <Box flexDirection="column">
              <ToneText bold>{`Apply these ${plan!.steps.length} step(s) now? (y/n)`}</ToneText>
              <ToneText tone="muted">the engine backs up first and rolls back by itself if a step fails or the re-check still reports the problem</ToneText>
            </Box>
          )
        ) : null}
      </Screen>
    );
  }

  const stepLines = steps.filter((s) => s.index >= 0);
  return (
    <Screen
      title={title}
      keys={phase === 'applying' ? [] : [...(outcome?.pendingUntil && !kept ? ([['Enter', 'keep the change']] as KeyHint[]) : []), ['Esc', 'back to findings']]}
    >
      <Box flexDirection="column">
        {stepLines.slice(-Math.max(3, bodyHeight - 7)).map((s) => (
          <Box key={`${s.index}:${s.text}`}>
            {s.status === 'running' ? (
              <Spinner />
            ) : (
              <ToneText tone={s.status === 'failed' ? 'error' : s.status === 'done' || s.status === 'restored' ? 'ok' : 'warning'}>
                {s.status === 'failed' ? '✗' : s.status === 'done' ? '✓' : '↺'}
              </ToneText>
            )}
            <ToneText>{` ${s.index < s.total ? `${s.index + 1}/${s.total} ` : ''}${s.text}`}</ToneText>
            {s.detail ? <ToneText tone="muted">{`  ${s.detail}`}</ToneText> : null}
          </Box>
        ))}
        {phase === 'applying' ? (
          <ToneText tone="muted">
            {quitRequested
              ? 'Ctrl+C: stopping after the current step; the engine rolls back, then the doctor exits.'
              : 'applying through the change engine… (Ctrl+C stops it and rolls back)'}
          </ToneText>
        ) : outcome ? (
          <Box flexDirection="column" marginTop={1}>
            <ToneText tone={outcome.status === 'applied' ? 'ok' : outcome.status === 'nothing-to-do' ? 'muted' : 'error'} bold>
              {outcome.status === 'applied'
                ? `Applied. ${targets.map(label).join(', ')} ${targets.length > 1 ? 'are' : 'is'} gone from the re-check.`
                : outcome.status === 'nothing-to-do'
                  ? 'Nothing to do: already fixed.'
                  : outcome.status === 'rolled-back'
                    ? `Still reported after the fix: rolled back.`
                    : outcome.status === 'refused'
                      ? 'Refused: nothing changed.'
                      : 'Failed.'}
            </ToneText>
            {outcome.message
              .split('\n')
              .slice(0, Math.max(2, bodyHeight - stepLines.length - 4))
              .map((l, i) => (
                <ToneText key={i} tone="muted">
                  {l}
                </ToneText>
              ))}
            {outcome.pendingUntil ? (
              <ToneText tone="warning" bold>
                {kept ?? `Commit-confirmed: press Enter to keep it; otherwise it rolls back by itself at ${outcome.pendingUntil}.`}
              </ToneText>
            ) : null}
          </Box>
        ) : null}
      </Box>
    </Screen>
  );
}

const label = (x: Finding) => `${x.code}${x.subject ? ` [${x.subject}]` : ''}`;

function toneOf(kind: string): Line['tone'] {
  switch (kind) {
    case 'add':
      return 'add';
    case 'remove':
      return 'remove';
    case 'command':
      return 'accent';
    case 'note':
      return 'muted';
    case 'heading':
      return 'plain';
    default:
      return 'plain';
  }
}
