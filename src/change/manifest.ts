// A change on disk: changes/ID/manifest.json plus the backup files next to it.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { FixPlan } from '../types.js';
import type { BackupIndex } from './backup.js';

export const MANIFEST_SCHEMA = 'hagw-doctor.change/v1';

/** applying: steps are running (or the doctor died while they ran); pending: applied, awaiting
 *  `confirm` before the timer rolls it back; confirmed: kept; rolled-back: applied then undone;
 *  failed: a step failed and what ran was rolled back. */
export type ChangeState = 'applying' | 'pending' | 'confirmed' | 'rolled-back' | 'failed';

export type StepStatus = 'not-run' | 'running' | 'done' | 'failed' | 'tolerated' | 'undone' | 'undo-failed' | 'restored';

export interface StepRecord {
  index: number;
  status: StepStatus;
  exitCode?: number | null;
  message?: string;
  /** directories a file write created, removed again on undo when empty */
  createdDirs?: string[];
}

export interface RollbackRecord {
  at: string;
  reason: 'step-failed' | 'recheck' | 'signal' | 'timer' | 'undo' | 'error';
  ok: boolean;
  actions: string[];
}

export interface ChangeManifest {
  schema: typeof MANIFEST_SCHEMA;
  id: string;
  who: { user: string; uid: number; sudoUser?: string; ssh?: string };
  when: string;
  host: string;
  netns: string;
  findings: string[];
  plan: FixPlan;
  state: ChangeState;
  updatedAt: string;
  steps: StepRecord[];
  backup: BackupIndex;
  confirm?: { seconds: number; deadline: string; timerPid?: number; confirmedAt?: string };
  result?: string;
  rollbacks: RollbackRecord[];
}

/** Sortable: UTC timestamp, then a short random suffix. */
export function newChangeId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\.(\d{3})Z$/, '.$1');
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

export async function readManifest(dir: string): Promise<ChangeManifest> {
  const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as ChangeManifest;
  if (m.schema !== MANIFEST_SCHEMA) throw new Error(`${dir}: not a hagw-doctor change manifest`);
  return m;
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
