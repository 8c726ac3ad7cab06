// The Setup / Generate form's state: a reducer (pure) and the hook that drives it with the services.
// Phases: loading -> ask (one question per step) -> generating -> review -> output -> dir -> writing -> done.
// For a pair (setup with a peer), both halves are generated and reviewed: this node's files and the peer's.
// With --peer HOST, the peer's half is installed by the peer's own hagw-doctor (peer: connecting ->
// preview -> confirm -> applying -> done | failed); `installed` says what is installed where.
import { useEffect, useReducer, useRef } from 'react';
import type { FixPlan } from '../../types.js';
import { routesFromIpJson } from '../../generate/sanity.js';
import { useAppContext, useSession } from '../context.js';
import type { GeneratedFile, PeerInstaller } from '../services.js';
import { CONFIRM_SECONDS } from './use-fix.js';
import { activeQuestions, generateFlags, peerAnswers, type HostDefaults, type Question, type SetupAnswers } from '../logic/setup.js';

export type SetupPhase = 'loading' | 'ask' | 'generating' | 'review' | 'output' | 'dir' | 'writing' | 'done';

/** A generated file and which half of the pair it belongs to. */
export interface PairFile extends GeneratedFile {
  node: 'this' | 'peer';
}

/** Installing the peer's half through its own hagw-doctor, step by step. */
export type PeerInstallStep =
  | { step: 'connecting' }
  /** its own preview and plan fingerprint; confirming: the typed consent is asked; commitConfirmed:
   *  the peer rolls the change back by itself unless it is kept from here in time (on by default:
   *  the change is made over SSH) */
  | { step: 'preview'; text: string; plan: string; note?: string; confirming: boolean; commitConfirmed: boolean }
  | { step: 'applying'; plan: string }
  /** its own result lines (cleaned) and the outcome in one line */
  | { step: 'done'; ok: boolean; lines: string[]; message: string }
  /** nothing installed there: why, in one line */
  | { step: 'failed'; message: string };

/** The outcome of the last install of one half. */
export interface HalfInstalled {
  ok: boolean;
  message: string;
  /** installed commit-confirmed and not kept yet: it rolls back by itself at this time (ms since the epoch) */
  pendingUntil?: number;
  /** the keep (confirm) is on its way to the peer */
  keeping?: boolean;
  /** the last keep did not take: why, in one line (still pending) */
  keepProblem?: string;
}

/** HH:MM:SS of a time, on this node's clock. */
export const clock = (ms: number) => new Date(ms).toTimeString().slice(0, 8);

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
  /** the peer's half being installed on the peer (with --peer) */
  peer?: PeerInstallStep;
  /** what is installed where (this node through its change engine, the peer through its own doctor) */
  installed: { this?: HalfInstalled; peer?: HalfInstalled };
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
  | { type: 'install'; plan: FixPlan | undefined }
  | { type: 'peer'; step: PeerInstallStep | undefined }
  | { type: 'installed'; node: 'this' | 'peer'; outcome: HalfInstalled };

export const initialSetupState = (answers: Partial<SetupAnswers>): SetupState => ({
  phase: 'loading',
  answers,
  step: 0,
  files: [],
  fileIdx: 0,
  installed: {},
});

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
    case 'peer': {
      const next = { ...s };
      if (a.step) next.peer = a.step;
      else delete next.peer;
      return next;
    }
    case 'installed':
      return { ...s, installed: { ...s.installed, [a.node]: a.outcome } };
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
  /** with --peer: the peer's half through its own hagw-doctor (connect, its preview) */
  installPeer(): void;
  /** the operator typed the confirm word: install the plan previewed there */
  applyPeer(): void;
  /** keep the peer's change installed commit-confirmed (its own `hagw-doctor confirm`) */
  keepPeer(): void;
  /** Esc: stop (while connecting or at the preview) or leave the outcome; never while applying */
  closePeer(): void;
}

/** This node's flags and the peer's priority as reviewed: the member the peer renders is the one shown. */
export function peerInstallFlags(a: SetupAnswers): Record<string, string | boolean | undefined> {
  return { ...generateFlags(a), peerPriority: peerAnswers(a).priority };
}

export function useSetup(mode: 'setup' | 'generate'): SetupModel {
  const { session, services } = useAppContext();
  const { run } = useSession();
  const peerRef = useRef<PeerInstaller | undefined>(undefined);
  const peerApplying = useRef(false);
  /** the installer of a change the peer holds pending (commit-confirmed), until it is kept */
  const pendingRef = useRef<PeerInstaller | undefined>(undefined);
  // leaving the screen ends a session still open; never one applying (its answer is awaited). A
  // change still pending is not kept: the peer rolls it back by itself when its timer runs out
  useEffect(
    () => () => {
      if (!peerApplying.current) void peerRef.current?.close();
      void pendingRef.current?.close();
    },
    [],
  );
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

  const installPeer = () => {
    if (!services.installOnPeer || peerRef.current) return;
    const installer = services.installOnPeer(peerInstallFlags(state.answers as SetupAnswers));
    peerRef.current = installer;
    dispatch({ type: 'peer', step: { step: 'connecting' } });
    const current = () => peerRef.current === installer;
    const fail = (message: string) => {
      if (!current()) return;
      peerRef.current = undefined;
      void installer.close();
      dispatch({ type: 'peer', step: { step: 'failed', message } });
      dispatch({ type: 'installed', node: 'peer', outcome: { ok: false, message } });
    };
    void (async () => {
      try {
        const opened = await installer.open();
        if (!opened.ok) return fail(opened.message);
        if (!current()) return;
        const preview = await installer.preview();
        if (!preview.ok) return fail(preview.message);
        if (!current()) return;
        dispatch({
          type: 'peer',
          step: {
            step: 'preview',
            text: preview.text,
            plan: preview.plan,
            confirming: false,
            commitConfirmed: true,
            ...(opened.note ? { note: opened.note } : {}),
          },
        });
      } catch (err) {
        fail(`${installer.host}: ${(err as Error).message}; nothing installed there`);
      }
    })();
  };

  const applyPeer = () => {
    const installer = peerRef.current;
    const p = state.peer;
    if (!installer || p?.step !== 'preview') return;
    dispatch({ type: 'peer', step: { step: 'applying', plan: p.plan } });
    // quitting now waits for the peer's answer (its engine rolls back there by itself on a failure)
    session.beginApply(installer.host);
    peerApplying.current = true;
    void (async () => {
      let done: { ok: boolean; lines: string[]; message: string; pendingUntil?: number };
      try {
        const r = await installer.apply(p.plan, p.commitConfirmed ? { confirmTimeout: CONFIRM_SECONDS } : {});
        const { host } = installer;
        if (r.exitCode === 0 && r.pendingSeconds !== undefined) {
          // pending there: this installer stays to keep it (Enter, or the menu); nothing else keeps it
          // (an earlier install's, still pending, can no longer be kept from here: its session ends)
          if (pendingRef.current && pendingRef.current !== installer) void pendingRef.current.close();
          pendingRef.current = installer;
          const until = Date.now() + r.pendingSeconds * 1000;
          done = {
            ok: true,
            lines: r.lines,
            pendingUntil: until,
            message: `installed on ${host} by its own hagw-doctor, pending: it rolls back there by itself at ${clock(until)} unless you keep it (Enter)`,
          };
        } else
          done = r.lost
            ? {
                ok: false,
                lines: r.lines,
                message: r.lost,
              }
            : r.exitCode === 0
              ? {
                  ok: true,
                  lines: r.lines,
                  message: `installed on ${host} by its own hagw-doctor (its backup and re-check; undo there with \`hagw-doctor changes\`)`,
                }
              : {
                  ok: false,
                  lines: r.lines,
                  message: `${host}'s own hagw-doctor did not install its member (exit ${r.exitCode ?? '?'}): its result above says why`,
                };
      } catch (err) {
        done = { ok: false, lines: [], message: `${installer.host}: ${(err as Error).message}; check there with \`hagw-doctor changes\`` };
      } finally {
        peerApplying.current = false;
        session.endApply();
        peerRef.current = undefined;
        if (pendingRef.current !== installer) void installer.close();
      }
      dispatch({ type: 'peer', step: { step: 'done', ...done } });
      dispatch({
        type: 'installed',
        node: 'peer',
        outcome: { ok: done.ok, message: done.message, ...(done.pendingUntil !== undefined ? { pendingUntil: done.pendingUntil } : {}) },
      });
    })();
  };

  /** Keep the peer's pending change (its own `hagw-doctor confirm`), from its result or the menu. */
  const keepPeer = () => {
    const installer = pendingRef.current;
    const was = state.installed.peer;
    if (!installer || !was?.pendingUntil || was.keeping) return;
    const { keepProblem: _last, ...still } = was;
    dispatch({ type: 'installed', node: 'peer', outcome: { ...still, keeping: true } });
    void (async () => {
      let outcome: HalfInstalled;
      try {
        const r = await installer.confirm();
        outcome = r.ok
          ? { ok: true, message: `installed on ${installer.host} by its own hagw-doctor and kept (${r.message})` }
          : { ...still, keepProblem: r.message };
      } catch (err) {
        outcome = { ...still, keepProblem: `not kept: ${(err as Error).message}` };
      }
      if (outcome.pendingUntil === undefined) {
        pendingRef.current = undefined;
        void installer.close();
      }
      dispatch({ type: 'installed', node: 'peer', outcome });
    })();
  };

  const closePeer = () => {
    if (state.peer?.step === 'applying') return;
    const installer = peerRef.current;
    peerRef.current = undefined;
    void installer?.close();
    dispatch({ type: 'peer', step: undefined });
  };

  return { state, dispatch, questions, question, submit, typed, write, install, installPeer, applyPeer, keepPeer, closePeer };
}
