// The full preview of a plan before anything runs: exact commands (shell-quoted for display
// only), file diffs against the current content, the risk, persistence, and what cannot be undone.
import { lstatSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FixPlan, Snapshot } from '../types.js';
import { planFiles } from './backup.js';
import { unifiedDiff } from './diff.js';
import { changePaths, rooted, type ChangePaths } from './paths.js';
import { describeStep, hasOwnUndo, sha256 } from './steps.js';
import { confirmWordFor } from './confirm.js';

export interface PreviewStep {
  index: number;
  kind: 'command' | 'write' | 'remove';
  /** the command line, or "write PATH" / "remove PATH" */
  label: string;
  why?: string;
  optional: boolean;
  /** undo commands, shell-quoted for display; empty when undone from the backup */
  undo: string[];
  undoFromBackup: boolean;
  path?: string;
  mode?: string;
  /** unified diff against the file's current content ('' when unchanged) */
  diff?: string;
  /** the file does not exist yet (write) or no longer (remove) */
  fileIsNew?: boolean;
  /** where the write would really land, when that is not the path itself (or why it is refused) */
  realTarget?: string;
}

export interface PreviewModel {
  summary: string;
  risk: 'safe' | 'disruptive';
  persistence: { persistent: boolean; how: string };
  verifies: string[];
  steps: PreviewStep[];
  /** what is saved before the first step */
  backup: string[];
  /** what an undo cannot bring back */
  irreversible: string[];
  /** what a disruptive plan asks the user to type on a terminal */
  confirmWord: string | null;
  /** sha256 of each file's content as shown (null: absent): apply writes only while it is still so */
  fileHashes: Record<string, string | null>;
}

export { CONFIRM_WORD, confirmAccepted } from './confirm.js';

/** Where the preview reads a file's current content and mode: the host (under the change paths' root) or a recorded snapshot. */
interface FileSource {
  content(file: string): string | null;
  mode(file: string): number | null;
  realTarget(file: string): string | undefined;
  hash(file: string): string | null;
}

function hostFiles(paths: ChangePaths): FileSource {
  return {
    content: (f) => currentContent(paths, f),
    mode: (f) => currentMode(paths, f),
    realTarget: (f) => realTarget(paths, f),
    hash: (f) => fileHash(paths, f),
  };
}

/** A recorded snapshot's files (the demo, --from): what the host had then; nothing here is ever applied. */
function recordedFiles(snapshot: Snapshot): FileSource {
  const content = (f: string) => {
    const r = (snapshot.probes as Snapshot['probes'] | undefined)?.[`file:${f}`];
    return r?.status === 'ok' ? r.stdout : null;
  };
  return { content, mode: () => null, realTarget: () => undefined, hash: (f) => (content(f) === null ? null : sha256(content(f)!)) };
}

function currentContent(paths: ChangePaths, file: string): string | null {
  try {
    return readFileSync(rooted(paths, file), 'utf8');
  } catch {
    return null;
  }
}

/** A symlinked target or directory is refused at apply time: the preview says so and names the real file. */
function realTarget(paths: ChangePaths, file: string): string | undefined {
  const real = rooted(paths, file);
  let cur = real;
  try {
    for (;;) {
      const st = lstatSync(cur);
      if (st.isSymbolicLink()) {
        let to = '';
        try {
          to = realpathSync(real);
        } catch {
          to = readlinkSync(cur);
        }
        return `REFUSED at apply: ${cur} is a symbolic link (the write would land in ${to}); the doctor never writes through links`;
      }
      if (cur === '/' || cur === path.dirname(cur)) return undefined;
      cur = path.dirname(cur);
    }
  } catch {
    const parent = path.dirname(cur);
    if (parent === cur) return undefined;
    return realTargetOfParent(parent, real);
  }
}

function realTargetOfParent(dir: string, real: string): string | undefined {
  try {
    const r = realpathSync(dir);
    if (r !== dir)
      return `REFUSED at apply: ${dir} resolves to ${r} through a symbolic link (the write would land under ${path.join(r, path.relative(dir, real))})`;
  } catch {
    /* a missing directory is created */
  }
  return undefined;
}

function currentMode(paths: ChangePaths, file: string): number | null {
  try {
    return statSync(rooted(paths, file)).mode & 0o7777;
  } catch {
    return null;
  }
}

const octal = (n: number) => n.toString(8).padStart(4, '0');

/** The preview of a plan against this host's files, or (recorded) against a snapshot's. */
export function planPreview(plan: FixPlan, opts: { paths?: ChangePaths; recorded?: Snapshot } = {}): PreviewModel {
  const files = opts.recorded ? recordedFiles(opts.recorded) : hostFiles(opts.paths ?? changePaths());
  const steps: PreviewStep[] = plan.steps.map((s, index) => {
    if ('argv' in s) {
      const d = describeStep(s);
      return {
        index,
        kind: 'command',
        label: d.label,
        ...(s.why ? { why: s.why } : {}),
        optional: s.optional === true,
        undo: d.undo,
        undoFromBackup: !hasOwnUndo(s),
      };
    }
    if ('write' in s) {
      const before = files.content(s.write.path);
      const mode = s.write.mode ?? files.mode(s.write.path) ?? 0o644;
      return {
        index,
        kind: 'write',
        label: `write ${s.write.path}`,
        ...(s.why ? { why: s.why } : {}),
        optional: false,
        undo: [],
        undoFromBackup: true,
        path: s.write.path,
        mode: octal(mode),
        diff: unifiedDiff(before ?? '', s.write.content, { fromLabel: before === null ? '/dev/null' : `a${s.write.path}`, toLabel: `b${s.write.path}` }),
        fileIsNew: before === null,
        ...(files.realTarget(s.write.path) ? { realTarget: files.realTarget(s.write.path)! } : {}),
      };
    }
    const before = files.content(s.remove.path);
    return {
      index,
      kind: 'remove',
      label: `remove ${s.remove.path}`,
      ...(s.why ? { why: s.why } : {}),
      optional: false,
      undo: [],
      undoFromBackup: true,
      path: s.remove.path,
      diff: before === null ? '' : unifiedDiff(before, '', { fromLabel: `a${s.remove.path}`, toLabel: '/dev/null' }),
      fileIsNew: before === null,
      ...(files.realTarget(s.remove.path) ? { realTarget: files.realTarget(s.remove.path)! } : {}),
    };
  });
  const t = plan.touches;
  const backup = [
    ...(t.iptables ?? []).map((x) => `iptables table ${x} (iptables-save -t ${x})`),
    ...(t.nft ? ['the nft ruleset (nft list ruleset)'] : []),
    ...(t.sysctl ?? []).map((k) => `sysctl ${k}`),
    ...planFiles(plan).map((f) => `file ${f} (content, mode, owner)`),
    ...(t.routes ? ['IPv4 rules and routes (ip rule, ip route show table all)'] : []),
  ];
  const irreversible = [...(t.conntrack ? ['deleted conntrack entries: the kernel re-creates them only from new traffic'] : [])];
  return {
    summary: plan.summary,
    risk: plan.risk,
    persistence: plan.persistence,
    verifies: plan.verifies,
    steps,
    backup,
    irreversible,
    confirmWord: confirmWordFor(plan),
    fileHashes: Object.fromEntries(planFiles(plan).map((f) => [f, files.hash(f)])),
  };
}

function fileHash(paths: ChangePaths, file: string): string | null {
  try {
    return sha256(readFileSync(rooted(paths, file)));
  } catch {
    return null;
  }
}

export function renderPreview(model: PreviewModel, opts: { color?: boolean } = {}): string {
  const c = opts.color ?? false;
  const bold = (s: string) => (c ? `\x1b[1m${s}\x1b[22m` : s);
  const red = (s: string) => (c ? `\x1b[31m${s}\x1b[39m` : s);
  const green = (s: string) => (c ? `\x1b[32m${s}\x1b[39m` : s);
  const out: string[] = [];
  out.push(bold(`Plan: ${model.summary}`));
  out.push(`Risk: ${model.risk === 'disruptive' ? red('disruptive (can cut this session: filter rules, addresses, routes, restarts)') : 'safe'}`);
  out.push(`Persistence: ${model.persistence.persistent ? 'survives a reboot' : 'runtime only, lost at reboot'}: ${model.persistence.how}`);
  if (model.verifies.length) out.push(`Success means the re-check no longer reports: ${model.verifies.join(', ')}`);
  out.push('', bold('Steps, in order:'));
  for (const s of model.steps) {
    const n = `${s.index + 1}.`;
    if (s.kind === 'command') {
      out.push(`  ${n} ${s.label}${s.optional ? '   (optional: a failure is tolerated)' : ''}`);
    } else if (s.kind === 'write') {
      out.push(`  ${n} ${s.fileIsNew ? 'create' : 'replace'} ${s.path} (mode ${s.mode})`);
    } else {
      out.push(`  ${n} remove ${s.path}${s.fileIsNew ? ' (already absent)' : ''}`);
    }
    if (s.realTarget) out.push(`     ${red(s.realTarget)}`);
    if (s.why) out.push(`     why: ${s.why}`);
    if (s.kind === 'command')
      out.push(
        `     undo: ${s.undo.length ? s.undo.join(' && ') : s.undoFromBackup ? 'none of its own (an undo will say so; whole tables are restored only on request)' : 'nothing to undo'}`,
      );
    else out.push('     undo: the file as it was (only while it still holds what this step wrote)');
    if (s.diff) {
      for (const line of s.diff.replace(/\n$/, '').split('\n')) {
        const colored = line.startsWith('+') && !line.startsWith('+++') ? green(line) : line.startsWith('-') && !line.startsWith('---') ? red(line) : line;
        out.push(`     ${colored}`);
      }
    } else if (s.kind === 'write') {
      out.push('     (content unchanged)');
    }
  }
  out.push('', bold('Backed up before the first step:'));
  for (const b of model.backup.length ? model.backup : ['nothing (every step has its own undo)']) out.push(`  - ${b}`);
  if (model.irreversible.length) {
    out.push('', bold('Cannot be undone:'));
    for (const i of model.irreversible) out.push(`  - ${i}`);
  }
  return out.join('\n') + '\n';
}
