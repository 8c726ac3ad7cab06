// Set up a new HA pair / Generate configs: one question per step, each validated before the
// next, defaults from the host; then every generated file for review; then write them to a
// directory (or, for setup, install them through the change engine); then the peer's command.
// With --peer HOST the peer's half is installed by the peer's own hagw-doctor over SSH (its
// preview and plan, the typed consent here, its result), and "Check both nodes" diagnoses the pair.
import React, { useState } from 'react';
import { Box } from 'ink';
import { useKeys } from '../components/keys.js';
import type { FixPlan } from '../../types.js';
import { Menu } from '../components/menu.js';
import { Screen } from '../components/screen.js';
import { ScrollView } from '../components/scroll-view.js';
import { Spinner } from '../components/spinner.js';
import { TextField } from '../components/text-field.js';
import { useCopyKey } from '../components/clipboard.js';
import { CONFIRM_WORD } from '../../change/confirm.js';
import { TypedConfirm } from '../components/typed-confirm.js';
import { clock, useSetup, type HalfInstalled, type PairFile, type PeerInstallStep, type SetupModel } from '../hooks/use-setup.js';
import { ToneText } from '../components/theme.js';
import type { KeyHint } from '../components/footer.js';
import { CONFIRM_SECONDS } from '../hooks/use-fix.js';
import { useAppContext, useTyping } from '../context.js';
import { generateCommandLine, generateFlags, peerAnswers, type SetupAnswers } from '../logic/setup.js';

export function SetupScreen({ mode }: { mode: 'setup' | 'generate' }) {
  const { services, session, pop, push, active, bodyHeight } = useAppContext();
  const setup = useSetup(mode);
  const { state, dispatch, questions, question: q } = setup;
  const { phase, host, answers, step, error, live, files, fileIdx, result, installing, peer: peerStep, installed } = state;
  const typing = (phase === 'ask' && q?.kind === 'text') || phase === 'dir';
  useTyping(typing);

  useKeys(
    (_input, key) => {
      if (phase === 'ask') {
        if (key.escape) {
          if (step === 0) pop();
          else dispatch({ type: 'back' });
        }
      } else if (phase === 'review') {
        if (key.escape) dispatch({ type: 'phase', phase: 'ask' });
        else if (key.leftArrow || (key.tab && key.shift)) dispatch({ type: 'file', delta: -1 });
        else if (key.rightArrow || key.tab) dispatch({ type: 'file', delta: 1 });
        else if (key.return) dispatch({ type: 'phase', phase: 'output' });
      } else if (phase === 'output' || phase === 'done') {
        if (key.escape) dispatch({ type: 'phase', phase: phase === 'done' ? 'output' : 'review' });
      } else if (phase === 'dir') {
        if (key.escape) dispatch({ type: 'phase', phase: 'output' });
      }
    },
    { isActive: active && !installing && !peerStep },
  );

  const role = answers.role ?? 'master';
  const title = mode === 'setup' ? 'Set up a new HA pair' : 'Generate configs';
  // y on the last screen: the peer's command on the clipboard
  const peerCommand =
    phase === 'done' && answers.peer
      ? generateCommandLine(generateFlags(peerAnswers(answers as SetupAnswers)), `./hagw-${peerAnswers(answers as SetupAnswers).role}`)
      : undefined;
  const copied = useCopyKey(peerCommand, active && phase === 'done' && !installing && !peerStep);

  if (installing)
    return (
      <InstallStep
        plan={installing}
        onDone={(outcome) => {
          if (outcome) dispatch({ type: 'installed', node: 'this', outcome });
          dispatch({ type: 'install', plan: undefined });
        }}
      />
    );
  if (peerStep && services.installOnPeer) return <PeerInstallScreen setup={setup} step={peerStep} />;

  if (phase === 'loading' || !host) {
    return (
      <Screen title={title} keys={[['Esc', 'back']]}>
        <Box>
          <Spinner />
          <ToneText> reading this host's interfaces…</ToneText>
        </Box>
      </Screen>
    );
  }

  if (phase === 'ask' && q) {
    const done = questions
      .slice(0, step)
      .map((x) => `${x.id}=${answers[x.id] ?? ''}`)
      .join('  ');
    const def = answers[q.id] ?? q.defaultValue(answers, host);
    const choices = q.choices?.(answers, host) ?? [];
    return (
      <Screen
        title={`${title} · step ${step + 1} of ${questions.length}`}
        keys={
          q.kind === 'choice'
            ? [
                ['↑↓/jk', 'move'],
                ['Enter', 'next'],
                ['Esc', 'back'],
              ]
            : [
                ['Enter', 'next'],
                ['Esc', 'back'],
              ]
        }
        typing={typing}
      >
        <ToneText tone="muted">{done || ' '}</ToneText>
        <ToneText bold>{q.title}</ToneText>
        <ToneText tone="muted" wrap="wrap">
          {q.help}
        </ToneText>
        <Box marginTop={1} flexDirection="column">
          {q.kind === 'choice' && choices.length ? (
            <Menu
              key={q.id}
              items={choices.map((c) => ({ id: c.value, label: c.label, ...(c.hint ? { hint: c.hint } : {}) }))}
              initialId={def}
              height={Math.max(3, bodyHeight - 7)}
              isFocused={active}
              onSelect={(it) => setup.submit(it.id)}
            />
          ) : (
            <TextField key={q.id} defaultValue={def} isFocused={active} onChange={setup.typed} onSubmit={setup.submit} />
          )}
        </Box>
        {error ? (
          <ToneText tone="error" wrap="wrap">{`✗ ${error}`}</ToneText>
        ) : live ? (
          <ToneText tone="warning" wrap="wrap">{`as typed: ${live}`}</ToneText>
        ) : null}
      </Screen>
    );
  }

  if (phase === 'generating' || phase === 'writing') {
    return (
      <Screen title={title} keys={[]}>
        <Box>
          <Spinner />
          <ToneText>{phase === 'generating' ? ' generating the files…' : ' writing and validating (keepalived -t, iptables-restore --test)…'}</ToneText>
        </Box>
      </Screen>
    );
  }

  if (phase === 'review') {
    const f = files[fileIdx];
    const pair = files.some((x) => x.node === 'peer');
    const half = (x: PairFile) => (pair ? `${x.node === 'peer' ? `peer ${answers.peer ?? ''}` : 'this node'}: ` : '');
    return (
      <Screen
        title={`${title} · review ${fileIdx + 1}/${files.length}: ${f ? `${half(f)}${f.path}` : ''}`}
        keys={[
          ['←→/Tab', 'file'],
          ['j/k', 'scroll'],
          ['Enter', 'looks right'],
          ['Esc', 'back'],
        ]}
      >
        {pair ? (
          <ToneText tone="muted">{`both halves of the pair: this node (${answers.role ?? 'master'}) and the peer ${answers.peer ?? ''}`}</ToneText>
        ) : null}
        <ToneText tone="muted" wrap="wrap">
          {files
            .map((x, i) => (i === fileIdx ? `[${pair && x.node === 'peer' ? 'peer:' : ''}${x.path}]` : `${pair && x.node === 'peer' ? 'peer:' : ''}${x.path}`))
            .join('  ')}
        </ToneText>
        <ScrollView
          key={fileIdx}
          lines={(f?.content ?? '')
            .replace(/\n$/, '')
            .split('\n')
            .map((text) => ({ text }))}
          height={bodyHeight - (pair ? 3 : 1)}
          isFocused={active}
        />
      </Screen>
    );
  }

  const defaultDir = `./hagw-${role}`;
  if (phase === 'output') {
    // with --peer: the peer's half through its own hagw-doctor, and both nodes checked after an install
    const peerHost = mode === 'setup' && services.installOnPeer && services.peer && files.some((f) => f.node === 'peer') ? services.peer : undefined;
    const mine = mode === 'setup' && services.apply;
    const anyInstalled = Boolean(installed.this?.ok || installed.peer?.ok);
    const theirs = answers.peer && answers.role ? peerAnswers(answers as SetupAnswers) : undefined;
    const items = [
      { id: 'dir', label: 'Write the files to a directory', hint: 'validated with keepalived -t and iptables-restore --test' },
      ...(mine
        ? [
            {
              id: 'install',
              label: peerHost ? "Install this node's half on this host" : 'Install them on this host',
              hint: `${installed.this?.ok ? 'installed ✓; again: ' : ''}through the change engine: backup, apply, roll back on failure`,
            },
          ]
        : []),
      ...(peerHost
        ? [
            {
              id: 'peer',
              label: `Install the peer's half on ${peerHost} through its own hagw-doctor`,
              hint: `${installed.peer?.ok ? 'installed ✓; again: ' : ''}its own preview, backup and rollback; you confirm here`,
            },
          ]
        : []),
      ...(peerHost && installed.peer?.pendingUntil !== undefined
        ? [
            {
              id: 'keep',
              label: `Keep the peer's change on ${peerHost}`,
              hint: installed.peer.keeping
                ? 'keeping…'
                : `its own hagw-doctor confirm; unless kept, it rolls back there at ${clock(installed.peer.pendingUntil)}`,
            },
          ]
        : []),
      ...(anyInstalled && peerHost ? [{ id: 'check', label: 'Check both nodes', hint: `Diagnose this node and ${peerHost} side by side` }] : []),
    ];
    return (
      <Screen
        title={title}
        keys={[
          ['↑↓', 'move'],
          ['Enter', 'choose'],
          ['Esc', 'back'],
        ]}
      >
        {peerHost || installed.this ? (
          <Box flexDirection="column" marginBottom={1}>
            <HalfLine who={`this node (${role} ${answers.self ?? ''})`} outcome={installed.this} />
            {peerHost ? <HalfLine who={`peer ${peerHost} (${theirs?.role ?? ''} ${theirs?.self ?? ''})`} outcome={installed.peer} /> : null}
            {peerHost && installed.peer?.keepProblem ? <ToneText tone="error" wrap="wrap">{`✗ ${installed.peer.keepProblem}`}</ToneText> : null}
          </Box>
        ) : null}
        <Menu
          items={items}
          isFocused={active}
          {...(anyInstalled && peerHost ? { initialId: 'check' } : {})}
          onSelect={(it) => {
            if (it.id === 'dir') dispatch({ type: 'phase', phase: 'dir' });
            else if (it.id === 'install') setup.install();
            else if (it.id === 'peer') setup.installPeer();
            else if (it.id === 'keep') setup.keepPeer();
            else if (it.id === 'check') {
              // a fresh diagnosis (with --peer: both nodes), not the one from before the install
              void session.diagnose(true);
              push({ name: 'diagnose' });
            }
          }}
        />
      </Screen>
    );
  }

  if (phase === 'dir') {
    return (
      <Screen
        title={title}
        keys={[
          ['Enter', 'write'],
          ['Esc', 'back'],
        ]}
        typing
      >
        <ToneText>Directory to write the files into (created if missing):</ToneText>
        <TextField defaultValue={defaultDir} isFocused={active} onSubmit={(v) => setup.write(v.trim() || defaultDir)} />
      </Screen>
    );
  }

  // done
  const a = answers as SetupAnswers;
  const peer = peerAnswers(a);
  return (
    <Screen
      title={title}
      keys={[
        ['y', "copy the peer's command"],
        ['Esc', 'back'],
        ['q', 'quit'],
      ]}
    >
      {copied ? <ToneText tone="ok">{copied}</ToneText> : null}
      <ToneText tone={result?.ok ? 'ok' : 'error'} bold wrap="wrap">
        {result?.ok ? `✓ ${result.message}` : `✗ ${result?.message ?? ''}`}
      </ToneText>
      {result?.ok ? <ToneText tone="muted" wrap="wrap">{`Read ${result.dir}/INSTALL.md for what goes where.`}</ToneText> : null}
      <Box marginTop={1} flexDirection="column">
        <ToneText bold>{`On the peer (${a.peer}), run:`}</ToneText>
        <ToneText tone="accent" wrap="wrap">
          {generateCommandLine(generateFlags(peer), `./hagw-${peer.role}`)}
        </ToneText>
        <ToneText tone="muted" wrap="wrap">
          (change --interface if the peer's LAN interface has another name)
        </ToneText>
      </Box>
      <Box marginTop={1} flexDirection="column">
        <ToneText bold>This node's files, as a command line:</ToneText>
        <ToneText tone="muted" wrap="wrap">
          {generateCommandLine(generateFlags(a), result?.dir ?? defaultDir)}
        </ToneText>
      </Box>
    </Screen>
  );
}

/** What is installed on one half of the pair, one line. */
function HalfLine({ who, outcome }: { who: string; outcome: HalfInstalled | undefined }) {
  const pending = outcome?.ok && outcome.pendingUntil !== undefined;
  const state = !outcome
    ? 'not installed yet'
    : !outcome.ok
      ? `✗ not installed: ${outcome.message}`
      : pending
        ? `✓ installed, pending: rolls back at ${clock(outcome.pendingUntil!)} unless kept${outcome.keeping ? ' (keeping…)' : ''}`
        : '✓ installed';
  return (
    <ToneText tone={!outcome ? 'muted' : !outcome.ok ? 'error' : pending ? 'warning' : 'ok'} wrap="truncate-end">
      {`${who}: ${state}`}
    </ToneText>
  );
}

/** The peer's half through its own hagw-doctor: connecting, its preview and plan, the typed consent, applying, its result. */
function PeerInstallScreen({ setup, step }: { setup: SetupModel; step: PeerInstallStep }) {
  const { services, active, bodyHeight, columns } = useAppContext();
  const host = services.peer ?? '';
  const theirs = peerAnswers(setup.state.answers as SetupAnswers);
  const confirming = step.step === 'preview' && step.confirming;
  useTyping(confirming);
  const installedPeer = setup.state.installed.peer;
  const pending = installedPeer?.pendingUntil;
  useKeys(
    (input, key) => {
      if (step.step === 'preview' && !step.confirming) {
        if (key.return) setup.dispatch({ type: 'peer', step: { ...step, confirming: true } });
        else if (input === 'c') setup.dispatch({ type: 'peer', step: { ...step, commitConfirmed: !step.commitConfirmed } });
        else if (key.escape) setup.closePeer();
      } else if (step.step === 'done' && key.return && pending !== undefined) setup.keepPeer();
      else if (key.escape && step.step !== 'applying') setup.closePeer();
    },
    { isActive: active && !confirming },
  );
  const title = `Install the peer's half on ${host}`;
  if (step.step === 'connecting' || step.step === 'applying') {
    return (
      <Screen title={title} keys={step.step === 'connecting' ? [['Esc', 'cancel']] : []}>
        <Box>
          <Spinner />
          <ToneText>
            {step.step === 'connecting'
              ? ` connecting to ${host} over SSH: its hagw-doctor, root there, then its own preview…`
              : ` installing on ${host} through its own hagw-doctor (install-generated --yes --expect-plan ${step.plan.slice(0, 19)}…)`}
          </ToneText>
        </Box>
        {step.step === 'applying' ? (
          <ToneText tone="muted" wrap="wrap">
            {`Its change engine backs up, applies and re-checks there, and rolls back there by itself if a step fails; the app waits for its answer (quitting too).`}
          </ToneText>
        ) : null}
      </Screen>
    );
  }
  if (step.step === 'failed') {
    return (
      <Screen title={title} keys={[['Esc', 'back']]}>
        <ToneText tone="error" wrap="wrap">{`✗ ${step.message}`}</ToneText>
      </Screen>
    );
  }
  if (step.step === 'done') {
    const headline = `${step.ok ? '✓' : '✗'} ${step.ok && installedPeer ? installedPeer.message : step.message}${installedPeer?.keeping ? ` (keeping it on ${host}…)` : ''}`;
    const problem = step.ok && installedPeer?.keepProblem ? `✗ ${installedPeer.keepProblem}` : undefined;
    const rows = (text: string) => Math.ceil(text.length / Math.max(20, columns - 1));
    return (
      <Screen
        title={title}
        keys={[
          ['j/k', 'scroll'],
          ...(pending !== undefined ? ([['Enter', `keep the change on ${host}`]] as KeyHint[]) : []),
          ['Esc', step.ok ? 'back (then Check both nodes)' : 'back'],
        ]}
      >
        {/* after a keep (or a keep refused), the half's latest outcome is the headline */}
        <ToneText tone={!step.ok ? 'error' : pending !== undefined ? 'warning' : 'ok'} bold wrap="wrap">
          {headline}
        </ToneText>
        {problem ? (
          <ToneText tone="error" wrap="wrap">
            {problem}
          </ToneText>
        ) : null}
        <ToneText tone="muted">{`${host}'s own result:`}</ToneText>
        <ScrollView
          lines={step.lines.map((l) => ({ text: l || ' ', ...(/FAILED|INCOMPLETE|^✗|rolling back/.test(l) ? { tone: 'error' as const } : {}) }))}
          height={Math.max(3, bodyHeight - 1 - rows(headline) - (problem ? rows(problem) : 0))}
          isFocused={active}
        />
      </Screen>
    );
  }
  // preview: the peer's own, scrollable, with its plan fingerprint; Enter asks the typed consent
  return (
    <Screen
      title={title}
      keys={
        step.confirming
          ? [
              ['Enter', 'submit'],
              ['Esc', 'cancel'],
            ]
          : [
              ['j/k', 'scroll'],
              ['c', 'commit-confirmed'],
              ['Enter', 'install…'],
              ['Esc', 'cancel'],
            ]
      }
      typing={step.confirming}
    >
      <ToneText bold wrap="truncate-end">{`${host}'s own hagw-doctor would install its member (${theirs.role}, ${theirs.self}):`}</ToneText>
      {step.note ? <ToneText tone="muted" wrap="wrap">{`note: ${step.note}`}</ToneText> : null}
      {step.confirming ? null : (
        <ScrollView
          lines={step.text
            .replace(/\n+$/, '')
            .split('\n')
            .map((text) => ({ text: text || ' ' }))}
          height={Math.max(3, bodyHeight - 3 - (step.note ? 1 : 0))}
          isFocused={active}
        />
      )}
      <ToneText tone="accent" wrap="truncate-end">{`plan ${step.plan}`}</ToneText>
      <ToneText tone={step.commitConfirmed ? 'ok' : 'warning'} wrap="truncate-end">
        {step.commitConfirmed
          ? `commit-confirmed: on: ${host} rolls the change back by itself unless you keep it from here within ${CONFIRM_SECONDS} s`
          : `commit-confirmed: off: the change stays on ${host} even if SSH to it is lost`}
      </ToneText>
      {step.confirming ? (
        <TypedConfirm
          message={`This installs the member on ${host} through its own hagw-doctor (it reloads or restarts keepalived there); a failed step rolls back there${step.commitConfirmed ? `, and so does the whole change unless you keep it within ${CONFIRM_SECONDS} s` : ''}.`}
          word={CONFIRM_WORD}
          refusal={`nothing installed on ${host}`}
          isFocused={active}
          onConfirm={setup.applyPeer}
          onCancel={() => setup.dispatch({ type: 'peer', step: { ...step, confirming: false } })}
        />
      ) : null}
    </Screen>
  );
}

/** Installing through the change engine: the exact steps, a typed consent, the engine's progress and outcome. */
function InstallStep({ plan, onDone }: { plan: FixPlan; onDone(outcome?: HalfInstalled): void }) {
  const { services, session, active, bodyHeight } = useAppContext();
  const [state, setState] = useState<'confirm' | 'applying' | 'done'>('confirm');
  const [lines, setLines] = useState<string[]>([]);
  const [outcome, setOutcome] = useState<HalfInstalled | undefined>();
  // on SSH, as the fix screen: the install rolls back by itself unless kept from here in time
  const commitConfirmed = services.ssh && Boolean(services.confirm);
  const [pending, setPending] = useState<{ changeId: string; deadline: Date; keeping?: boolean } | undefined>();
  useTyping(state === 'confirm');
  const keep = () => {
    if (!pending || pending.keeping || !services.confirm) return;
    setPending({ ...pending, keeping: true });
    services.confirm(pending.changeId).then(
      (message) => {
        setPending(undefined);
        setLines((l) => [...l, '', `✓ kept: ${message}`]);
        setOutcome((o) => (o ? { ok: o.ok, message: `${o.message} (kept)` } : o));
      },
      (err: Error) => {
        setPending({ ...pending, keeping: false });
        setLines((l) => [...l, '', `✗ not kept: ${err.message}; it rolls back by itself at ${clock(pending.deadline.getTime())}`]);
      },
    );
  };
  useKeys(
    (_i, key) => {
      if (state !== 'done') return;
      if (key.return && pending) keep();
      else if (key.escape) onDone(outcome);
    },
    { isActive: active },
  );
  const go = async () => {
    if (!services.apply) return;
    setState('applying');
    const signal = session.beginApply();
    try {
      const r = await services.apply(plan, {
        findings: [],
        recheck: () => session.recheck(),
        signal,
        ...(commitConfirmed ? { confirmTimeout: CONFIRM_SECONDS } : {}),
        onStep: (e) =>
          setLines((l) => [...l, `${e.status === 'running' ? '…' : e.status === 'failed' ? '✗' : '✓'} ${e.text}${e.detail ? `  ${e.detail}` : ''}`]),
      });
      setLines((l) => [...l, '', ...r.message.split('\n')]);
      const first = r.message.split('\n')[0] ?? '';
      if (r.status === 'applied' && r.confirmDeadline && r.changeId) {
        setPending({ changeId: r.changeId, deadline: r.confirmDeadline });
        setLines((l) => [...l, `commit-confirmed: press Enter to keep it; otherwise it rolls back by itself at ${clock(r.confirmDeadline!.getTime())}`]);
        setOutcome({ ok: true, message: first, pendingUntil: r.confirmDeadline.getTime() });
      } else setOutcome({ ok: r.status === 'applied', message: first });
    } catch (err) {
      setLines((l) => [...l, '', `✗ ${(err as Error).message}`]);
      setOutcome({ ok: false, message: (err as Error).message });
    } finally {
      session.endApply();
      setState('done');
    }
  };
  const restarts = plan.steps.some((x) => 'argv' in x && x.argv[0] !== 'true' && /restart|-HUP/.test(x.argv.join(' ')));
  return (
    <Screen
      title="Install on this host"
      keys={
        state === 'confirm'
          ? [
              ['Enter', 'submit'],
              ['Esc', 'cancel'],
            ]
          : [...(pending ? ([['Enter', 'keep the change']] as KeyHint[]) : []), ['Esc', 'back']]
      }
      typing={state === 'confirm'}
    >
      {state === 'confirm' ? (
        <>
          <ToneText bold wrap="wrap">
            {plan.summary}
          </ToneText>
          {plan.steps.slice(0, bodyHeight - 5).map((s, i) => (
            <ToneText
              key={i}
              tone="muted"
            >{`  ${i + 1}. ${'argv' in s ? s.argv.join(' ') : 'write' in s ? `write ${s.write.path}` : `remove ${s.remove.path}`}`}</ToneText>
          ))}
          <ToneText tone="muted" wrap="wrap">
            {plan.persistence.how}
          </ToneText>
          {commitConfirmed ? (
            <ToneText
              tone="ok"
              wrap="wrap"
            >{`commit-confirmed: on (you are on SSH): it rolls back by itself after ${CONFIRM_SECONDS} s unless you keep it`}</ToneText>
          ) : null}
          <TypedConfirm
            message={`This ${restarts ? 'restarts or reloads keepalived and ' : ''}loads firewall rules; a failed step rolls back the whole install.`}
            word={CONFIRM_WORD}
            refusal="nothing installed"
            isFocused={active}
            onConfirm={() => void go()}
            onCancel={onDone}
          />
        </>
      ) : (
        // the whole outcome, scrollable: a failed install shows its full reason, never cut
        <ScrollView
          lines={lines.map((l) => ({ text: l || ' ', ...(l.startsWith('✗') || /FAILED|INCOMPLETE/.test(l) ? { tone: 'error' as const } : {}) }))}
          height={bodyHeight}
          isFocused={active && state === 'done'}
        />
      )}
    </Screen>
  );
}
