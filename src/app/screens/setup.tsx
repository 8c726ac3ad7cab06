// Set up a new HA pair / Generate configs: one question per step, each validated before the
// next, defaults from the host; then every generated file for review; then write them to a
// directory (or, for setup, install them through the change engine); then the peer's command.
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
import { useSetup, type PairFile } from '../hooks/use-setup.js';
import { ToneText } from '../components/theme.js';
import { useAppContext, useTyping } from '../context.js';
import { generateCommandLine, generateFlags, peerAnswers, type SetupAnswers } from '../logic/setup.js';

export function SetupScreen({ mode }: { mode: 'setup' | 'generate' }) {
  const { services, pop, active, bodyHeight } = useAppContext();
  const setup = useSetup(mode);
  const { state, dispatch, questions, question: q } = setup;
  const { phase, host, answers, step, error, live, files, fileIdx, result, installing } = state;
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
    { isActive: active && !installing },
  );

  const role = answers.role ?? 'master';
  const title = mode === 'setup' ? 'Set up a new HA pair' : 'Generate configs';
  // y on the last screen: the peer's command on the clipboard
  const peerCommand =
    phase === 'done' && answers.peer
      ? generateCommandLine(generateFlags(peerAnswers(answers as SetupAnswers)), `./hagw-${peerAnswers(answers as SetupAnswers).role}`)
      : undefined;
  const copied = useCopyKey(peerCommand, active && phase === 'done' && !installing);

  if (installing) return <InstallStep plan={installing} onDone={() => dispatch({ type: 'install', plan: undefined })} />;

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
    const items = [
      { id: 'dir', label: 'Write the files to a directory', hint: 'validated with keepalived -t and iptables-restore --test' },
      ...(mode === 'setup' && services.apply
        ? [{ id: 'install', label: 'Install them on this host', hint: 'through the change engine: backup, apply, roll back on failure' }]
        : []),
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
        <Menu items={items} isFocused={active} onSelect={(it) => (it.id === 'dir' ? dispatch({ type: 'phase', phase: 'dir' }) : setup.install())} />
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

/** Installing through the change engine: the exact steps, a typed consent, the engine's progress and outcome. */
function InstallStep({ plan, onDone }: { plan: FixPlan; onDone(): void }) {
  const { services, session, active, bodyHeight } = useAppContext();
  const [state, setState] = useState<'confirm' | 'applying' | 'done'>('confirm');
  const [lines, setLines] = useState<string[]>([]);
  useTyping(state === 'confirm');
  useKeys((_i, key) => key.escape && state === 'done' && onDone(), { isActive: active });
  const go = async () => {
    if (!services.apply) return;
    setState('applying');
    const signal = session.beginApply();
    try {
      const r = await services.apply(plan, {
        findings: [],
        recheck: () => session.recheck(),
        signal,
        onStep: (e) =>
          setLines((l) => [...l, `${e.status === 'running' ? '…' : e.status === 'failed' ? '✗' : '✓'} ${e.text}${e.detail ? `  ${e.detail}` : ''}`]),
      });
      setLines((l) => [...l, '', ...r.message.split('\n')]);
    } catch (err) {
      setLines((l) => [...l, '', `✗ ${(err as Error).message}`]);
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
          : [['Esc', 'back']]
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
