// The change commands of the CLI: fix, confirm, undo, changes. src/cli.ts lazy-imports these.
// runFix takes its pipeline and terminal as arguments so tests can drive it without a host.
import { visible, visibleDeep, visibleLine } from '../report/escape.js';
import { createInterface } from 'node:readline/promises';
import type { CollectOptions, Finding, Report, Snapshot } from '../types.js';
import { isFindingCode } from '../codes.js';
import { applyPlan, confirmPending, nodeChanges, undoChange, type StepEvent } from './engine.js';
import { scanChanges, type ChangeManifest } from './manifest.js';
import { currentNode, describeNode, sameNode } from './node.js';
import { applyRestoreBackup, restoreBackupPreview } from './restore.js';
import { changePaths, type ChangePaths } from './paths.js';
import { CONFIRM_WORD, confirmAccepted, planPreview, renderPreview } from './preview.js';

export interface FixOptions {
  codes: string[];
  dryRun: boolean;
  yes: boolean;
  confirmTimeout?: number;
  config?: string;
  color: boolean;
  from?: string;
}

export interface FixDeps {
  collect: (options: CollectOptions) => Promise<Snapshot>;
  analyse: (snapshot: Snapshot, opts?: { source?: string }) => Report;
  readSnapshot: (file: string) => Promise<Snapshot>;
  /** asks a question on the terminal; null when there is no terminal to ask on */
  ask: ((question: string) => Promise<string>) | null;
  out: (text: string) => void;
  err: (text: string) => void;
  isRoot: boolean;
  paths?: ChangePaths;
}

export { mergePlans } from './merge.js';
import { mergePlans } from './merge.js';

function collectOptions(opts: FixOptions): CollectOptions {
  return opts.config ? { config: opts.config } : {};
}

function eventLine(e: StepEvent): string | null {
  switch (e.type) {
    case 'notice':
      return e.message;
    case 'backup':
      return `change ${e.id}: backup saved in ${e.dir}`;
    case 'timer-armed':
      return `rollback timer armed (pid ${e.pid ?? '?'}): rolls back by itself unless confirmed within ${e.seconds} s`;
    case 'step-start':
      return `  running step ${e.index + 1}: ${e.label}`;
    case 'step-done':
      return `  step ${e.index + 1} ${e.status}${e.message ? `: ${e.message}` : ''}`;
    case 'recheck-start':
      return 're-checking the host...';
    case 'recheck-done':
      return e.remaining.length ? `still reported: ${e.remaining.join(', ')}` : 're-check: cleared';
    case 'rollback-start':
      return `rolling back (${e.reason})...`;
    case 'rollback-action':
      return `  ${e.ok ? '' : 'FAILED: '}${e.message}`;
    case 'rollback-done':
      return e.ok ? 'rolled back' : 'ROLLBACK INCOMPLETE';
  }
}

export async function runFix(opts: FixOptions, deps: FixDeps): Promise<number> {
  const unknown = opts.codes.filter((c) => !isFindingCode(c));
  if (unknown.length) {
    deps.err(`unknown code ${unknown.join(', ')} (see \`hagw-doctor codes\`); nothing changed\n`);
    return 3;
  }
  let snapshot: Snapshot;
  let report: Report;
  try {
    snapshot = opts.from ? await deps.readSnapshot(opts.from) : await deps.collect(collectOptions(opts));
    report = deps.analyse(snapshot, { source: opts.from ?? 'live' });
  } catch (err) {
    deps.err(`cannot inspect the host: ${visibleLine((err as Error).message)}; nothing changed\n`);
    return 3;
  }
  const chosen: Finding[] = [];
  // a code that is not reported is not an error: there is nothing to fix (exit 0, nothing done)
  const absent = opts.codes.filter((code) => !report.findings.some((f) => f.code === code));
  for (const code of absent) deps.out(`${code} is not reported ${opts.from ? `in ${opts.from}` : 'on this host'}: nothing to fix\n`);
  if (absent.length === opts.codes.length) {
    deps.out('nothing changed\n');
    return 0;
  }
  for (const code of opts.codes) {
    const found = report.findings.filter((f) => f.code === code);
    if (!found.length) continue;
    const fixable = found.filter((f) => f.fix);
    if (!fixable.length) {
      deps.err(`${code} is reported but has no automatic fix (${visibleLine(found[0]!.title)}); see \`hagw-doctor check\` for what to do; nothing changed\n`);
      return 3;
    }
    chosen.push(...fixable);
  }
  const plan = mergePlans(chosen.map((f) => f.fix!));
  const paths = deps.paths ?? changePaths();
  // --from: the diffs are against the files the snapshot recorded, not this machine's
  const preview = planPreview(plan, opts.from ? { recorded: snapshot } : { paths });
  deps.out(renderPreview(visibleDeep(preview), { color: opts.color }));
  if (opts.from) {
    deps.out(`\n(${opts.from} is a recorded snapshot: the fix is shown, never applied)\n`);
    return 0;
  }
  if (opts.dryRun) {
    deps.out('\n--dry-run: nothing changed\n');
    return 0;
  }
  if (!deps.isRoot) {
    deps.err('applying a fix needs root; nothing changed\n');
    return 3;
  }
  if (!opts.yes) {
    if (!deps.ask) {
      deps.err('refusing to change this host without consent: there is no terminal to ask on; re-run with --yes to apply; nothing changed\n');
      return 3;
    }
    const word = preview.confirmWord;
    const question = word ? `\nThis change is disruptive. Type "${word}" (or ${opts.codes.join(' / ')}) to apply it: ` : '\nApply this change? [y/N] ';
    let answer: string;
    try {
      answer = (await deps.ask(question)).trim();
    } catch {
      answer = '';
    }
    const ok = word ? confirmAccepted(word, answer) || opts.codes.includes(answer) : /^(y|yes)$/i.test(answer);
    if (!ok) {
      deps.err('not applied; nothing changed\n');
      return 3;
    }
  }
  const result = await applyPlan(plan, {
    findings: chosen.map((f) => f.code),
    // every instance of the code(s) asked for must be gone, each judged by code and subject
    targets: chosen.map((f) => ({ code: f.code, ...(f.subject !== undefined ? { subject: f.subject } : {}) })),
    expectedFiles: preview.fileHashes,
    paths,
    ...(opts.confirmTimeout ? { confirmTimeout: opts.confirmTimeout } : {}),
    recheck: async () => {
      const again = deps.analyse(await deps.collect(collectOptions(opts)), { source: 'live' });
      return {
        codes: again.findings.map((f) => f.code),
        findings: again.findings.map((f) => ({ code: f.code, ...(f.subject !== undefined ? { subject: f.subject } : {}) })),
      };
    },
    onStep: (e) => {
      const line = eventLine(e);
      if (line !== null) deps.out(visible(line) + '\n');
    },
  });
  (result.exitCode === 0 ? deps.out : deps.err)(visible(result.message) + '\n');
  return result.exitCode;
}

function safeWrite(stream: NodeJS.WriteStream): (text: string) => void {
  // the SSH session may be gone while a change rolls back: never die on a write
  stream.on('error', () => undefined);
  return (text) => {
    try {
      stream.write(text);
    } catch {
      /* terminal gone */
    }
  };
}

export async function askOnTerminal(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const abort = new AbortController();
  // Ctrl+C at the prompt is a no, not a hang
  rl.on('SIGINT', () => abort.abort());
  try {
    return await rl.question(question, { signal: abort.signal });
  } finally {
    rl.close();
  }
}

export async function fixCommand(opts: FixOptions): Promise<number> {
  const { collect, analyse } = await import('../pipeline.js');
  const { readSnapshot } = await import('../snapshot-file.js');
  return runFix(opts, {
    collect: (o) => collect(o),
    analyse: (s, o) => analyse(s, o),
    readSnapshot,
    ask: process.stdin.isTTY ? askOnTerminal : null,
    out: safeWrite(process.stdout),
    err: safeWrite(process.stderr),
    isRoot: process.getuid?.() === 0,
  });
}

export interface ConsentDeps {
  ask: ((question: string) => Promise<string>) | null;
  out: (text: string) => void;
  err: (text: string) => void;
  paths?: ChangePaths;
}

const terminalDeps = (): ConsentDeps => ({ ask: process.stdin.isTTY ? askOnTerminal : null, out: safeWrite(process.stdout), err: safeWrite(process.stderr) });

/** Asks yes/no on the terminal; false (with the reason printed) without one or on anything but yes. */
async function consent(deps: ConsentDeps, question: string, what: string): Promise<boolean> {
  if (!deps.ask) {
    deps.err(`refusing to ${what} without consent: there is no terminal to ask on; re-run with --yes; nothing changed\n`);
    return false;
  }
  let answer: string;
  try {
    answer = (await deps.ask(question)).trim();
  } catch {
    answer = '';
  }
  if (/^(y|yes)$/i.test(answer)) return true;
  deps.err('not done; nothing changed\n');
  return false;
}

export async function confirmCommand(opts: { yes?: boolean } = {}, deps: ConsentDeps = terminalDeps()): Promise<number> {
  const paths = deps.paths ?? changePaths();
  if (!opts.yes) {
    const pending = (await nodeChanges(paths).catch(() => [] as ChangeManifest[])).filter((c) => c.state === 'pending');
    if (pending.length) {
      for (const m of pending) deps.out(`change ${m.id}: ${m.plan.summary} (rolls back at ${m.confirm?.deadline ?? '?'} unless confirmed)\n`);
      if (!(await consent(deps, 'Keep this change? [y/N] ', 'confirm a change'))) return 3;
    }
  }
  const r = await confirmPending({ paths });
  (r.exitCode === 0 ? deps.out : deps.err)(r.message + '\n');
  return r.exitCode;
}

/** What `undo` would do to a change, for the consent question. */
function undoSummary(m: ChangeManifest): string {
  return [`change ${m.id} (${m.state}, ${m.when}): ${m.plan.summary}`, 'undone step by step, in reverse; each step touches only what it did:'].join('\n');
}

export async function undoCommand(
  id: string | undefined,
  opts: { yes?: boolean; restoreBackup?: boolean } = {},
  deps: ConsentDeps = terminalDeps(),
): Promise<number> {
  const paths = deps.paths ?? changePaths();
  if (id !== undefined && id.trim() === '') {
    deps.err("hagw-doctor undo: an empty change id; name a change (see `hagw-doctor changes`) or give none for this node's latest; nothing changed\n");
    return 3;
  }
  if (opts.restoreBackup) {
    if (!id) {
      deps.err('hagw-doctor undo --restore-backup needs the change id; nothing changed\n');
      return 3;
    }
    const p = await restoreBackupPreview(id, paths);
    if (!p.ok) {
      deps.err(p.message + '\n');
      return 3;
    }
    deps.out(p.text);
    if (!opts.yes && !(await consent(deps, '\nRestore these tables from the backup? [y/N] ', 'restore whole tables'))) return 3;
    const r = await applyRestoreBackup(id, paths, p.expect);
    (r.exitCode === 0 ? deps.out : deps.err)(r.message + '\n');
    return r.exitCode;
  }
  if (!opts.yes) {
    const here = await currentNode();
    let m: ChangeManifest | undefined;
    try {
      const all = (await scanChanges(paths.changesDir)).changes;
      m = id ? all.find((c) => c.id === id) : all.filter((c) => sameNode(c.node, here) && ['confirmed', 'pending', 'applying'].includes(c.state)).pop();
    } catch {
      m = undefined;
    }
    // a change that cannot be undone here is refused by undoChange with its reason, no question asked
    if (m && sameNode(m.node, here) && ['confirmed', 'pending', 'applying'].includes(m.state)) {
      deps.out(undoSummary(m) + '\n');
      if (!(await consent(deps, 'Undo this change? [y/N] ', 'undo a change'))) return 3;
    }
  }
  const r = await undoChange(id, {
    paths,
    onStep: (e) => {
      const line = eventLine(e);
      if (line !== null) deps.out(line + '\n');
    },
  });
  (r.exitCode === 0 ? deps.out : deps.err)(r.message + '\n');
  return r.exitCode;
}

export async function changesCommand(
  opts: { json: boolean; all?: boolean },
  paths: ChangePaths = changePaths(),
  out: (t: string) => void = (t) => process.stdout.write(t),
  err: (t: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  let all: ChangeManifest[];
  const here = await currentNode();
  try {
    const scan = await scanChanges(paths.changesDir);
    // a corrupt manifest is one line, never a crash
    for (const bad of scan.invalid) err(`hagw-doctor: ${bad.message}\n`);
    all = opts.all ? scan.changes : scan.changes.filter((c) => sameNode(c.node, here));
  } catch (e) {
    err(`cannot read ${paths.changesDir}: ${(e as Error).message}\n`);
    return 3;
  }
  if (opts.json) {
    out(
      JSON.stringify(
        all.map((m) => ({
          id: m.id,
          state: m.state,
          when: m.when,
          who: m.who,
          host: m.host,
          node: { netns: m.node.netnsName, netnsInode: m.node.netnsInode, hostname: m.node.hostname, here: sameNode(m.node, here) },
          findings: m.findings,
          summary: m.plan.summary,
          risk: m.plan.risk,
          result: m.result ?? null,
          confirmDeadline: m.confirm?.deadline ?? null,
          rollbacks: m.rollbacks.map((r) => ({ at: r.at, reason: r.reason, ok: r.ok })),
        })),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  if (!all.length) {
    out(`no changes of ${opts.all ? 'any node' : `this node (${describeNode(here)})`} recorded in ${paths.changesDir}\n`);
    return 0;
  }
  for (const m of all) {
    const who = m.who.sudoUser ? `${m.who.sudoUser} (as ${m.who.user})` : m.who.user;
    out(`${m.id}  ${m.state.padEnd(11)}  ${m.when}  ${who}  ${m.findings.join(',') || '-'}  ${m.plan.summary}\n`);
    if (opts.all) out(`    on ${describeNode(m.node)}${sameNode(m.node, here) ? ' (this node)' : ''}\n`);
    if (m.state === 'pending' && m.confirm) out(`    awaiting \`hagw-doctor confirm\` before ${m.confirm.deadline}\n`);
    if (m.result) out(`    ${m.result}\n`);
  }
  return 0;
}

export { CONFIRM_WORD };
