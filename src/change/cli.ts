// The change commands of the CLI: fix, confirm, undo, changes. src/cli.ts lazy-imports these.
// runFix takes its pipeline and terminal as arguments so tests can drive it without a host.
import { createInterface } from 'node:readline/promises';
import type { CollectOptions, Finding, FixPlan, Report, Snapshot } from '../types.js';
import { isFindingCode } from '../codes.js';
import { applyPlan, confirmPending, undoChange, type StepEvent } from './engine.js';
import { listChanges } from './manifest.js';
import { changePaths, type ChangePaths } from './paths.js';
import { CONFIRM_WORD, planPreview, renderPreview } from './preview.js';

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

/** Several findings' plans as one change: one backup, one lock, all or nothing. */
export function mergePlans(plans: FixPlan[]): FixPlan {
  const unique = plans.filter((p, i) => plans.findIndex((q) => JSON.stringify(q) === JSON.stringify(p)) === i);
  if (unique.length === 1) return unique[0]!;
  const union = (xs: Array<string[] | undefined>) => [...new Set(xs.flatMap((x) => x ?? []))];
  return {
    summary: unique.map((p) => p.summary).join('; '),
    risk: unique.some((p) => p.risk === 'disruptive') ? 'disruptive' : 'safe',
    steps: unique.flatMap((p) => p.steps),
    touches: {
      iptables: union(unique.map((p) => p.touches.iptables)),
      nft: unique.some((p) => p.touches.nft),
      sysctl: union(unique.map((p) => p.touches.sysctl)),
      files: union(unique.map((p) => p.touches.files)),
      routes: unique.some((p) => p.touches.routes),
      conntrack: unique.some((p) => p.touches.conntrack),
    },
    persistence: {
      persistent: unique.every((p) => p.persistence.persistent),
      how: unique.map((p) => p.persistence.how).join('; '),
    },
    verifies: union(unique.map((p) => p.verifies)),
  };
}

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
    deps.err(`cannot inspect the host: ${(err as Error).message}; nothing changed\n`);
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
      deps.err(`${code} is reported but has no automatic fix (${found[0]!.title}); see \`hagw-doctor check\` for what to do; nothing changed\n`);
      return 3;
    }
    chosen.push(...fixable);
  }
  const plan = mergePlans(chosen.map((f) => f.fix!));
  const paths = deps.paths ?? changePaths();
  const preview = planPreview(plan, { paths });
  deps.out(renderPreview(preview, { color: opts.color }));
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
    const question = word
      ? `\nThis change is disruptive. Type "${word}" (or ${opts.codes.join(' / ')}) to apply it: `
      : '\nApply this change? [y/N] ';
    let answer: string;
    try {
      answer = (await deps.ask(question)).trim();
    } catch {
      answer = '';
    }
    const ok = word ? answer === word || opts.codes.includes(answer) : /^(y|yes)$/i.test(answer);
    if (!ok) {
      deps.err('not applied; nothing changed\n');
      return 3;
    }
  }
  const result = await applyPlan(plan, {
    findings: chosen.map((f) => f.code),
    paths,
    ...(opts.confirmTimeout ? { confirmTimeout: opts.confirmTimeout } : {}),
    recheck: async () => {
      const again = deps.analyse(await deps.collect(collectOptions(opts)), { source: 'live' });
      return { codes: again.findings.map((f) => f.code) };
    },
    onStep: (e) => {
      const line = eventLine(e);
      if (line !== null) deps.out(line + '\n');
    },
  });
  (result.exitCode === 0 ? deps.out : deps.err)(result.message + '\n');
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

async function askOnTerminal(question: string): Promise<string> {
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

export async function confirmCommand(): Promise<number> {
  const r = await confirmPending();
  (r.exitCode === 0 ? process.stdout : process.stderr).write(r.message + '\n');
  return r.exitCode;
}

export async function undoCommand(id?: string): Promise<number> {
  const r = await undoChange(id, {
    onStep: (e) => {
      const line = eventLine(e);
      if (line !== null) process.stdout.write(line + '\n');
    },
  });
  (r.exitCode === 0 ? process.stdout : process.stderr).write(r.message + '\n');
  return r.exitCode;
}

export async function changesCommand(opts: { json: boolean }, paths: ChangePaths = changePaths(), out: (t: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  let all;
  try {
    all = await listChanges(paths.changesDir);
  } catch (err) {
    process.stderr.write(`cannot read ${paths.changesDir}: ${(err as Error).message}\n`);
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
    out(`no changes recorded in ${paths.changesDir}\n`);
    return 0;
  }
  for (const m of all) {
    const who = m.who.sudoUser ? `${m.who.sudoUser} (as ${m.who.user})` : m.who.user;
    out(`${m.id}  ${m.state.padEnd(11)}  ${m.when}  ${who}  ${m.findings.join(',') || '-'}  ${m.plan.summary}\n`);
    if (m.state === 'pending' && m.confirm) out(`    awaiting \`hagw-doctor confirm\` before ${m.confirm.deadline}\n`);
    if (m.result) out(`    ${m.result}\n`);
  }
  return 0;
}

export { CONFIRM_WORD };
