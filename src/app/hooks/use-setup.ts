// The Setup / Generate form's state: a reducer (pure) and the hook that drives it with the services.
// Phases: loading -> ask (one question per step) -> generating -> review -> output -> dir -> writing -> done.
// For a pair (setup with a peer), both halves are generated and reviewed: this node's files and the peer's.
import { useEffect, useReducer } from 'react';
import type { FixPlan } from '../../types.js';
import { routesFromIpJson } from '../../generate/sanity.js';
import { useAppContext, useSession } from '../context.js';
import type { GeneratedFile } from '../services.js';
import { activeQuestions, generateFlags, peerAnswers, type HostDefaults, type Question, type SetupAnswers } from '../logic/setup.js';

export type SetupPhase = 'loading' | 'ask' | 'generating' | 'review' | 'output' | 'dir' | 'writing' | 'done';

/** A generated file and which half of the pair it belongs to. */
export interface PairFile extends GeneratedFile {
  node: 'this' | 'peer';
}

export interface SetupState {
  phase: SetupPhase;
  host?: HostDefaults;
  answers: Partial<SetupAnswers>;
  step: number;
  /** the problem with the last value submitted */
  error?: string;
  /** the problem with the value as it is being typed (shown live; Enter turns it into the error) */
  live?: string;
  files: PairFile[];
  fileIdx: number;
  result?: { ok: boolean; message: string; dir?: string };
  installing?: FixPlan;
}

export type SetupAction =
  | { type: 'host'; host: HostDefaults }
  | { type: 'typed'; problem: string | undefined }
  | { type: 'invalid'; error: string }
  | { type: 'answered'; answers: Partial<SetupAnswers>; next: number | 'generate' }
  | { type: 'back' }
  | { type: 'generated'; files: PairFile[] }
  | { type: 'generate-failed'; errors: string[] }
  | { type: 'file'; delta: 1 | -1 }
  | { type: 'phase'; phase: SetupPhase }
  | { type: 'written'; result: { ok: boolean; message: string; dir?: string } }
  | { type: 'install'; plan: FixPlan | undefined };

export const initialSetupState = (answers: Partial<SetupAnswers>): SetupState => ({ phase: 'loading', answers, step: 0, files: [], fileIdx: 0 });

/** Changing step or phase drops the live and submitted problems of the one left. */
const moved = (s: SetupState, patch: Partial<SetupState>): SetupState => {
  const next: SetupState = { ...s, ...patch };
  delete next.live;
  if (!('error' in patch)) delete next.error;
  return next;
};

export function setupReducer(s: SetupState, a: SetupAction): SetupState {
  switch (a.type) {
    case 'host':
      return s.phase === 'loading' ? moved(s, { host: a.host, phase: 'ask' }) : s;
    case 'typed': {
      const next: SetupState = { ...s };
      delete next.error;
      if (a.problem) next.live = a.problem;
      else delete next.live;
      return next;
    }
    case 'invalid':
      return { ...s, error: a.error };
    case 'answered':
      return a.next === 'generate' ? moved(s, { answers: a.answers, phase: 'generating' }) : moved(s, { answers: a.answers, step: a.next });
    case 'back':
      return moved(s, { step: Math.max(0, s.step - 1) });
    case 'generated':
      return moved(s, { files: a.files, fileIdx: 0, phase: 'review' });
    case 'generate-failed':
      return moved(s, { phase: 'ask', error: a.errors.join('; ') });
    case 'file':
      return s.files.length ? { ...s, fileIdx: (s.fileIdx + a.delta + s.files.length) % s.files.length } : s;
    case 'phase':
      return moved(s, { phase: a.phase });
    case 'written':
      return moved(s, { result: a.result, phase: 'done' });
    case 'install': {
      const next = { ...s };
      if (a.plan) next.installing = a.plan;
      else delete next.installing;
      return next;
    }
  }
}

export interface SetupModel {
  state: SetupState;
  dispatch: React.Dispatch<SetupAction>;
  questions: Question[];
  question: Question | undefined;
  submit(value: string): void;
  typed(value: string): void;
  write(dir: string): void;
  install(): void;
}

export function useSetup(mode: 'setup' | 'generate'): SetupModel {
  const { session, services } = useAppContext();
  const { run } = useSession();
  // kept in the session: Setup and Generate share them, and leaving does not lose them
  const [state, dispatch] = useReducer(setupReducer, session.setupAnswers as Partial<SetupAnswers>, initialSetupState);
  const snapshot = run?.snapshot;
  const loading = state.phase === 'loading';

  useEffect(() => {
    if (!loading) return;
    let alive = true;
    Promise.all([services.hostInterfaces(), import('../logic/host-facts.js').then((m) => m.vridsInUse(snapshot))]).then(
      ([interfaces, vrids]) => {
        const routes = snapshot?.probes['ip-route'];
        if (alive)
          dispatch({ type: 'host', host: { interfaces, vridsInUse: vrids, ...(routes?.status === 'ok' ? { routes: routesFromIpJson(routes.stdout) } : {}) } });
      },
      () => alive && dispatch({ type: 'host', host: { interfaces: [], vridsInUse: [] } }),
    );
    return () => {
      alive = false;
    };
  }, [loading, services, snapshot]);

  const questions = activeQuestions(state.answers);
  const question = questions[state.step];

  const generate = async (a: SetupAnswers) => {
    const out = await services.generate(generateFlags(a));
    if (!out.ok) return dispatch({ type: 'generate-failed', errors: out.errors });
    const files: PairFile[] = out.files.map((f) => ({ ...f, node: 'this' }));
    // a new pair: the other half too, so both are reviewed before anything is written
    if (mode === 'setup' && a.peer) {
      const peer = await services.generate(generateFlags(peerAnswers(a)));
      if (!peer.ok) return dispatch({ type: 'generate-failed', errors: peer.errors.map((e) => `the peer's half: ${e}`) });
      files.push(...peer.files.map((f) => ({ ...f, node: 'peer' as const })));
    }
    dispatch({ type: 'generated', files });
  };

  const submit = (value: string) => {
    const { host } = state;
    if (!question || !host) return;
    const v = value.trim();
    const err = question.validate(v, state.answers, host);
    if (err) return dispatch({ type: 'invalid', error: err });
    const next = { ...state.answers, [question.id]: v } as Partial<SetupAnswers>;
    session.saveSetupAnswers(next as Record<string, string>);
    const nextQuestions = activeQuestions(next);
    const idx = nextQuestions.findIndex((x) => x.id === question.id) + 1;
    if (idx < nextQuestions.length) dispatch({ type: 'answered', answers: next, next: idx });
    else {
      dispatch({ type: 'answered', answers: next, next: 'generate' });
      void generate(next as SetupAnswers);
    }
  };

  const typed = (value: string) => {
    const v = value.trim();
    dispatch({ type: 'typed', problem: v && question && state.host ? question.validate(v, state.answers, state.host) : undefined });
  };

  const write = (dir: string) => {
    dispatch({ type: 'phase', phase: 'writing' });
    void services.writeFiles(dir, generateFlags(state.answers as SetupAnswers)).then((r) => dispatch({ type: 'written', result: { ...r, dir } }));
  };

  const install = () => {
    const mine = state.files.filter((f) => f.node === 'this');
    void (async () => {
      const plan = services.installPlan
        ? await services.installPlan(generateFlags(state.answers as SetupAnswers))
        : (await import('../logic/install.js')).installPlanFor(mine);
      dispatch({ type: 'install', plan });
    })();
  };

  return { state, dispatch, questions, question, submit, typed, write, install };
}
