// The safe change engine: lock, back up, apply steps in order, roll back on the first failure,
// re-check, and (with a confirm timeout) leave a detached timer that rolls back unless confirmed.
// No UI here: progress goes out through onStep events (the CLI prints them, the wizard renders them).
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { PACKAGE_ROOT } from '../version.js';
import { embedded, ROLLBACK_TIMER_ARG } from '../embedded.js';
import type { FixPlan, FixStep } from '../types.js';
import {
  BackupFailed,
  restoreFile,
  restoreIptables,
  restoreNft,
  restoreRoutes,
  restoreSysctl,
  takeBackup,
  writeFileAtomic,
  type BackupIndex,
} from './backup.js';
import { runArgv, STEP_TIMEOUT_MS } from './exec.js';
import { acquireLock, LockHeld, waitForLock, type Lock } from './lock.js';
import { logChange } from './log.js';
import {
  changeDir,
  ensureDir,
  listChanges,
  MANIFEST_SCHEMA,
  newChangeId,
  readManifest,
  whoAmI,
  writeManifest,
  type ChangeManifest,
  type ChangeState,
  type RollbackRecord,
} from './manifest.js';
import { changePaths, pathsEnv, rooted, type ChangePaths } from './paths.js';
import { shellJoin } from './quote.js';

export type StepEvent =
  | { type: 'notice'; message: string }
  | { type: 'backup'; id: string; dir: string }
  | { type: 'timer-armed'; id: string; seconds: number; deadline: string; pid: number | undefined }
  | { type: 'step-start'; index: number; label: string }
  | { type: 'step-done'; index: number; label: string; status: 'done' | 'failed' | 'tolerated'; message?: string }
  | { type: 'recheck-start' }
  | { type: 'recheck-done'; remaining: string[] }
  | { type: 'rollback-start'; reason: RollbackRecord['reason'] }
  | { type: 'rollback-action'; message: string; ok: boolean }
  | { type: 'rollback-done'; ok: boolean };

export interface ApplyOptions {
  /** codes of the findings this change fixes (recorded in the manifest) */
  findings: string[];
  /** collects and analyses afresh; success when none of plan.verifies is reported */
  recheck?: () => Promise<{ codes: string[] }>;
  /** seconds: leave the change pending and roll it back unless confirmed in time */
  confirmTimeout?: number;
  onStep?: (event: StepEvent) => void;
  paths?: ChangePaths;
  stepTimeoutMs?: number;
  /** trap SIGINT/SIGTERM/SIGHUP during apply (finish the step, then roll back); default true */
  trapSignals?: boolean;
}

export type ApplyOutcome = 'applied' | 'pending' | 'refused' | 'failed' | 'not-cleared';

export interface ApplyResult {
  /** null when refused before anything was written */
  id: string | null;
  outcome: ApplyOutcome;
  /** the contract's status: 0 applied and cleared, 2 applied but still reported (rolled back), 3 refused/failed */
  exitCode: 0 | 2 | 3;
  state?: ChangeState;
  /** what happened, in words, one line per fact */
  message: string;
  failedStep?: number;
  remaining?: string[];
  rollback?: RollbackRecord;
}

export class PlanInvalid extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanInvalid';
  }
}

export function stepLabel(step: FixStep): string {
  if ('argv' in step) return shellJoin(step.argv);
  if ('write' in step) return `write ${step.write.path} (${Buffer.byteLength(step.write.content)} bytes, mode ${(step.write.mode ?? 0o644).toString(8).padStart(4, '0')})`;
  return `remove ${step.remove.path}`;
}

export function validatePlan(plan: FixPlan): void {
  if (!plan.steps.length) throw new PlanInvalid('the plan has no steps');
  plan.steps.forEach((s, i) => {
    if ('argv' in s) {
      if (!Array.isArray(s.argv) || !s.argv.length || s.argv.some((a) => typeof a !== 'string')) throw new PlanInvalid(`step ${i + 1}: argv must be a non-empty array of strings`);
      for (const u of s.undo ?? []) if (!u.length) throw new PlanInvalid(`step ${i + 1}: an empty undo argv`);
    } else if ('write' in s) {
      if (!path.isAbsolute(s.write.path)) throw new PlanInvalid(`step ${i + 1}: ${s.write.path} is not an absolute path`);
    } else if ('remove' in s) {
      if (!path.isAbsolute(s.remove.path)) throw new PlanInvalid(`step ${i + 1}: ${s.remove.path} is not an absolute path`);
    } else {
      throw new PlanInvalid(`step ${i + 1}: neither argv, write nor remove`);
    }
  });
  // a step without its own undo is undone from the backup, so the backup must cover it
  const t = plan.touches;
  const argvWithoutUndo = plan.steps.some((s) => 'argv' in s && !s.undo && !s.optional);
  if (argvWithoutUndo && !(t.iptables?.length || t.nft || t.sysctl?.length || t.files?.length || t.routes)) {
    throw new PlanInvalid('a step has no undo and the plan touches nothing that could be restored from a backup');
  }
}

function trap(enabled: boolean): { caught: () => string | null; release: () => void } {
  let caught: string | null = null;
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handler = (sig: NodeJS.Signals) => {
    caught ??= sig;
  };
  if (enabled) for (const s of sigs) process.on(s, handler);
  return {
    caught: () => caught,
    release: () => {
      if (enabled) for (const s of sigs) process.off(s, handler);
    },
  };
}

async function hostName(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/hostname', 'utf8')).trim();
  } catch {
    return os.hostname();
  }
}

async function netnsId(): Promise<string> {
  try {
    return (await import('node:fs/promises')).readlink('/proc/self/ns/net');
  } catch {
    return 'unknown';
  }
}

async function runStep(step: FixStep, paths: ChangePaths, backup: BackupIndex, timeoutMs: number): Promise<{ ok: boolean; exitCode?: number | null; message?: string; createdDirs?: string[] }> {
  if ('argv' in step) {
    const r = await runArgv(step.argv, { timeoutMs });
    return { ok: r.ok, exitCode: r.exitCode, ...(r.ok ? {} : { message: r.reason ?? 'failed' }) };
  }
  try {
    if ('write' in step) {
      const before = backup.files.find((f) => f.path === step.write.path);
      const mode = step.write.mode ?? before?.mode ?? 0o644;
      const createdDirs = await writeFileAtomic(rooted(paths, step.write.path), step.write.content, mode);
      return { ok: true, createdDirs };
    }
    await rm(rooted(paths, step.remove.path), { force: true });
    return { ok: true };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

/** Undoes what a change's steps did, in reverse: each step's own undo argv, file steps from the
 *  backup, and for a step with no undo (or whose undo failed) everything the plan touches from the backup. */
async function rollbackSteps(m: ChangeManifest, dir: string, paths: ChangePaths, reason: RollbackRecord['reason'], emit: (e: StepEvent) => void): Promise<RollbackRecord> {
  const actions: string[] = [];
  let ok = true;
  let restoreAll = false;
  const note = (message: string, good: boolean) => {
    actions.push(good ? message : `FAILED: ${message}`);
    if (!good) ok = false;
    emit({ type: 'rollback-action', message, ok: good });
  };
  emit({ type: 'rollback-start', reason });
  for (let i = m.plan.steps.length - 1; i >= 0; i--) {
    const step = m.plan.steps[i]!;
    const rec = m.steps[i]!;
    // 'running': the doctor died during this step, so it may or may not have taken effect
    const mayHaveRun = rec.status === 'done' || rec.status === 'failed' || rec.status === 'running';
    if (!mayHaveRun) continue;
    if ('argv' in step) {
      if (step.undo && rec.status === 'done') {
        let undone = true;
        for (const u of step.undo) {
          const r = await runArgv(u);
          if (!r.ok) undone = false;
          note(`step ${i + 1}: ran ${shellJoin(u)}${r.ok ? '' : ` (${r.reason})`}`, r.ok);
        }
        rec.status = undone ? 'undone' : 'undo-failed';
        if (!undone) restoreAll = true;
      } else if (rec.status === 'failed' && step.undo) {
        // a failed iptables/sysctl command changes nothing; its undo could delete someone else's identical rule
        rec.message = `${rec.message ?? 'failed'}; not undone (it failed)`;
      } else {
        restoreAll = true;
        rec.status = 'restored';
      }
      continue;
    }
    const file = 'write' in step ? step.write.path : step.remove.path;
    const saved = m.backup.files.find((f) => f.path === file);
    try {
      note(`step ${i + 1}: ${await restoreFile(dir, paths, saved!)}`, true);
      for (const d of [...(rec.createdDirs ?? [])].reverse()) await rmdir(d).catch(() => undefined);
      rec.status = 'restored';
    } catch (err) {
      note(`step ${i + 1}: restore ${file}: ${(err as Error).message}`, false);
      rec.status = 'undo-failed';
    }
  }
  if (restoreAll) {
    const b = m.backup;
    const stepFiles = new Set(m.plan.steps.flatMap((s) => ('write' in s ? [s.write.path] : 'remove' in s ? [s.remove.path] : [])));
    const tasks: Array<() => Promise<string | string[]>> = [
      ...b.iptables.map((e) => () => restoreIptables(dir, e)),
      ...(b.nft ? [() => restoreNft(dir, b.nft!)] : []),
      ...b.sysctl.map((e) => () => restoreSysctl(e)),
      ...b.files.filter((f) => !stepFiles.has(f.path)).map((f) => () => restoreFile(dir, paths, f)),
      ...(b.routes ? [() => restoreRoutes(dir, b.routes!)] : []),
    ];
    for (const t of tasks) {
      try {
        const r = await t();
        for (const line of Array.isArray(r) ? r : [r]) note(line, true);
      } catch (err) {
        note((err as Error).message, false);
      }
    }
  }
  if (m.plan.touches.conntrack) actions.push('conntrack entries that were deleted cannot be restored (the kernel re-creates them from traffic)');
  emit({ type: 'rollback-done', ok });
  return { at: new Date().toISOString(), reason, ok, actions };
}

/** The built timer script (also when running from sources in tests, or from the bundle). */
export function rollbackTimerScript(): string {
  return path.join(PACKAGE_ROOT, 'dist', 'src', 'change', 'rollback-timer.js');
}

async function armTimer(id: string, seconds: number, paths: ChangePaths): Promise<number | undefined> {
  // the single executable is its own timer (it has no script file); an npm install runs the script
  const args = embedded() ? [ROLLBACK_TIMER_ARG, id, String(seconds)] : [rollbackTimerScript(), id, String(seconds)];
  if (!embedded() && !existsSync(args[0]!)) throw new Error(`the rollback timer ${args[0]} is missing (run npm run build)`);
  // detached: its own session (setsid), so it outlives the SSH session and the doctor; same netns as us
  const child = execa(process.execPath, args, {
    detached: true,
    cleanup: false,
    stdio: 'ignore',
    reject: false,
    env: pathsEnv(paths),
    extendEnv: true,
  });
  child.catch(() => undefined);
  child.unref();
  if (!child.pid) throw new Error('could not start the rollback timer');
  return child.pid;
}

function refused(message: string): ApplyResult {
  return { id: null, outcome: 'refused', exitCode: 3, message };
}

export async function applyPlan(plan: FixPlan, opts: ApplyOptions): Promise<ApplyResult> {
  const paths = opts.paths ?? changePaths();
  const emit = (e: StepEvent) => {
    try {
      opts.onStep?.(e);
    } catch {
      /* a broken view must not break a change half-way */
    }
  };
  try {
    validatePlan(plan);
  } catch (err) {
    return refused(`the plan is not valid: ${(err as Error).message}; nothing changed`);
  }
  if (opts.confirmTimeout !== undefined && !(Number.isInteger(opts.confirmTimeout) && opts.confirmTimeout > 0)) {
    return refused(`--confirm-timeout must be a whole number of seconds above 0; nothing changed`);
  }
  let lock: Lock;
  try {
    lock = await acquireLock(paths.lock);
  } catch (err) {
    if (err instanceof LockHeld) return refused(`${err.message}; nothing changed`);
    return refused(`cannot take the lock ${paths.lock}: ${(err as Error).message}; nothing changed`);
  }
  if (lock.tookOverFrom !== undefined) emit({ type: 'notice', message: `took over a stale lock ${paths.lock} left by pid ${lock.tookOverFrom}, which is no longer running` });
  const signals = trap(opts.trapSignals ?? true);
  let m: ChangeManifest | undefined;
  let dir = '';
  try {
    const unsettled = (await listChanges(paths.changesDir)).filter((c) => c.state === 'pending' || c.state === 'applying');
    if (unsettled.length) {
      const c = unsettled[unsettled.length - 1]!;
      return refused(
        c.state === 'pending'
          ? `change ${c.id} is awaiting confirmation; run hagw-doctor confirm or hagw-doctor undo ${c.id} first; nothing changed`
          : `change ${c.id} was interrupted while applying; run hagw-doctor undo ${c.id} first; nothing changed`,
      );
    }
    const id = newChangeId();
    dir = changeDir(paths.changesDir, id);
    await ensureDir(paths.changesDir);
    await mkdir(dir, { mode: 0o700 });
    let backup: BackupIndex;
    try {
      backup = await takeBackup(plan, dir, paths);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      return refused(`${err instanceof BackupFailed ? err.message : `backup failed: ${(err as Error).message}`}; nothing changed`);
    }
    m = {
      schema: MANIFEST_SCHEMA,
      id,
      who: whoAmI(),
      when: new Date().toISOString(),
      host: await hostName(),
      netns: await netnsId(),
      findings: opts.findings,
      plan,
      state: 'applying',
      updatedAt: '',
      steps: plan.steps.map((_, index) => ({ index, status: 'not-run' })),
      backup,
      rollbacks: [],
    };
    await writeManifest(dir, m);
    await logChange(paths.log, 'plan', { id, who: m.who, host: m.host, findings: m.findings, plan });
    emit({ type: 'backup', id, dir });

    if (opts.confirmTimeout) {
      // armed before the first step: a step that cuts the session must still be rolled back
      const deadline = new Date(Date.now() + opts.confirmTimeout * 1000).toISOString();
      m.confirm = { seconds: opts.confirmTimeout, deadline };
      await writeManifest(dir, m);
      try {
        const pid = await armTimer(id, opts.confirmTimeout, paths);
        m.confirm.timerPid = pid;
        await writeManifest(dir, m);
        emit({ type: 'timer-armed', id, seconds: opts.confirmTimeout, deadline, pid });
      } catch (err) {
        m.state = 'failed';
        m.result = `could not arm the rollback timer: ${(err as Error).message}; no step ran`;
        await writeManifest(dir, m);
        await logChange(paths.log, 'result', { id, state: m.state, result: m.result });
        return { id, outcome: 'refused', exitCode: 3, state: m.state, message: `${m.result}; nothing changed` };
      }
    }

    let failedStep: number | undefined;
    let failure = '';
    for (let i = 0; i < plan.steps.length; i++) {
      if (signals.caught()) break;
      const step = plan.steps[i]!;
      const rec = m.steps[i]!;
      const label = stepLabel(step);
      rec.status = 'running';
      await writeManifest(dir, m);
      emit({ type: 'step-start', index: i, label });
      const r = await runStep(step, paths, backup, opts.stepTimeoutMs ?? STEP_TIMEOUT_MS);
      const optional = 'argv' in step && step.optional === true;
      rec.status = r.ok ? 'done' : optional ? 'tolerated' : 'failed';
      if (r.exitCode !== undefined) rec.exitCode = r.exitCode;
      if (r.message) rec.message = r.message;
      if (r.createdDirs?.length) rec.createdDirs = r.createdDirs;
      await writeManifest(dir, m);
      emit({ type: 'step-done', index: i, label, status: rec.status, ...(r.message ? { message: r.message } : {}) });
      await logChange(paths.log, 'step', { id, index: i, label, status: rec.status, ...(r.message ? { message: r.message } : {}) });
      if (rec.status === 'failed') {
        failedStep = i;
        failure = `step ${i + 1} failed: ${label}: ${r.message ?? 'failed'}`;
        break;
      }
    }
    const sig = signals.caught();
    if (failedStep !== undefined || sig) {
      const why = failedStep !== undefined ? failure : `interrupted by ${sig} after step ${m.steps.filter((s) => s.status !== 'not-run').length}`;
      return await finishRollback(m, dir, paths, failedStep !== undefined ? 'step-failed' : 'signal', why, 'failed', emit, failedStep);
    }

    if (opts.recheck) {
      emit({ type: 'recheck-start' });
      let remaining: string[];
      let recheckError = '';
      try {
        const r = await opts.recheck();
        remaining = plan.verifies.filter((c) => r.codes.includes(c));
      } catch (err) {
        recheckError = (err as Error).message;
        remaining = [...plan.verifies];
      }
      emit({ type: 'recheck-done', remaining });
      const sig2 = signals.caught();
      if (sig2) return await finishRollback(m, dir, paths, 'signal', `interrupted by ${sig2} during the re-check`, 'rolled-back', emit);
      if (remaining.length) {
        const why = recheckError ? `the re-check failed (${recheckError}), so the fix cannot be verified` : `applied, but the re-check still reports ${remaining.join(', ')}`;
        const res = await finishRollback(m, dir, paths, 'recheck', why, 'rolled-back', emit);
        return { ...res, outcome: 'not-cleared', exitCode: 2, remaining };
      }
    }

    const cleared = opts.recheck ? `the re-check no longer reports ${plan.verifies.join(', ') || 'it'}` : 'not re-checked';
    if (opts.confirmTimeout && m.confirm) {
      // the confirm window starts now that the change is in place
      m.confirm.deadline = new Date(Date.now() + opts.confirmTimeout * 1000).toISOString();
      m.state = 'pending';
      m.result = `applied; ${cleared}; rolls back by itself at ${m.confirm.deadline} unless confirmed`;
    } else {
      m.state = 'confirmed';
      m.result = `applied; ${cleared}`;
    }
    await writeManifest(dir, m);
    await logChange(paths.log, 'result', { id, state: m.state, result: m.result });
    const message = [
      `change ${id}: ${m.result}`,
      ...(m.state === 'pending' ? [`run \`hagw-doctor confirm\` within ${opts.confirmTimeout} s to keep it`] : []),
      ...(plan.touches.conntrack ? ['deleted conntrack entries cannot be restored by an undo'] : []),
    ].join('\n');
    return { id, outcome: m.state === 'pending' ? 'pending' : 'applied', exitCode: 0, state: m.state, message };
  } catch (err) {
    const msg = (err as Error).message;
    if (m && m.state === 'applying') {
      return await finishRollback(m, dir, paths, 'error', `unexpected error: ${msg}`, 'failed', emit).catch((e2: Error) => ({
        id: m!.id,
        outcome: 'failed' as const,
        exitCode: 3 as const,
        message: `unexpected error: ${msg}; the rollback failed too: ${e2.message}; run hagw-doctor undo ${m!.id}`,
      }));
    }
    return { id: m?.id ?? null, outcome: 'failed', exitCode: 3, message: `failed: ${msg}` };
  } finally {
    signals.release();
    await lock.release();
  }
}

async function finishRollback(
  m: ChangeManifest,
  dir: string,
  paths: ChangePaths,
  reason: RollbackRecord['reason'],
  why: string,
  state: ChangeState,
  emit: (e: StepEvent) => void,
  failedStep?: number,
): Promise<ApplyResult> {
  const rb = await rollbackSteps(m, dir, paths, reason, emit);
  m.rollbacks.push(rb);
  m.state = rb.ok ? state : 'failed';
  m.result = `${why}; ${rb.ok ? 'rolled back' : 'ROLLBACK INCOMPLETE'}`;
  await writeManifest(dir, m);
  await logChange(paths.log, 'rollback', { id: m.id, reason, why, ok: rb.ok, actions: rb.actions });
  await logChange(paths.log, 'result', { id: m.id, state: m.state, result: m.result });
  const message = [
    `change ${m.id}: ${why}`,
    ...m.steps.map((s, i) => `  step ${i + 1} ${s.status}${s.message ? `: ${s.message}` : ''}: ${stepLabel(m.plan.steps[i]!)}`),
    rb.ok ? 'rolled back:' : `ROLLBACK INCOMPLETE; the backup is in ${dir}:`,
    ...rb.actions.map((a) => `  ${a}`),
  ].join('\n');
  return { id: m.id, outcome: 'failed', exitCode: 3, state: m.state, message, rollback: rb, ...(failedStep !== undefined ? { failedStep } : {}) };
}

// ------------------------------------------------------------------ undo, confirm, timer

export interface CommandOutcome {
  exitCode: 0 | 3;
  message: string;
  id?: string;
}

/** Rolls a change back from its manifest and backup. Default: the latest applied change. */
export async function undoChange(id: string | undefined, opts: { paths?: ChangePaths; reason?: RollbackRecord['reason']; waitForLockMs?: number; onStep?: (e: StepEvent) => void; onlyIfPending?: boolean } = {}): Promise<CommandOutcome> {
  const paths = opts.paths ?? changePaths();
  const reason = opts.reason ?? 'undo';
  let lock: Lock;
  try {
    lock = opts.waitForLockMs ? await waitForLock(paths.lock, Date.now() + opts.waitForLockMs) : await acquireLock(paths.lock);
  } catch (err) {
    return { exitCode: 3, message: `${(err as Error).message}; nothing changed` };
  }
  try {
    let m: ChangeManifest | undefined;
    if (id) {
      try {
        m = await readManifest(changeDir(paths.changesDir, id));
      } catch {
        return { exitCode: 3, message: `no change ${id} in ${paths.changesDir}` };
      }
    } else {
      m = (await listChanges(paths.changesDir)).filter((c) => c.state === 'confirmed' || c.state === 'pending' || c.state === 'applying').pop();
      if (!m) return { exitCode: 3, message: `no applied change to undo in ${paths.changesDir}` };
    }
    if (opts.onlyIfPending && m.state !== 'pending' && m.state !== 'applying') return { exitCode: 0, id: m.id, message: `change ${m.id} is ${m.state}; nothing to do` };
    if (m.state === 'rolled-back' || m.state === 'failed') return { exitCode: 3, id: m.id, message: `change ${m.id} is already ${m.state === 'failed' ? 'failed and rolled back' : 'rolled back'}; nothing changed` };
    const dir = changeDir(paths.changesDir, m.id);
    if (reason !== 'timer') await killTimer(m.confirm?.timerPid, m.id);
    const res = await finishRollback(m, dir, paths, reason, reason === 'timer' ? `not confirmed by ${m.confirm?.deadline ?? 'the deadline'}` : `undo requested by ${whoAmI().user}`, 'rolled-back', opts.onStep ?? (() => undefined));
    return { exitCode: res.rollback?.ok ? 0 : 3, id: m.id, message: res.message };
  } finally {
    await lock.release();
  }
}

async function killTimer(pid: number | undefined, id: string): Promise<void> {
  if (!pid) return;
  try {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    // only our own timer for this change, never a pid reused by something else
    if (cmd.includes('rollback-timer') && cmd.includes(id)) process.kill(pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
}

export async function confirmPending(opts: { paths?: ChangePaths } = {}): Promise<CommandOutcome> {
  const paths = opts.paths ?? changePaths();
  let lock: Lock;
  try {
    lock = await waitForLock(paths.lock, Date.now() + 10_000);
  } catch (err) {
    return { exitCode: 3, message: `${(err as Error).message}; not confirmed` };
  }
  try {
    const all = await listChanges(paths.changesDir);
    const pending = all.filter((c) => c.state === 'pending');
    if (!pending.length) {
      const last = all.filter((c) => c.confirm).pop();
      const late = last && last.state === 'rolled-back' && last.rollbacks.some((r) => r.reason === 'timer');
      return { exitCode: 3, message: late ? `too late: change ${last.id} was rolled back by its timer at ${last.rollbacks.at(-1)!.at}` : 'no change is awaiting confirmation' };
    }
    const lines: string[] = [];
    for (const m of pending) {
      m.state = 'confirmed';
      m.confirm = { ...m.confirm!, confirmedAt: new Date().toISOString() };
      m.result = `${m.result ?? 'applied'}; confirmed by ${whoAmI().user}`;
      await writeManifest(changeDir(paths.changesDir, m.id), m);
      await logChange(paths.log, 'confirm', { id: m.id, who: whoAmI() });
      await killTimer(m.confirm.timerPid, m.id);
      lines.push(`change ${m.id} confirmed: ${m.plan.summary}`);
    }
    return { exitCode: 0, message: lines.join('\n') };
  } finally {
    await lock.release();
  }
}

/** The detached timer's body: waits for the change's deadline (which apply may move later), then
 *  rolls it back unless it was confirmed meanwhile. */
export async function runRollbackTimer(id: string, paths: ChangePaths = changePaths()): Promise<CommandOutcome> {
  const dir = changeDir(paths.changesDir, id);
  for (;;) {
    const m = await readManifest(dir);
    if (m.state !== 'pending' && m.state !== 'applying') return { exitCode: 0, id, message: `change ${id} is ${m.state}` };
    const wait = Date.parse(m.confirm?.deadline ?? '') - Date.now();
    if (!(wait > 0)) break;
    await new Promise((r) => setTimeout(r, Math.min(wait + 50, 30_000)));
  }
  await logChange(paths.log, 'timer', { id, message: 'confirm deadline passed; rolling back' });
  return undoChange(id, { paths, reason: 'timer', waitForLockMs: 10 * 60_000, onlyIfPending: true });
}
