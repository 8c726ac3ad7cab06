// A change on disk: changes/ID/manifest.json plus the backup files next to it.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { FixPlan } from '../types.js';
import type { BackupIndex } from './backup.js';
import { inodeFromLink, type NodeId } from './node.js';

export const MANIFEST_SCHEMA = 'hagw-doctor.change/v1';

/** applying: steps are running (or the doctor died while they ran); pending: applied, awaiting
 *  `confirm` before the timer rolls it back; confirmed: kept; rolled-back: applied then undone;
 *  failed: a step failed and what ran was rolled back. */
export type ChangeState = 'applying' | 'pending' | 'confirmed' | 'rolled-back' | 'failed';

/** already: its precondition showed it in place, so it did nothing (and has nothing to undo);
 *  moved: the host no longer matched what the step expected, so it stopped the change. */
export type StepStatus = 'not-run' | 'running' | 'done' | 'failed' | 'tolerated' | 'undone' | 'undo-failed' | 'restored' | 'already' | 'moved';

export interface StepRecord {
  index: number;
  status: StepStatus;
  exitCode?: number | null;
  message?: string;
  /** directories a file write created, removed again on undo when empty */
  createdDirs?: string[];
  /** the argv commands this step really ran (rule positions resolved at apply time) */
  ran?: string[][];
  /** its exact inverse, decided at apply time from what the step did (content, handles) */
  inverse?: string[][];
  /** for a rule deleted by content: the rule that followed it, to put it back in its place */
  after?: string[] | null;
  /** sha256 of what a file step wrote: undo restores the file only while it still holds this */
  wroteSha256?: string;
  /** the process group of the step in flight (undo ends it first) and its start time */
  pid?: number;
  pidStart?: string;
}

export interface RollbackRecord {
  at: string;
  reason: 'step-failed' | 'recheck' | 'signal' | 'timer' | 'overdue' | 'undo' | 'error' | 'moved' | 'restore-backup';
  ok: boolean;
  actions: string[];
}

export interface ChangeManifest {
  schema: typeof MANIFEST_SCHEMA;
  id: string;
  who: { user: string; uid: number; sudoUser?: string; ssh?: string };
  when: string;
  host: string;
  /** v1: readlink of /proc/self/ns/net; v2 keeps that too */
  netns: string;
  /** the node the change was made on (v2; derived from host + netns for v1) */
  node: NodeId;
  findings: string[];
  plan: FixPlan;
  state: ChangeState;
  updatedAt: string;
  steps: StepRecord[];
  backup: BackupIndex;
  /** deadline: wall clock, for people; bootId + deadlineUptimeMs: the monotonic deadline that decides */
  confirm?: { seconds: number; deadline: string; bootId?: string; deadlineUptimeMs?: number; timerPid?: number; confirmedAt?: string };
  result?: string;
  rollbacks: RollbackRecord[];
}

/** Sortable: UTC timestamp, then a short random suffix. */
export function newChangeId(now = new Date()): string {
  const t = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace('T', '-')
    .replace(/\.(\d{3})Z$/, '.$1');
  return `${t}-${randomBytes(2).toString('hex')}`;
}

export function whoAmI(env: NodeJS.ProcessEnv = process.env): ChangeManifest['who'] {
  let user = env.USER ?? '';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry (containers): keep $USER */
  }
  const ssh = env.SSH_CONNECTION ?? env.SSH_CLIENT;
  return {
    user: user || `uid ${process.getuid?.() ?? -1}`,
    uid: process.getuid?.() ?? -1,
    ...(env.SUDO_USER ? { sudoUser: env.SUDO_USER } : {}),
    ...(ssh ? { ssh } : {}),
  };
}

export function changeDir(changesDir: string, id: string): string {
  if (!/^[\w.-]+$/.test(id)) throw new Error(`not a change id: ${id}`);
  return path.join(changesDir, id);
}

export async function writeManifest(dir: string, m: ChangeManifest): Promise<void> {
  m.updatedAt = new Date().toISOString();
  const tmp = path.join(dir, `.manifest.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(m, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path.join(dir, 'manifest.json'));
}

export class ManifestInvalid extends Error {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`${path.join(dir, 'manifest.json')} is not a valid hagw-doctor change manifest (${reason}); it is left as it is`);
    this.name = 'ManifestInvalid';
  }
}

const argvSchema = z.array(z.string()).min(1);
const stepSchema = z.union([
  z.looseObject({
    argv: argvSchema,
    undo: z.array(z.array(z.string())).optional(),
    optional: z.boolean().optional(),
    why: z.string().optional(),
    rule: z.looseObject({}).optional(),
  }),
  z.looseObject({
    write: z.looseObject({ path: z.string().startsWith('/'), content: z.string(), mode: z.number().int().optional() }),
    why: z.string().optional(),
  }),
  z.looseObject({ remove: z.looseObject({ path: z.string().startsWith('/') }), why: z.string().optional() }),
]);
const nodeSchema = z.looseObject({
  netnsInode: z.number(),
  netnsDev: z.number(),
  netnsName: z.string().nullable(),
  hostname: z.string(),
  bootId: z.string(),
  initNetns: z.boolean().optional(),
});
const manifestSchema = z.looseObject({
  schema: z.literal(MANIFEST_SCHEMA),
  id: z.string().regex(/^[\w.-]+$/),
  who: z.looseObject({ user: z.string(), uid: z.number() }),
  when: z.string(),
  host: z.string(),
  netns: z.string(),
  node: nodeSchema.optional(),
  findings: z.array(z.string()),
  plan: z.looseObject({
    summary: z.string(),
    risk: z.enum(['safe', 'disruptive']),
    steps: z.array(stepSchema).min(1),
    touches: z.looseObject({}),
    persistence: z.looseObject({ persistent: z.boolean(), how: z.string() }),
    verifies: z.array(z.string()),
  }),
  state: z.enum(['applying', 'pending', 'confirmed', 'rolled-back', 'failed']),
  updatedAt: z.string(),
  steps: z.array(z.looseObject({ index: z.number().int(), status: z.string() })),
  backup: z.looseObject({
    iptables: z.array(z.looseObject({ table: z.string(), saved: z.string() })),
    sysctl: z.array(z.looseObject({})),
    files: z.array(z.looseObject({ path: z.string(), exists: z.boolean() })),
  }),
  confirm: z.looseObject({ seconds: z.number(), deadline: z.string() }).optional(),
  rollbacks: z.array(z.looseObject({ at: z.string(), ok: z.boolean(), actions: z.array(z.string()) })),
});

/** Reads and validates a manifest; throws ManifestInvalid (one line) for anything unreadable. */
export async function readManifest(dir: string): Promise<ChangeManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ManifestInvalid(dir, e.code === 'ENOENT' ? 'missing' : e instanceof SyntaxError ? 'not JSON' : e.message);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ManifestInvalid(dir, issue ? `${issue.path.join('.') || 'top level'}: ${issue.message}` : 'invalid');
  }
  const m = r.data as unknown as ChangeManifest;
  if (m.steps.length !== m.plan.steps.length) throw new ManifestInvalid(dir, 'steps and plan steps differ in number');
  // v1 manifests: the node from the recorded host and namespace link (no boot id: matched by name)
  m.node ??= { netnsInode: inodeFromLink(m.netns), netnsDev: 0, netnsName: null, hostname: m.host, bootId: '' };
  return m;
}

/** Every change, oldest first (ids sort by time); invalid manifests are reported in `invalid`. */
export async function scanChanges(changesDir: string): Promise<{ changes: ChangeManifest[]; invalid: ManifestInvalid[] }> {
  let names: string[];
  try {
    names = await readdir(changesDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { changes: [], invalid: [] };
    throw err;
  }
  const changes: ChangeManifest[] = [];
  const invalid: ManifestInvalid[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    try {
      changes.push(await readManifest(path.join(changesDir, name)));
    } catch (err) {
      if (err instanceof ManifestInvalid) invalid.push(err);
    }
  }
  return { changes, invalid };
}

/** Every readable change, oldest first (ids sort by time). */
export async function listChanges(changesDir: string): Promise<ChangeManifest[]> {
  let names: string[];
  try {
    names = await readdir(changesDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: ChangeManifest[] = [];
  for (const name of names.sort()) {
    try {
      out.push(await readManifest(path.join(changesDir, name)));
    } catch {
      /* a directory without a readable manifest is not a change */
    }
  }
  return out;
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}
