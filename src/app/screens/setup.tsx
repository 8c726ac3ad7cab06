// Set up a new HA pair / Generate configs: one question per step, each validated before the
// next, defaults from the host; then every generated file for review; then write them to a
// directory (or, for setup, install them through the change engine); then the peer's command.
import React, { useEffect, useState } from 'react';
import { Box } from 'ink';
import { useKeys } from '../components/keys.js';
import type { FixPlan } from '../../types.js';
import { Menu } from '../components/menu.js';
import { Screen } from '../components/screen.js';
import { ScrollView } from '../components/scroll-view.js';
import { Spinner } from '../components/spinner.js';
import { TextField } from '../components/text-field.js';
import { useCopyKey } from '../components/clipboard.js';
import { routesFromIpJson } from '../../generate/sanity.js';
import { ToneText } from '../components/theme.js';
import { useAppContext, useSession, useTyping } from '../context.js';
import type { GeneratedFile } from '../services.js';
import { activeQuestions, generateCommandLine, generateFlags, peerAnswers, type HostDefaults, type SetupAnswers } from '../logic/setup.js';
import { PROBE_IP_ROUTE } from '../../probes/ids.js';

type Phase = 'loading' | 'ask' | 'generating' | 'review' | 'output' | 'dir' | 'writing' | 'done';

export function SetupScreen({ mode }: { mode: 'setup' | 'generate' }) {
  const { session, services, pop, active, bodyHeight } = useAppContext();
  const { run } = useSession();
  const [host, setHost] = useState<HostDefaults | undefined>();
  const [phase, setPhase] = useState<Phase>('loading');
  // kept in the session: Setup and Generate share them, and leaving does not lose them
  const [answers, setAnswersState] = useState<Partial<SetupAnswers>>(() => ({ ...session.setupAnswers }) as Partial<SetupAnswers>);
  const setAnswers = (a: Partial<SetupAnswers>) => {
    session.setupAnswers = { ...(a as Record<string, string>) };
    setAnswersState(a);
  };
  const [step, setStep] = useState(0);
  const [error, setError] = useState<string | undefined>();
  // the problem with the value as it is being typed (shown live; Enter turns it into the error)
  const [live, setLive] = useState<string | undefined>();
  const [files, setFiles] = useState<GeneratedFile[]>([]);
  const [fileIdx, setFileIdx] = useState(0);
  const [result, setResult] = useState<{ ok: boolean; message: string; dir?: string } | undefined>();
  const [installing, setInstalling] = useState<FixPlan | undefined>();

  useEffect(() => {
    let live = true;
    Promise.all([services.hostInterfaces(), import('../logic/host-facts.js').then((m) => m.vridsInUse(run?.snapshot))]).then(
      ([interfaces, vrids]) => {
        if (!live) return;
        const routes = run?.snapshot?.probes[PROBE_IP_ROUTE];
        setHost({ interfaces, vridsInUse: vrids, ...(routes?.status === 'ok' ? { routes: routesFromIpJson(routes.stdout) } : {}) });
        setPhase('ask');
      },
      () => {
        if (!live) return;
        setHost({ interfaces: [], vridsInUse: [] });
        setPhase('ask');
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [services]);

  const questions = activeQuestions(answers);
  const q = questions[step];
  useEffect(() => setLive(undefined), [step, phase]);
  const typing = (phase === 'ask' && q?.kind === 'text') || phase === 'dir';
  useTyping(typing);

  const submit = (value: string) => {
    if (!q || !host) return;
    const v = value.trim();
    const err = q.validate(v, answers, host);
    if (err) return setError(err);
    setError(undefined);
    const next = { ...answers, [q.id]: v } as Partial<SetupAnswers>;
    setAnswers(next);
    const nextQuestions = activeQuestions(next);
    const idx = nextQuestions.findIndex((x) => x.id === q.id) + 1;
    if (idx < nextQuestions.length) setStep(idx);
    else void generate(next as SetupAnswers);
  };

  const generate = async (a: SetupAnswers) => {
    setPhase('generating');
    const out = await services.generate(generateFlags(a));
    if (!out.ok) {
      setError(out.errors.join('; '));
      setPhase('ask');
      return;
    }
    setFiles(out.files);
    setFileIdx(0);
    setPhase('review');
  };

  const write = async (dir: string) => {
    setPhase('writing');
    const r = await services.writeFiles(dir, generateFlags(answers as SetupAnswers));
    setResult({ ...r, dir });
    setPhase('done');
  };

  const install = async () => {
    const plan = services.installPlan
      ? await services.installPlan(generateFlags(answers as SetupAnswers))
      : (await import('../logic/install.js')).installPlanFor(files);
    if (plan) setInstalling(plan);
  };

  useKeys(
    (input, key) => {
      if (phase === 'ask') {
        if (key.escape) {
          setError(undefined);
          if (step === 0) pop();
          else setStep(step - 1);
        }
      } else if (phase === 'review') {
        if (key.escape) setPhase('ask');
        else if (key.leftArrow || (key.tab && key.shift)) setFileIdx((i) => (i + files.length - 1) % files.length);
        else if (key.rightArrow || key.tab) setFileIdx((i) => (i + 1) % files.length);
        else if (key.return) setPhase('output');
      } else if (phase === 'output' || phase === 'done') {
        if (key.escape) setPhase(phase === 'done' ? 'output' : 'review');
      } else if (phase === 'dir') {
        if (key.escape) setPhase('output');
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

  if (installing) return <InstallStep plan={installing} onDone={() => setInstalling(undefined)} />;

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
              onSelect={(it) => submit(it.id)}
            />
          ) : (
            <TextField
              key={q.id}
              defaultValue={def}
              isFocused={active}
              onChange={(v) => {
                setError(undefined);
                setLive(v.trim() ? q.validate(v.trim(), answers, host) : undefined);
              }}
              onSubmit={submit}
            />
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
    return (
      <Screen
        title={`${title} · review ${fileIdx + 1}/${files.length}: ${f?.path ?? ''}`}
        keys={[
          ['←→/Tab', 'file'],
          ['j/k', 'scroll'],
          ['Enter', 'looks right'],
          ['Esc', 'back'],
        ]}
      >
        <ToneText tone="muted">{files.map((x, i) => (i === fileIdx ? `[${x.path}]` : x.path)).join('  ')}</ToneText>
        <ScrollView
          key={fileIdx}
          lines={(f?.content ?? '')
            .replace(/\n$/, '')
            .split('\n')
            .map((text) => ({ text }))}
          height={bodyHeight - 1}
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
        <Menu items={items} isFocused={active} onSelect={(it) => (it.id === 'dir' ? setPhase('dir') : void install())} />
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
        <TextField defaultValue={defaultDir} isFocused={active} onSubmit={(v) => void write(v.trim() || defaultDir)} />
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

/** Installing through the change engine reuses the fix screen's flow on an ad-hoc plan. */
function InstallStep({ plan, onDone }: { plan: FixPlan; onDone(): void }) {
  const { services, session, active, bodyHeight } = useAppContext();
  const [state, setState] = useState<'confirm' | 'applying' | 'done'>('confirm');
  const [lines, setLines] = useState<string[]>([]);
  const [typedWrong, setTypedWrong] = useState(false);
  useTyping(state === 'confirm');
  useKeys((_i, key) => key.escape && state !== 'applying' && onDone(), { isActive: active });
  const go = async () => {
    if (!services.apply) return;
    setState('applying');
    session.setApplying(true);
    try {
      const r = await services.apply(plan, {
        findings: [],
        recheck: () => session.recheck(),
        onStep: (e) =>
          setLines((l) => [...l, `${e.status === 'running' ? '…' : e.status === 'failed' ? '✗' : '✓'} ${e.text}${e.detail ? `  ${e.detail}` : ''}`]),
      });
      setLines((l) => [...l, '', ...r.message.split('\n')]);
    } finally {
      session.setApplying(false);
      setState('done');
    }
  };
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
          <ToneText
            tone="warning"
            bold
          >{`This ${plan.steps.some((x) => 'argv' in x && x.argv[0] !== 'true' && /restart|-HUP/.test(x.argv.join(' '))) ? 'restarts or reloads keepalived and ' : ''}loads firewall rules; a failed step rolls back the whole install. Type "apply" and Enter.`}</ToneText>
          <ToneText tone="muted" wrap="wrap">
            {plan.persistence.how}
          </ToneText>
          <TextField isFocused={active} onSubmit={(v) => (v.trim() === 'apply' ? void go() : setTypedWrong(true))} />
          {typedWrong ? <ToneText tone="error">not "apply": nothing installed</ToneText> : null}
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
