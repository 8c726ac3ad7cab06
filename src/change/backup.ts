// Backs up what a plan touches before its first step, and restores it: iptables tables
// (iptables-save -t T / iptables-restore -T T, which replaces only that table), the nft
// ruleset, sysctl values, files (content, mode, owner, or absence), IPv4 rules and routes.
import { lstat, readFile, readlink, writeFile } from 'node:fs/promises';
import { removeFileSafe, safeDirChain, writeFileSafe } from './fsafe.js';
import path from 'node:path';
import type { FixPlan } from '../types.js';
import { runArgv } from './exec.js';
import { rooted, type ChangePaths } from './paths.js';

export interface FileBackup {
  path: string;
  exists: boolean;
  isSymlink?: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  /** name of the saved copy inside the change directory */
  saved?: string;
}

export interface BackupIndex {
  iptables: Array<{ table: string; saved: string }>;
  nft?: { saved: string };
  sysctl: Array<{ key: string; value: string | null }>;
  files: FileBackup[];
  routes?: { rules: string; routes: string; rulesJson: string; routesJson: string };
}

export class BackupFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupFailed';
  }
}

/** Every file a plan touches: touches.files plus the paths of its write/remove steps. */
export function planFiles(plan: FixPlan): string[] {
  const set = new Set(plan.touches.files ?? []);
  for (const s of plan.steps) {
    if ('write' in s) set.add(s.write.path);
    if ('remove' in s) set.add(s.remove.path);
  }
  return [...set];
}

export function sysctlPath(key: string): string {
  if (!/^[\w.-]+$/.test(key) || key.includes('..')) throw new Error(`not a sysctl key: ${key}`);
  return path.join('/proc/sys', key.replace(/\./g, '/'));
}

async function must(argv: string[], what: string): Promise<string> {
  const r = await runArgv(argv, { timeoutMs: 20_000 });
  if (!r.ok) throw new BackupFailed(`cannot back up ${what}: ${argv.join(' ')}: ${r.reason}`);
  return r.stdout;
}

export async function takeBackup(plan: FixPlan, dir: string, paths: ChangePaths): Promise<BackupIndex> {
  const index: BackupIndex = { iptables: [], sysctl: [], files: [] };
  for (const table of plan.touches.iptables ?? []) {
    if (!/^[a-z]+$/.test(table)) throw new BackupFailed(`not an iptables table: ${table}`);
    const out = await must(['iptables-save', '-t', table], `iptables table ${table}`);
    if (!out.includes(`*${table}`)) throw new BackupFailed(`iptables-save -t ${table} printed no *${table} section`);
    const saved = `iptables-${table}.rules`;
    await writeFile(path.join(dir, saved), out, { mode: 0o600 });
    index.iptables.push({ table, saved });
  }
  if (plan.touches.nft) {
    const out = await must(['nft', 'list', 'ruleset'], 'the nft ruleset');
    await writeFile(path.join(dir, 'nft.ruleset'), out, { mode: 0o600 });
    index.nft = { saved: 'nft.ruleset' };
  }
  for (const key of plan.touches.sysctl ?? []) {
    let value: string | null = null;
    try {
      value = (await readFile(sysctlPath(key), 'utf8')).replace(/\n$/, '');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new BackupFailed(`cannot read sysctl ${key}: ${(err as Error).message}`);
    }
    index.sysctl.push({ key, value });
  }
  let n = 0;
  for (const file of planFiles(plan)) {
    const real = rooted(paths, file);
    try {
      // a symlinked target, or a directory above it that is a link or not root's, is refused
      // before anything runs: the change would land somewhere the preview did not show
      await safeDirChain(path.dirname(real), { createDirs: false }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw new BackupFailed(`refusing ${file}: ${err.message}`);
      });
      const st = await lstat(real);
      if (st.isSymbolicLink())
        throw new BackupFailed(`refusing ${file}: it is a symbolic link (to ${await readlink(real).catch(() => '?')}); the doctor never writes through links`);
      if (!st.isFile()) throw new BackupFailed(`${file} is not a regular file; a plan writes files only`);
      const saved = `file-${n++}`;
      await writeFile(path.join(dir, saved), await readFile(real), { mode: 0o600 });
      index.files.push({ path: file, exists: true, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, saved });
    } catch (err) {
      if (err instanceof BackupFailed) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new BackupFailed(`cannot back up ${file}: ${(err as Error).message}`);
      index.files.push({ path: file, exists: false });
    }
  }
  if (plan.touches.routes) {
    const rules = await must(['ip', '-4', 'rule', 'show'], 'ip rules');
    const routes = await must(['ip', '-4', 'route', 'show', 'table', 'all'], 'routes');
    const rulesJson = await must(['ip', '-j', 'rule', 'show'], 'ip rules');
    const routesJson = await must(['ip', '-j', 'route', 'show', 'table', 'all'], 'routes');
    const names = { rules: 'ip-rules.txt', routes: 'ip-routes.txt', rulesJson: 'ip-rules.json', routesJson: 'ip-routes.json' };
    await writeFile(path.join(dir, names.rules), rules, { mode: 0o600 });
    await writeFile(path.join(dir, names.routes), routes, { mode: 0o600 });
    await writeFile(path.join(dir, names.rulesJson), rulesJson, { mode: 0o600 });
    await writeFile(path.join(dir, names.routesJson), routesJson, { mode: 0o600 });
    index.routes = names;
  }
  return index;
}

// ------------------------------------------------------------------ restore

/** Writes a file atomically and without following links (fsafe.ts); returns the directories it created. */
export async function writeFileAtomic(real: string, content: string | Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<string[]> {
  return writeFileSafe(real, content, mode, owner);
}

export async function restoreFile(dir: string, paths: ChangePaths, f: FileBackup): Promise<string> {
  const real = rooted(paths, f.path);
  if (!f.exists) {
    await removeFileSafe(real);
    return `removed ${f.path} (it did not exist before)`;
  }
  const content = await readFile(path.join(dir, f.saved!));
  await writeFileAtomic(real, content, f.mode ?? 0o644, f.uid !== undefined && f.gid !== undefined ? { uid: f.uid, gid: f.gid } : undefined);
  return `restored ${f.path} from the backup`;
}

export async function restoreIptables(dir: string, e: { table: string; saved: string }): Promise<string> {
  const r = await runArgv(['iptables-restore', '-T', e.table, path.join(dir, e.saved)]);
  if (!r.ok) throw new Error(`iptables-restore -T ${e.table} failed: ${r.reason}`);
  return `restored iptables table ${e.table} from the backup`;
}

export async function restoreNft(dir: string, e: { saved: string }): Promise<string> {
  const saved = await readFile(path.join(dir, e.saved), 'utf8');
  const r = await runArgv(['nft', '-f', '-'], { input: `flush ruleset\n${saved}` });
  if (!r.ok) throw new Error(`nft -f failed: ${r.reason}`);
  return 'restored the nft ruleset from the backup';
}

export async function restoreSysctl(e: { key: string; value: string | null }): Promise<string> {
  if (e.value === null) return `sysctl ${e.key} did not exist; nothing to restore`;
  await writeFile(sysctlPath(e.key), e.value + '\n');
  return `restored sysctl ${e.key} = ${e.value}`;
}

const ROUTE_FLAGS = new Set(['linkdown', 'dead', 'offload', 'trap', 'rt_offload', 'rt_trap', 'rt_offload_failed']);

function routeLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/\bproto kernel\b/.test(l) && !/\btable local\b/.test(l))
    .map((l) =>
      l
        .split(/\s+/)
        .filter((w) => !ROUTE_FLAGS.has(w))
        .join(' '),
    );
}

function ruleLines(text: string): Array<{ pref: string; sel: string }> {
  return text
    .split('\n')
    .map((l) => /^(\d+):\s+(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ pref: m[1]!, sel: m[2]!.trim() }));
}

/** Puts IPv4 rules and routes back as saved: removes what was added, re-adds what was removed. */
export async function restoreRoutes(dir: string, e: NonNullable<BackupIndex['routes']>): Promise<string[]> {
  const actions: string[] = [];
  const failures: string[] = [];
  const run = async (argv: string[]) => {
    const r = await runArgv(argv);
    (r.ok ? actions : failures).push(`${argv.join(' ')}${r.ok ? '' : `: ${r.reason}`}`);
  };
  const savedRules = ruleLines(await readFile(path.join(dir, e.rules), 'utf8'));
  const nowRules = ruleLines((await runArgv(['ip', '-4', 'rule', 'show'])).stdout);
  const key = (r: { pref: string; sel: string }) => `${r.pref} ${r.sel}`;
  const savedSet = new Set(savedRules.map(key));
  const nowSet = new Set(nowRules.map(key));
  for (const r of nowRules) if (!savedSet.has(key(r))) await run(['ip', '-4', 'rule', 'del', 'pref', r.pref, ...r.sel.split(/\s+/)]);
  for (const r of savedRules) if (!nowSet.has(key(r))) await run(['ip', '-4', 'rule', 'add', 'pref', r.pref, ...r.sel.split(/\s+/)]);
  const savedRoutes = routeLines(await readFile(path.join(dir, e.routes), 'utf8'));
  const nowRoutes = routeLines((await runArgv(['ip', '-4', 'route', 'show', 'table', 'all'])).stdout);
  const sr = new Set(savedRoutes);
  const nr = new Set(nowRoutes);
  for (const l of nowRoutes) if (!sr.has(l)) await run(['ip', '-4', 'route', 'del', ...l.split(' ')]);
  for (const l of savedRoutes) if (!nr.has(l)) await run(['ip', '-4', 'route', 'add', ...l.split(' ')]);
  if (failures.length) throw new Error(`could not restore every rule/route: ${failures.join('; ')}`);
  return actions.length ? actions.map((a) => `ran ${a}`) : ['rules and routes already as saved'];
}
