// The safe change engine: lock, back up, apply steps in order, roll back on the first failure,
// re-check, and (with a confirm timeout) leave a detached timer that rolls back unless confirmed.
// No UI here: progress goes out through onStep events (the CLI prints them, the wizard renders them).
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { PACKAGE_ROOT } from '../version.js';
import { embedded, ROLLBACK_TIMER_ARG } from '../embedded.js';
import type { FixPlan, FixStep } from '../types.js';
import { BackupFailed, takeBackup, type BackupIndex } from './backup.js';
import { processStart, STEP_TIMEOUT_MS } from './exec.js';
import { acquireLock, LockHeld, pidAlive, waitForLock, type Lock } from './lock.js';
import { currentNode, describeNode, sameNode, uptimeMs, bootId, type NodeId } from './node.js';
import { describeStep, execStep, hasOwnUndo, undoStep, type StepContext } from './steps.js';
import { logChange } from './log.js';
import {
  changeDir,
  ensureDir,
  listChanges,
  ManifestInvalid,
  MANIFEST_SCHEMA,
  newChangeId,
  readManifest,
  whoAmI,
  writeManifest,
  type ChangeManifest,
  type ChangeState,
  type RollbackRecord,
} from './manifest.js';
import { changePaths, pathsEnv, type ChangePaths } from './paths.js';
import { shellJoin } from './quote.js';

export type StepEvent =
  | { type: 'notice'; message: string }
  | { type: 'backup'; id: string; dir: string }
  | { type: 'timer-armed'; id: string; seconds: number; confirmDeadline: Date; pid: number | undefined }
  | { type: 'step-start'; index: number; label: string }
  | { type: 'step-done'; index: number; label: string; status: 'done' | 'failed' | 'tolerated' | 'already' | 'moved'; message?: string }
  | { type: 'recheck-start' }
  | { type: 'recheck-done'; remaining: string[] }
  | { type: 'rollback-start'; reason: RollbackRecord['reason'] }
  | { type: 'rollback-action'; message: string; ok: boolean }
  | { type: 'rollback-done'; ok: boolean };

/** A finding a change must clear: its code and, when it has one, its subject (instance, interface, rule). */
export interface FindingTarget {
  code: string;
  subject?: string;
}

export const targetLabel = (t: FindingTarget) => (t.subject ? `${t.code} [${t.subject}]` : t.code);

export interface ApplyOptions {
  /** codes of the findings this change fixes (recorded in the manifest) */
  findings: string[];
  /** the exact findings (code + subject) that must be gone after the change; default: plan.verifies by code */
  targets?: FindingTarget[];
  /** collects and analyses afresh; success when none of the targets (or plan.verifies) is reported */
  recheck?: () => Promise<{ codes: string[]; findings?: FindingTarget[] }>;
  /** sha256 of each file's content when the plan was shown (null: absent): a file that changed since is not written */
  expectedFiles?: Record<string, string | null>;
  /** seconds: leave the change pending and roll it back unless confirmed in time */
  confirmTimeout?: number;
  onStep?: (event: StepEvent) => void;
  paths?: ChangePaths;
  stepTimeoutMs?: number;
  /** trap SIGINT/SIGTERM/SIGHUP during apply (finish the step, then roll back); default true */
  trapSignals?: boolean;
  /** cancel: like a trapped signal, the step in flight finishes, then everything done is rolled back */
  signal?: AbortSignal;
}

/** What became of an applied plan (ApplyResult.outcome). */
export type ChangeOutcome = 'applied' | 'pending' | 'refused' | 'failed' | 'not-cleared' | 'nothing-to-do';

export interface ApplyResult {
  /** null when refused before anything was written, or when there was nothing to do */
  id: string | null;
  outcome: ChangeOutcome;
  /** the contract's status: 0 applied and cleared (or nothing to do), 2 applied but still reported (rolled back), 3 refused/failed */
  exitCode: 0 | 2 | 3;
  state?: ChangeState;
  /** what happened, in words, one line per fact */
  message: string;
  failedStep?: number;
  remaining?: string[];
  rollback?: RollbackRecord;
  /** outcome 'pending': when the change rolls back by itself unless confirmed */
  confirmDeadline?: Date;
}

export class PlanInvalid extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanInvalid';
  }
}

export function stepLabel(step: FixStep): string {
  if ('write' in step)
    return `write ${step.write.path} (${Buffer.byteLength(step.write.content)} bytes, mode ${(step.write.mode ?? 0o644).toString(8).padStart(4, '0')})`;
  return describeStep(step).label;
}

const RULE_BINS = /^(ip6?tables(-legacy|-nft)?)$/;

export function validatePlan(plan: FixPlan): void {
  if (!plan.steps.length) throw new PlanInvalid('the plan has no steps');
  plan.steps.forEach((s, i) => {
    if ('argv' in s) {
      if (!Array.isArray(s.argv) || !s.argv.length || s.argv.some((a) => typeof a !== 'string'))
        throw new PlanInvalid(`step ${i + 1}: argv must be a non-empty array of strings`);
      for (const u of s.undo ?? []) if (!u.length) throw new PlanInvalid(`step ${i + 1}: an empty undo argv`);
      if (s.rule) {
        const r = s.rule;
        if (!RULE_BINS.test(r.bin)) throw new PlanInvalid(`step ${i + 1}: ${r.bin} is not an iptables binary`);
        if (!/^[a-z]+$/.test(r.table) || !/^[\w.-]+$/.test(r.chain)) throw new PlanInvalid(`step ${i + 1}: bad table or chain`);
        if (!r.spec.length || (r.op === 'replace' && !r.with?.length))
          throw new PlanInvalid(`step ${i + 1}: a rule edit needs its rule${r.op === 'replace' ? ' and its replacement' : ''}`);
      }
      // undo is per step: a command that cannot say how it is undone has no place in a plan
      if (!hasOwnUndo(s) && !s.optional) throw new PlanInvalid(`step ${i + 1} (${shellJoin(s.argv)}) has no undo`);
    } else if ('write' in s) {
      if (!path.isAbsolute(s.write.path)) throw new PlanInvalid(`step ${i + 1}: ${s.write.path} is not an absolute path`);
    } else if ('remove' in s) {
      if (!path.isAbsolute(s.remove.path)) throw new PlanInvalid(`step ${i + 1}: ${s.remove.path} is not an absolute path`);
    } else {
      throw new PlanInvalid(`step ${i + 1}: neither argv, write nor remove`);
    }
  });
}

/** What stops an apply between steps: a trapped signal ("interrupted by SIGINT") or the caller's AbortSignal ("cancelled"). */
function trap(enabled: boolean, abort?: AbortSignal): { caught: () => string | null; release: () => void } {
  let caught: string | null = null;
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handler = (sig: NodeJS.Signals) => {
    caught ??= sig;
  };
  if (enabled) for (const s of sigs) process.on(s, handler);
  return {
    caught: () => caught ?? (abort?.aborted ? 'cancel' : null),
    release: () => {
      if (enabled) for (const s of sigs) process.off(s, handler);
    },
  };
}

const interrupted = (caught: string) => (caught === 'cancel' ? 'cancelled' : `interrupted by ${caught}`);

async function netnsLink(): Promise<string> {
  try {
    return await (await import('node:fs/promises')).readlink('/proc/self/ns/net');
  } catch {
    return 'unknown';
  }
}

/** Test hook (lab only): HAGW_DOCTOR_TEST_PAUSE_AT_CONSENT=FILE makes apply, once consent is given
 *  and before it takes the lock, create FILE.waiting and wait (up to 2 minutes) until FILE exists. */
async function testPauseAtConsent(): Promise<void> {
  const file = process.env.HAGW_DOCTOR_TEST_PAUSE_AT_CONSENT;
  if (!file) return;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${file}.waiting`, `${process.pid}\n`);
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stepContext(
  m: ChangeManifest,
  dir: string,
  paths: ChangePaths,
  timeoutMs = STEP_TIMEOUT_MS,
  expectedFiles?: Record<string, string | null>,
): StepContext {
  return { paths, backup: m.backup, dir, run: { timeoutMs }, ...(expectedFiles ? { expectedFiles } : {}) };
}

/** Ends a step the doctor was running when it died (its process group), if it is still there. */
async function endInFlight(m: ChangeManifest, note: (message: string, ok: boolean) => void): Promise<void> {
  for (const rec of m.steps) {
    if (rec.status !== 'running' || !rec.pid) continue;
    if (!pidAlive(rec.pid) || (rec.pidStart && processStart(rec.pid) !== rec.pidStart)) continue;
    try {
      process.kill(-rec.pid, 'SIGKILL');
    } catch {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const until = Date.now() + 5000;
    while (pidAlive(rec.pid) && processStart(rec.pid) === rec.pidStart && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    note(`step ${rec.index + 1} was still running (pid ${rec.pid}): ended it before undoing anything`, true);
  }
}

/** Undoes what a change's steps did, in reverse, each step by its own inverse; never a whole table. */
async function rollbackSteps(
  m: ChangeManifest,
  dir: string,
  paths: ChangePaths,
  reason: RollbackRecord['reason'],
  emit: (e: StepEvent) => void,
): Promise<RollbackRecord> {
  const actions: string[] = [];
  let ok = true;
  const note = (message: string, good: boolean) => {
    actions.push(good ? message : `FAILED: ${message}`);
    if (!good) ok = false;
    emit({ type: 'rollback-action', message, ok: good });
  };
  emit({ type: 'rollback-start', reason });
  await endInFlight(m, note);
  const ctx = stepContext(m, dir, paths);
  for (let i = m.plan.steps.length - 1; i >= 0; i--) {
    const step = m.plan.steps[i]!;
    const rec = m.steps[i]!;
    // 'running': the doctor died during this step, so it may or may not have taken effect;
    // 'failed': a rule replace may have half-run (its undo looks at the rules, not at the record)
    const undoable = rec.status === 'done' || rec.status === 'running' || (rec.status === 'failed' && 'argv' in step && !!step.rule);
    if (!undoable) {
      if (rec.status === 'failed') rec.message = `${rec.message ?? 'failed'}; not undone (it failed, so it changed nothing)`;
      continue;
    }
    let r: { ok: boolean; lines: string[] };
    try {
      r = await undoStep(step, rec, ctx, m.id);
    } catch (err) {
      r = { ok: false, lines: [(err as Error).message] };
    }
    for (const line of r.lines) note(`step ${i + 1}: ${line}`, r.ok);
    rec.status = r.ok ? 'undone' : 'undo-failed';
  }
  if (m.plan.touches.conntrack) actions.push('conntrack entries that were deleted cannot be restored (the kernel re-creates them from traffic)');
  emit({ type: 'rollback-done', ok });
  return { at: new Date().toISOString(), reason, ok, actions };
}

/** The built timer script (also when running from sources in tests, or from the bundle). */
export function rollbackTimerScript(): string {
  return path.join(PACKAGE_ROOT, 'dist', 'src', 'change', 'rollback-timer.js');
}

async function armTimer(id: string, paths: ChangePaths): Promise<number | undefined> {
  // the single executable is its own timer (it has no script file); an npm install runs the script
  const args = embedded() ? [ROLLBACK_TIMER_ARG, id] : [rollbackTimerScript(), id];
  if (!embedded() && !existsSync(args[0]!)) throw new Error(`the rollback timer ${args[0]} is missing (run npm run build)`);
  // detached: its own session (setsid), so it outlives the SSH session and the doctor; same netns as us.
  // If it dies anyway, every later hagw-doctor run rolls the change back once it is overdue.
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

/** Sets the change's confirm deadline `seconds` from now, on the wall clock and on CLOCK_BOOTTIME. */
async function setDeadline(m: ChangeManifest, seconds: number): Promise<void> {
  const up = await uptimeMs();
  m.confirm = {
    ...(m.confirm ?? {}),
    seconds,
    deadline: new Date(Date.now() + seconds * 1000).toISOString(),
    ...(up !== null ? { bootId: await bootId(), deadlineUptimeMs: up + seconds * 1000 } : {}),
  };
}

/** Milliseconds until a change's confirm deadline (<= 0: overdue). Monotonic where it can be. */
export async function msUntilDeadline(m: Pick<ChangeManifest, 'confirm'>): Promise<number> {
  const c = m.confirm;
  if (!c) return Number.POSITIVE_INFINITY;
  if (c.bootId && c.deadlineUptimeMs !== undefined) {
    const [id, up] = [await bootId(), await uptimeMs()];
    if (id && up !== null) return id === c.bootId ? c.deadlineUptimeMs - up : -1; // rebooted since: overdue
  }
  return Date.parse(c.deadline) - Date.now();
}

/** This node's changes only (see node.ts); `all` lists every node's. */
export async function nodeChanges(paths: ChangePaths, here?: NodeId): Promise<ChangeManifest[]> {
  const node = here ?? (await currentNode());
  return (await listChanges(paths.changesDir)).filter((c) => sameNode(c.node, node));
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
  await testPauseAtConsent();
  let lock: Lock;
  try {
    lock = await acquireLock(paths.lock);
  } catch (err) {
    if (err instanceof LockHeld) return refused(`${err.message}; nothing changed`);
    return refused(`cannot take the lock ${paths.lock}: ${(err as Error).message}; nothing changed`);
  }
  const signals = trap(opts.trapSignals ?? true, opts.signal);
  let m: ChangeManifest | undefined;
  let dir = '';
  try {
    const node = await currentNode();
    const unsettled = (await nodeChanges(paths, node)).filter((c) => c.state === 'pending' || c.state === 'applying');
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
    const made: ChangeManifest = {
      schema: MANIFEST_SCHEMA,
      id,
      who: whoAmI(),
      when: new Date().toISOString(),
      host: node.hostname,
      netns: await netnsLink(),
      node,
      findings: opts.findings,
      plan,
      state: 'applying',
      updatedAt: '',
      steps: plan.steps.map((_, index) => ({ index, status: 'not-run' })),
      backup,
      rollbacks: [],
    };
    m = made;
    await writeManifest(dir, made);
    await logChange(paths.log, 'plan', { id, who: made.who, host: made.host, node: describeNode(node), findings: made.findings, plan });
    emit({ type: 'backup', id, dir });

    if (opts.confirmTimeout) {
      // armed before the first step: a step that cuts the session must still be rolled back
      await setDeadline(made, opts.confirmTimeout);
      await writeManifest(dir, made);
      try {
        const pid = await armTimer(id, paths);
        made.confirm!.timerPid = pid;
        await writeManifest(dir, made);
        emit({ type: 'timer-armed', id, seconds: opts.confirmTimeout, confirmDeadline: new Date(made.confirm!.deadline), pid });
      } catch (err) {
        made.state = 'failed';
        made.result = `could not arm the rollback timer: ${(err as Error).message}; no step ran`;
        await writeManifest(dir, made);
        await logChange(paths.log, 'result', { id, state: made.state, result: made.result });
        return { id, outcome: 'refused', exitCode: 3, state: made.state, message: `${made.result}; nothing changed` };
      }
    }

    const ctx = stepContext(made, dir, paths, opts.stepTimeoutMs ?? STEP_TIMEOUT_MS, opts.expectedFiles);
    let failedStep: number | undefined;
    let failure = '';
    let moved = '';
    for (let i = 0; i < plan.steps.length; i++) {
      if (signals.caught()) break;
      const step = plan.steps[i]!;
      const rec = made.steps[i]!;
      const label = stepLabel(step);
      rec.status = 'running';
      await writeManifest(dir, made);
      emit({ type: 'step-start', index: i, label });
      const r = await execStep(step, {
        ...ctx,
        run: {
          ...ctx.run,
          onSpawn: async (pid) => {
            rec.pid = pid;
            const start = processStart(pid);
            if (start) rec.pidStart = start;
            await writeManifest(dir, made);
          },
        },
      });
      delete rec.pid;
      delete rec.pidStart;
      const optional = 'argv' in step && step.optional === true;
      rec.status = r.status === 'failed' && optional ? 'tolerated' : r.status;
      if (r.exitCode !== undefined) rec.exitCode = r.exitCode;
      if (r.message) rec.message = r.message;
      if (r.createdDirs?.length) rec.createdDirs = r.createdDirs;
      if (r.ran.length) rec.ran = r.ran;
      if (r.inverse) rec.inverse = r.inverse;
      if (r.after !== undefined) rec.after = r.after;
      if (r.wroteSha256) rec.wroteSha256 = r.wroteSha256;
      await writeManifest(dir, made);
      const st = rec.status as 'done' | 'failed' | 'tolerated' | 'already' | 'moved';
      emit({ type: 'step-done', index: i, label, status: st, ...(r.message ? { message: r.message } : {}) });
      await logChange(paths.log, 'step', {
        id,
        index: i,
        label,
        status: rec.status,
        ...(r.ran.length ? { ran: r.ran } : {}),
        ...(r.message ? { message: r.message } : {}),
      });
      if (rec.status === 'moved') {
        failedStep = i;
        moved = `the host changed since the plan was shown, so step ${i + 1} did not run: ${r.message}`;
        break;
      }
      if (rec.status === 'failed') {
        failedStep = i;
        failure = `step ${i + 1} failed: ${label}: ${r.message ?? 'failed'}`;
        break;
      }
    }
    const sig = signals.caught();
    if (failedStep !== undefined || sig) {
      const why = moved || (failedStep !== undefined ? failure : `${interrupted(sig!)} after step ${made.steps.filter((s) => s.status !== 'not-run').length}`);
      return await finishRollback(made, dir, paths, moved ? 'moved' : failedStep !== undefined ? 'step-failed' : 'signal', why, 'failed', emit, failedStep);
    }

    if (made.steps.every((s) => s.status === 'already' || s.status === 'tolerated')) {
      // the host is already as the plan would make it: no change to keep, confirm or undo
      await killTimer(made.confirm?.timerPid, id);
      await rm(dir, { recursive: true, force: true });
      const message = `nothing to do: the host already is as this plan would make it (${made.steps
        .map((s) => s.message)
        .filter(Boolean)
        .join('; ')}); nothing changed`;
      await logChange(paths.log, 'result', { id, state: 'nothing-to-do', result: message });
      return { id: null, outcome: 'nothing-to-do', exitCode: 0, message };
    }

    if (opts.recheck) {
      emit({ type: 'recheck-start' });
      let remaining: string[];
      let recheckError = '';
      try {
        const r = await opts.recheck();
        remaining = stillReported(plan, opts.targets, r);
      } catch (err) {
        recheckError = (err as Error).message;
        remaining = opts.targets?.length ? opts.targets.map(targetLabel) : [...plan.verifies];
      }
      emit({ type: 'recheck-done', remaining });
      const sig2 = signals.caught();
      if (sig2) return await finishRollback(made, dir, paths, 'signal', `${interrupted(sig2)} during the re-check`, 'rolled-back', emit);
      if (remaining.length) {
        const why = recheckError
          ? `the re-check failed (${recheckError}), so the fix cannot be verified`
          : `applied, but the re-check still reports ${remaining.join(', ')}`;
        const res = await finishRollback(made, dir, paths, 'recheck', why, 'rolled-back', emit);
        return { ...res, outcome: 'not-cleared', exitCode: 2, remaining };
      }
    }

    const what = opts.targets?.length ? opts.targets.map(targetLabel).join(', ') : plan.verifies.join(', ') || 'it';
    const cleared = opts.recheck ? `the re-check no longer reports ${what}` : 'not re-checked';
    if (opts.confirmTimeout && made.confirm) {
      // the confirm window starts now that the change is in place
      await setDeadline(made, opts.confirmTimeout);
      made.state = 'pending';
      made.result = `applied; ${cleared}; rolls back by itself at ${made.confirm.deadline} unless confirmed`;
    } else {
      made.state = 'confirmed';
      made.result = `applied; ${cleared}`;
    }
    const already = made.steps.filter((s) => s.status === 'already');
    await writeManifest(dir, made);
    await logChange(paths.log, 'result', { id, state: made.state, result: made.result });
    const message = [
      `change ${id}: ${made.result}`,
      ...already.map((s) => `  step ${s.index + 1} did nothing: ${s.message}`),
      ...(made.state === 'pending' ? [`run \`hagw-doctor confirm\` within ${opts.confirmTimeout} s to keep it`] : []),
      ...(plan.touches.conntrack ? ['deleted conntrack entries cannot be restored by an undo'] : []),
    ].join('\n');
    return made.state === 'pending' && made.confirm
      ? { id, outcome: 'pending', exitCode: 0, state: made.state, message, confirmDeadline: new Date(made.confirm.deadline) }
      : { id, outcome: 'applied', exitCode: 0, state: made.state, message };
  } catch (err) {
    const msg = (err as Error).message;
    if (m && m.state === 'applying') {
      const mm = m;
      return await finishRollback(mm, dir, paths, 'error', `unexpected error: ${msg}`, 'failed', emit).catch((e2: Error) => ({
        id: mm.id,
        outcome: 'failed' as const,
        exitCode: 3 as const,
        message: `unexpected error: ${msg}; the rollback failed too: ${e2.message}; run hagw-doctor undo ${mm.id}`,
      }));
    }
    return { id: m?.id ?? null, outcome: 'failed', exitCode: 3, message: `failed: ${msg}` };
  } finally {
    signals.release();
    await lock.release();
  }
}

/** What the re-check still reports of what the change had to clear: each target by code and
 *  subject (fixing gw's LAN instance is judged on LAN, not on the WAN instance's same code). */
export function stillReported(plan: FixPlan, targets: FindingTarget[] | undefined, r: { codes: string[]; findings?: FindingTarget[] }): string[] {
  if (!targets?.length || !r.findings) return plan.verifies.filter((c) => r.codes.includes(c));
  const left = targets.filter((t) => r.findings!.some((f) => f.code === t.code && (t.subject === undefined || f.subject === t.subject))).map(targetLabel);
  const byCode = new Set(targets.map((t) => t.code));
  // codes the plan verifies beyond the chosen findings are judged by code
  return [...left, ...plan.verifies.filter((c) => !byCode.has(c) && r.codes.includes(c))];
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
    rb.ok ? 'rolled back:' : `ROLLBACK INCOMPLETE; what could not be undone is named above; the backup is in ${dir}:`,
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

function elsewhere(m: ChangeManifest, here: NodeId): string {
  const how = m.node.netnsName ? ` (ip netns exec ${m.node.netnsName} hagw-doctor undo ${m.id})` : '';
  return `change ${m.id} was made on ${describeNode(m.node)}, not here (${describeNode(here)}): undo it where it was made${how}; nothing changed`;
}

/** Rolls a change back, step by step. Default: this node's latest applied change. */
export async function undoChange(
  id: string | undefined,
  opts: { paths?: ChangePaths; reason?: RollbackRecord['reason']; waitForLockMs?: number; onStep?: (e: StepEvent) => void; onlyIfPending?: boolean } = {},
): Promise<CommandOutcome> {
  const paths = opts.paths ?? changePaths();
  const reason = opts.reason ?? 'undo';
  if (id !== undefined && !/^[\w.-]+$/.test(id))
    return { exitCode: 3, message: `not a change id: ${JSON.stringify(id)} (see hagw-doctor changes); nothing changed` };
  let lock: Lock;
  try {
    lock = opts.waitForLockMs ? await waitForLock(paths.lock, Date.now() + opts.waitForLockMs) : await acquireLock(paths.lock);
  } catch (err) {
    return { exitCode: 3, message: `${(err as Error).message}; nothing changed` };
  }
  try {
    const here = await currentNode();
    let m: ChangeManifest | undefined;
    if (id) {
      try {
        m = await readManifest(changeDir(paths.changesDir, id));
      } catch (err) {
        if (err instanceof ManifestInvalid && !/\(missing\)/.test(err.message)) return { exitCode: 3, message: `${err.message}; nothing changed` };
        return { exitCode: 3, message: `no change ${id} in ${paths.changesDir}; nothing changed` };
      }
      if (!sameNode(m.node, here)) return { exitCode: 3, id: m.id, message: elsewhere(m, here) };
    } else {
      m = (await nodeChanges(paths, here)).filter((c) => c.state === 'confirmed' || c.state === 'pending' || c.state === 'applying').pop();
      if (!m) return { exitCode: 3, message: `no applied change of this node (${describeNode(here)}) to undo in ${paths.changesDir}` };
    }
    if (opts.onlyIfPending && m.state !== 'pending' && m.state !== 'applying')
      return { exitCode: 0, id: m.id, message: `change ${m.id} is ${m.state}; nothing to do` };
    if (m.state === 'rolled-back' || m.state === 'failed')
      return {
        exitCode: 3,
        id: m.id,
        message: `change ${m.id} is already ${m.state === 'failed' ? 'failed and rolled back' : 'rolled back'}; nothing changed`,
      };
    const dir = changeDir(paths.changesDir, m.id);
    if (reason !== 'timer') await killTimer(m.confirm?.timerPid, m.id);
    const why =
      reason === 'timer'
        ? `not confirmed by ${m.confirm?.deadline ?? 'the deadline'}`
        : reason === 'overdue'
          ? `not confirmed by ${m.confirm?.deadline ?? 'the deadline'} and its rollback timer is gone: rolled back by the next hagw-doctor run`
          : `undo requested by ${whoAmI().user}`;
    const res = await finishRollback(m, dir, paths, reason, why, 'rolled-back', opts.onStep ?? (() => undefined));
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
    const here = await currentNode();
    const all = await nodeChanges(paths, here);
    const pending = all.filter((c) => c.state === 'pending');
    if (!pending.length) {
      const last = all.filter((c) => c.confirm).pop();
      const late = last && last.state === 'rolled-back' && last.rollbacks.some((r) => r.reason === 'timer' || r.reason === 'overdue');
      const others = (await listChanges(paths.changesDir)).filter((c) => c.state === 'pending' && !sameNode(c.node, here));
      return {
        exitCode: 3,
        message: late
          ? `too late: change ${last.id} was rolled back at ${last.rollbacks.at(-1)!.at} (its confirm deadline had passed)`
          : `no change of this node (${describeNode(here)}) is awaiting confirmation${others.length ? `; ${others.map((o) => `${o.id} awaits it on ${describeNode(o.node)}`).join('; ')}` : ''}`,
      };
    }
    const lines: string[] = [];
    for (const m of pending) {
      if ((await msUntilDeadline(m)) <= 0) {
        lines.push(`change ${m.id} is past its confirm deadline (${m.confirm?.deadline}): not confirmed; it is being rolled back`);
        continue;
      }
      m.state = 'confirmed';
      m.confirm = { ...m.confirm!, confirmedAt: new Date().toISOString() };
      m.result = `${m.result ?? 'applied'}; confirmed by ${whoAmI().user}`;
      await writeManifest(changeDir(paths.changesDir, m.id), m);
      await logChange(paths.log, 'confirm', { id: m.id, who: whoAmI() });
      await killTimer(m.confirm.timerPid, m.id);
      lines.push(`change ${m.id} confirmed: ${m.plan.summary}`);
    }
    const ok = pending.some((m) => m.state === 'confirmed');
    return { exitCode: ok ? 0 : 3, message: lines.join('\n') };
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
    const wait = await msUntilDeadline(m);
    if (!(wait > 0)) break;
    await new Promise((r) => setTimeout(r, Math.min(wait + 50, 30_000)));
  }
  await logChange(paths.log, 'timer', { id, message: 'confirm deadline passed; rolling back' });
  return undoChange(id, { paths, reason: 'timer', waitForLockMs: 10 * 60_000, onlyIfPending: true });
}

/** This node's pending changes that are past their deadline (their timer died, or is late). */
export async function overdueChanges(paths: ChangePaths): Promise<ChangeManifest[]> {
  const out: ChangeManifest[] = [];
  for (const m of await nodeChanges(paths)) {
    if ((m.state === 'pending' || m.state === 'applying') && m.confirm && (await msUntilDeadline(m)) <= 0) out.push(m);
  }
  return out;
}

/** Run first by every hagw-doctor command (as root): rolls back this node's overdue pending
 *  changes. Returns one line per change (rolled back, or why not). */
export async function settleOverdue(paths: ChangePaths = changePaths()): Promise<string[]> {
  const lines: string[] = [];
  for (const m of await overdueChanges(paths)) {
    const r = await undoChange(m.id, { paths, reason: 'overdue', onlyIfPending: true });
    lines.push(
      r.exitCode === 0
        ? `hagw-doctor: change ${m.id} (${m.plan.summary}) was not confirmed by ${m.confirm!.deadline} and its rollback timer is gone: rolled back now`
        : `hagw-doctor: change ${m.id} is past its confirm deadline and could not be rolled back now: ${r.message.split('\n')[0]}`,
    );
  }
  return lines;
}

export { hasOwnUndo };
