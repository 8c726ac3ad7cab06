// One step of a change, and its exact inverse, decided against the host as it is *now* (under
// the lock, after consent, right before the step runs), never against positions or contents
// captured when the plan was made:
//  - iptables rule edits (FixStep.rule) are checked with -C and placed by content: a position is
//    looked up with -S at the moment it is used; an insert already present does nothing;
//  - `nft add table/chain` that already exist do nothing (nft would accept them silently, and an
//    undo would then delete someone else's table); `nft add/insert rule` is echoed with its handle,
//    and undone by that handle;
//  - a file step writes only while the file still holds what the preview showed, and is undone
//    only while the file still holds what the step wrote.
// Nothing here restores a whole table.
import { createHash } from 'node:crypto';
import { readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { FixStep, RuleEdit } from '../types.js';
import { tokenize } from '../netfilter/iptables-save.js';
import type { BackupIndex, FileBackup } from './backup.js';
import { runArgv, type CommandResult, type RunOptions } from './exec.js';
import { checkTarget, removeFileSafe, writeFileSafe } from './fsafe.js';
import type { StepRecord } from './manifest.js';
import { rooted, type ChangePaths } from './paths.js';
import { shellJoin } from './quote.js';

export const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

export interface StepContext {
  paths: ChangePaths;
  backup: BackupIndex;
  /** the change directory (backup copies) */
  dir: string;
  run: RunOptions;
  /** sha256 of each file's content when the plan was shown (null: absent); checked before writing */
  expectedFiles?: Record<string, string | null>;
}

export interface StepOutcome {
  status: 'done' | 'failed' | 'already' | 'moved';
  message?: string;
  exitCode?: number | null;
  ran: string[][];
  inverse?: string[][];
  after?: string[] | null;
  createdDirs?: string[];
  wroteSha256?: string;
}

class HostError extends Error {}

// ------------------------------------------------------------------ iptables by content

const base = (r: RuleEdit) => [r.bin, '-w', '-t', r.table];
const fmt = (spec: string[]) => shellJoin(spec);

async function run(argv: string[], ctx: StepContext, ran?: string[][]): Promise<CommandResult> {
  ran?.push(argv);
  return runArgv(argv, ctx.run);
}

/** -C: true present, false absent; throws when iptables cannot tell. */
async function present(r: RuleEdit, spec: string[], ctx: StepContext): Promise<boolean> {
  const x = await runArgv([...base(r), '-C', r.chain, ...spec], { timeoutMs: ctx.run.timeoutMs ?? 30_000 });
  if (x.exitCode === 0) return true;
  if (x.exitCode === 1) return false;
  throw new HostError(`cannot check ${r.table} ${r.chain} for ${fmt(spec)}: ${x.reason}`);
}

/** The chain's rules now, as -S prints them (specs after "-A CHAIN"). */
async function chainRules(r: RuleEdit): Promise<string[][]> {
  const x = await runArgv([...base(r), '-S', r.chain]);
  if (!x.ok) throw new HostError(`cannot list ${r.table} ${r.chain}: ${x.reason}`);
  const out: string[][] = [];
  for (const line of x.stdout.split('\n')) {
    const t = tokenize(line).map((w) => w.text);
    if (t[0] === '-A' && t[1] === r.chain) out.push(t.slice(2));
  }
  return out;
}

const same = (a: string[], b: string[]) => a.length === b.length && a.every((w, i) => w === b[i]);

/** 1-based position of a rule found by content, or null. */
async function positionOf(r: RuleEdit, spec: string[]): Promise<{ pos: number; rules: string[][] } | null> {
  const rules = await chainRules(r);
  const i = rules.findIndex((x) => same(x, spec));
  return i < 0 ? null : { pos: i + 1, rules };
}

async function must(argv: string[], ctx: StepContext, ran: string[][]): Promise<void> {
  const x = await run(argv, ctx, ran);
  if (!x.ok) throw new HostError(`${shellJoin(argv)}: ${x.reason}`);
}

async function execRule(r: RuleEdit, ctx: StepContext): Promise<StepOutcome> {
  const ran: string[][] = [];
  const where = `${r.table} ${r.chain}`;
  try {
    if (r.op === 'insert' || r.op === 'append') {
      if (await present(r, r.spec, ctx)) return { status: 'already', message: `already in ${where}: ${fmt(r.spec)}; not added again`, ran };
      if (r.op === 'append') await must([...base(r), '-A', r.chain, ...r.spec], ctx, ran);
      else if (r.before) {
        const at = await positionOf(r, r.before);
        if (!at) return { status: 'moved', message: `the rule this one goes before is no longer in ${where}: ${fmt(r.before)}`, ran };
        await must([...base(r), '-I', r.chain, String(at.pos), ...r.spec], ctx, ran);
      } else await must([...base(r), '-I', r.chain, '1', ...r.spec], ctx, ran);
      return { status: 'done', ran, inverse: [[...base(r), '-D', r.chain, ...r.spec]] };
    }
    if (r.op === 'delete') {
      const at = await positionOf(r, r.spec);
      if (!at) {
        if (!(await present(r, r.spec, ctx))) return { status: 'already', message: `no longer in ${where}: ${fmt(r.spec)}; nothing to delete`, ran };
        return { status: 'moved', message: `iptables -C finds ${fmt(r.spec)} in ${where} but -S does not list it in that form; not deleted`, ran };
      }
      const after = at.rules[at.pos] ?? null;
      await must([...base(r), '-D', r.chain, ...r.spec], ctx, ran);
      return { status: 'done', ran, after, message: `was rule ${at.pos} of ${where}` };
    }
    // replace: insert the new rule where the old one is now, then delete the old one by content
    const w = r.with ?? [];
    if (!(await present(r, r.spec, ctx))) {
      if (await present(r, w, ctx)) return { status: 'already', message: `${where} already has ${fmt(w)} and no longer ${fmt(r.spec)}`, ran };
      return { status: 'moved', message: `the rule to replace is no longer in ${where}: ${fmt(r.spec)}`, ran };
    }
    const at = await positionOf(r, r.spec);
    if (!at) return { status: 'moved', message: `iptables -C finds ${fmt(r.spec)} in ${where} but -S does not list it in that form; not replaced`, ran };
    await must([...base(r), '-I', r.chain, String(at.pos), ...w], ctx, ran);
    const del = await run([...base(r), '-D', r.chain, ...r.spec], ctx, ran);
    if (!del.ok) {
      await run([...base(r), '-D', r.chain, ...w], ctx, ran);
      return { status: 'failed', message: `could not delete the old rule (${del.reason}); the new one was taken out again`, ran };
    }
    return { status: 'done', ran };
  } catch (err) {
    if (err instanceof HostError) return { status: 'failed', message: err.message, ran };
    throw err;
  }
}

/** Puts back what a rule step did (done, or maybe done when the doctor died during it). */
async function undoRule(r: RuleEdit, rec: StepRecord, ctx: StepContext): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  const ran: string[][] = [];
  const where = `${r.table} ${r.chain}`;
  const did = async (argv: string[]) => {
    await must(argv, ctx, ran);
    lines.push(`ran ${shellJoin(argv)}`);
  };
  try {
    if (r.op === 'insert' || r.op === 'append') {
      if (await present(r, r.spec, ctx)) await did([...base(r), '-D', r.chain, ...r.spec]);
      else lines.push(`${fmt(r.spec)} is no longer in ${where}; nothing to remove`);
      return { ok: true, lines };
    }
    if (r.op === 'delete') {
      if (await present(r, r.spec, ctx)) {
        lines.push(`${fmt(r.spec)} is in ${where} already; not added twice`);
        return { ok: true, lines };
      }
      const after = rec.after;
      if (after) {
        const at = await positionOf(r, after);
        if (at) {
          await did([...base(r), '-I', r.chain, String(at.pos), ...r.spec]);
          return { ok: true, lines };
        }
        const n = (await chainRules(r)).length;
        const was = Number(/rule (\d+) of/.exec(rec.message ?? '')?.[1] ?? n + 1);
        await did([...base(r), '-I', r.chain, String(Math.min(was, n + 1)), ...r.spec]);
        lines.push(`(the rule that followed it is gone: put back at its old position ${Math.min(was, n + 1)})`);
        return { ok: true, lines };
      }
      await did([...base(r), '-A', r.chain, ...r.spec]);
      return { ok: true, lines };
    }
    const w = r.with ?? [];
    const hasNew = await present(r, w, ctx);
    const hasOld = await present(r, r.spec, ctx);
    if (hasNew && !hasOld) {
      const at = await positionOf(r, w);
      if (!at) throw new HostError(`cannot find ${fmt(w)} in ${where} by content`);
      await did([...base(r), '-I', r.chain, String(at.pos), ...r.spec]);
      await did([...base(r), '-D', r.chain, ...w]);
    } else if (hasNew && hasOld) {
      await did([...base(r), '-D', r.chain, ...w]);
    } else if (!hasNew && hasOld) {
      lines.push(`${where} has ${fmt(r.spec)} again and not ${fmt(w)}; nothing to put back`);
    } else {
      lines.push(`neither ${fmt(r.spec)} nor ${fmt(w)} is in ${where} any more (removed by someone since): not put back`);
      return { ok: false, lines };
    }
    return { ok: true, lines };
  } catch (err) {
    if (err instanceof HostError) return { ok: false, lines: [...lines, err.message] };
    throw err;
  }
}

// ------------------------------------------------------------------ nft

interface NftAdd {
  what: 'table' | 'chain' | 'rule';
  family: string;
  table: string;
  chain?: string;
}

function parseNftAdd(argv: string[]): NftAdd | null {
  if (argv[0] !== 'nft') return null;
  const a = argv.slice(1);
  if ((a[0] !== 'add' && a[0] !== 'insert' && a[0] !== 'create') || a.length < 4) return null;
  if (a[1] === 'table') return a[0] === 'insert' ? null : { what: 'table', family: a[2]!, table: a[3]! };
  if (a[1] === 'chain' && a.length >= 5 && a[0] !== 'insert') return { what: 'chain', family: a[2]!, table: a[3]!, chain: a[4]! };
  if (a[1] === 'rule' && a.length >= 6) return { what: 'rule', family: a[2]!, table: a[3]!, chain: a[4]! };
  return null;
}

async function execNft(step: { argv: string[] }, n: NftAdd, ctx: StepContext): Promise<StepOutcome> {
  const ran: string[][] = [];
  if (n.what === 'table' || n.what === 'chain') {
    const list = n.what === 'table' ? ['nft', 'list', 'table', n.family, n.table] : ['nft', 'list', 'chain', n.family, n.table, n.chain!];
    const x = await runArgv(list);
    if (x.ok)
      return {
        status: 'already',
        message: `nft ${n.what} ${n.family} ${n.table}${n.chain ? ` ${n.chain}` : ''} exists already; left as it is (and not removed by an undo)`,
        ran,
      };
    const r = await run(step.argv, ctx, ran);
    if (!r.ok) return { status: 'failed', message: r.reason ?? 'failed', exitCode: r.exitCode, ran };
    const inverse = n.what === 'table' ? [['nft', 'delete', 'table', n.family, n.table]] : [['nft', 'delete', 'chain', n.family, n.table, n.chain!]];
    return { status: 'done', ran, inverse };
  }
  // a rule: add it with --echo --handle, and remember the handle it got
  const argv = ['nft', '--echo', '--handle', ...step.argv.slice(1)];
  const r = await run(argv, ctx, ran);
  if (!r.ok) return { status: 'failed', message: r.reason ?? 'failed', exitCode: r.exitCode, ran };
  const handle = /#\s*handle\s+(\d+)\s*$/m.exec(r.stdout)?.[1];
  if (!handle) return { status: 'done', ran, message: 'nft printed no handle for the new rule: it cannot be undone by itself' };
  return { status: 'done', ran, inverse: [['nft', 'delete', 'rule', n.family, n.table, n.chain!, 'handle', handle]] };
}

// ------------------------------------------------------------------ sysctl -w

function parseSysctlWrite(argv: string[]): { key: string; value: string } | null {
  if (argv[0] !== 'sysctl') return null;
  const rest = argv.slice(1).filter((a) => a !== '-q');
  if (rest.length !== 2 || rest[0] !== '-w') return null;
  const m = /^([\w./-]+)=(.*)$/.exec(rest[1]!);
  if (!m || m[1]!.includes('..')) return null;
  return { key: m[1]!.replace(/\//g, '.'), value: m[2]!.trim() };
}

async function sysctlNow(key: string): Promise<string | null> {
  try {
    return (await readFile(path.join('/proc/sys', key.replace(/\./g, '/')), 'utf8')).trim().replace(/\s+/g, ' ');
  } catch {
    return null;
  }
}

/** sysctl -w KEY=VALUE: already so does nothing; the inverse is the value read right before. */
async function execSysctl(step: { argv: string[]; undo?: string[][] }, w: { key: string; value: string }, ctx: StepContext): Promise<StepOutcome> {
  const ran: string[][] = [];
  const before = await sysctlNow(w.key);
  if (before !== null && before === w.value.replace(/\s+/g, ' ')) return { status: 'already', message: `${w.key} is ${before} already`, ran };
  const r = await run(step.argv, ctx, ran);
  if (!r.ok) return { status: 'failed', message: r.reason ?? 'failed', exitCode: r.exitCode, ran };
  return { status: 'done', ran, ...(before !== null ? { inverse: [['sysctl', '-w', `${w.key}=${before}`]] } : step.undo ? { inverse: step.undo } : {}) };
}

// ------------------------------------------------------------------ files

async function fileSha(real: string): Promise<string | null> {
  try {
    return sha256(await readFile(real));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function execFile(step: Extract<FixStep, { write: unknown }> | Extract<FixStep, { remove: unknown }>, ctx: StepContext): Promise<StepOutcome> {
  const file = 'write' in step ? step.write.path : step.remove.path;
  const real = rooted(ctx.paths, file);
  try {
    await checkTarget(real);
    const now = await fileSha(real);
    const expected = ctx.expectedFiles?.[file];
    if (expected !== undefined && expected !== now) {
      return {
        status: 'moved',
        message: `${file} changed since the plan was shown (${expected === null ? 'it was absent' : now === null ? 'it was removed' : 'its content differs'}); not written`,
        ran: [],
      };
    }
    if ('write' in step) {
      const wrote = sha256(step.write.content);
      if (now === wrote) return { status: 'already', message: `${file} already holds exactly this content`, ran: [], wroteSha256: wrote };
      const before = ctx.backup.files.find((f) => f.path === file);
      const mode = step.write.mode ?? before?.mode ?? 0o644;
      const createdDirs = await writeFileSafe(real, step.write.content, mode);
      return { status: 'done', ran: [], createdDirs, wroteSha256: wrote };
    }
    if (now === null) return { status: 'already', message: `${file} is absent already`, ran: [] };
    await removeFileSafe(real);
    return { status: 'done', ran: [] };
  } catch (err) {
    return { status: 'failed', message: (err as Error).message, ran: [] };
  }
}

async function restoreSaved(ctx: StepContext, f: FileBackup): Promise<string> {
  const real = rooted(ctx.paths, f.path);
  if (!f.exists) {
    await removeFileSafe(real);
    return `removed ${f.path} (it did not exist before)`;
  }
  const content = await readFile(path.join(ctx.dir, f.saved!));
  await writeFileSafe(real, content, f.mode ?? 0o644, f.uid !== undefined && f.gid !== undefined ? { uid: f.uid, gid: f.gid } : undefined);
  return `restored ${f.path} from the backup`;
}

async function undoFile(
  step: Extract<FixStep, { write: unknown }> | Extract<FixStep, { remove: unknown }>,
  rec: StepRecord,
  ctx: StepContext,
): Promise<{ ok: boolean; lines: string[] }> {
  const file = 'write' in step ? step.write.path : step.remove.path;
  const saved = ctx.backup.files.find((f) => f.path === file);
  if (!saved) return { ok: false, lines: [`${file}: not in the backup; left as it is`] };
  const real = rooted(ctx.paths, file);
  try {
    const now = await fileSha(real);
    if ('write' in step) {
      const wrote = rec.wroteSha256 ?? sha256(step.write.content);
      const was = saved.exists ? sha256(await readFile(path.join(ctx.dir, saved.saved!))) : null;
      if (now === was) return { ok: true, lines: [`${file} is as it was before the change already`] };
      if (now !== wrote) {
        return {
          ok: false,
          lines: [
            `${file} changed since the change wrote it; left as it is (its content before the change is in ${saved.saved ? path.join(ctx.dir, saved.saved) : 'the backup: it did not exist'})`,
          ],
        };
      }
    } else if (now !== null) {
      return { ok: false, lines: [`${file} exists again (re-created since the change removed it); left as it is`] };
    }
    const line = await restoreSaved(ctx, saved);
    for (const d of [...(rec.createdDirs ?? [])].reverse()) await rmdir(d).catch(() => undefined);
    return { ok: true, lines: [line] };
  } catch (err) {
    return { ok: false, lines: [`restore ${file}: ${(err as Error).message}`] };
  }
}

// ------------------------------------------------------------------ dispatch

export async function execStep(step: FixStep, ctx: StepContext): Promise<StepOutcome> {
  if ('argv' in step) {
    if (step.rule) return execRule(step.rule, ctx);
    const nft = parseNftAdd(step.argv);
    if (nft) return execNft(step, nft, ctx);
    const sysctl = parseSysctlWrite(step.argv);
    if (sysctl) return execSysctl(step, sysctl, ctx);
    const ran: string[][] = [];
    const r = await run(step.argv, ctx, ran);
    return {
      status: r.ok ? 'done' : 'failed',
      exitCode: r.exitCode,
      ran,
      ...(r.ok ? {} : { message: r.reason ?? 'failed' }),
      ...(step.undo ? { inverse: step.undo } : {}),
    };
  }
  return execFile(step, ctx);
}

/** The inverse of one step. `maybe`: the doctor died during it, so it may or may not have run. */
export async function undoStep(step: FixStep, rec: StepRecord, ctx: StepContext, changeId: string): Promise<{ ok: boolean; lines: string[] }> {
  if ('argv' in step) {
    if (step.rule) return undoRule(step.rule, rec, ctx);
    const maybe = rec.status === 'running';
    const inverse = rec.inverse ?? (parseNftAdd(step.argv) ? undefined : step.undo);
    if (maybe && parseNftAdd(step.argv)) {
      return {
        ok: false,
        lines: [
          `${shellJoin(step.argv)} was interrupted: whether it ran is unknown and it left no handle; check \`nft list ruleset\` (the ruleset before the change is in the backup of ${changeId})`,
        ],
      };
    }
    if (!inverse) {
      return {
        ok: false,
        lines: [
          `${shellJoin(step.argv)} has no undo of its own; nothing was restored wholesale. To put whole tables back from the backup, run \`hagw-doctor undo ${changeId} --restore-backup\` (it shows every rule it would remove first)`,
        ],
      };
    }
    if (!inverse.length) return { ok: true, lines: [`${shellJoin(step.argv)}: nothing to undo (${step.why ?? 'it cannot be undone'})`] };
    const lines: string[] = [];
    let ok = true;
    for (const u of inverse) {
      const r = await runArgv(u, ctx.run);
      if (!r.ok && maybe) lines.push(`ran ${shellJoin(u)}: ${r.reason} (the interrupted step had likely not taken effect)`);
      else {
        if (!r.ok) ok = false;
        lines.push(`ran ${shellJoin(u)}${r.ok ? '' : `: ${r.reason}`}`);
      }
    }
    return { ok, lines };
  }
  return undoFile(step, rec, ctx);
}

/** How a step reads in a preview: the commands it will run, positions named by content. */
export function describeStep(step: FixStep): { label: string; undo: string[] } {
  if ('argv' in step && step.rule) {
    const r = step.rule;
    const b = shellJoin(base(r));
    const at = (spec: string[]) => `<position of: ${shellJoin(spec)}>`;
    switch (r.op) {
      case 'insert':
        return {
          label: `${b} -I ${r.chain} ${r.before ? at(r.before) : '1'} ${shellJoin(r.spec)}   (skipped if -C finds it already)`,
          undo: [`${b} -D ${r.chain} ${shellJoin(r.spec)}`],
        };
      case 'append':
        return { label: `${b} -A ${r.chain} ${shellJoin(r.spec)}   (skipped if -C finds it already)`, undo: [`${b} -D ${r.chain} ${shellJoin(r.spec)}`] };
      case 'delete':
        return { label: `${b} -D ${r.chain} ${shellJoin(r.spec)}`, undo: [`${b} -I ${r.chain} <position of the rule that followed it> ${shellJoin(r.spec)}`] };
      case 'replace':
        return {
          label: `${b} -I ${r.chain} ${at(r.spec)} ${shellJoin(r.with ?? [])} && ${b} -D ${r.chain} ${shellJoin(r.spec)}`,
          undo: [`${b} -I ${r.chain} ${at(r.with ?? [])} ${shellJoin(r.spec)}`, `${b} -D ${r.chain} ${shellJoin(r.with ?? [])}`],
        };
    }
  }
  if ('argv' in step) {
    const n = parseNftAdd(step.argv);
    if (n?.what === 'rule') return { label: shellJoin(step.argv), undo: [`nft delete rule ${n.family} ${n.table} ${n.chain} handle <the handle it gets>`] };
    if (n)
      return {
        label: `${shellJoin(step.argv)}   (skipped if it exists already)`,
        undo: [n.what === 'table' ? `nft delete table ${n.family} ${n.table}` : `nft delete chain ${n.family} ${n.table} ${n.chain}`],
      };
    const w = parseSysctlWrite(step.argv);
    if (w) return { label: `${shellJoin(step.argv)}   (skipped if it is ${w.value} already)`, undo: [`sysctl -w ${w.key}=<the value it has right before>`] };
    return { label: shellJoin(step.argv), undo: (step.undo ?? []).map(shellJoin) };
  }
  if ('write' in step) return { label: `write ${step.write.path}`, undo: [] };
  return { label: `remove ${step.remove.path}`, undo: [] };
}

/** Whether a step has an inverse of its own (else an undo cannot put it back surgically). */
export function hasOwnUndo(step: FixStep): boolean {
  if (!('argv' in step)) return true;
  return !!step.rule || !!parseNftAdd(step.argv) || !!parseSysctlWrite(step.argv) || !!step.undo;
}
