// One change at a time: flock(2) on an open descriptor of the lock file. The kernel owns the lock:
// it is dropped when the descriptor closes, also when the doctor is killed, so there is never a
// "stale" lock to take over (and no takeover race between two doctors).
//
// Node has no flock binding without a compiler, so util-linux's `flock(1)` does the system call
// on our descriptor, passed to it as its fd 3: a flock lock belongs to the open file description,
// which the child shares with us; when the child exits, our descriptor keeps the lock until we
// close it (or die). The file itself is never removed (removing a flock file races).
import { constants } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { COMMAND_ENV } from '../probes/run.js';

export class LockHeld extends Error {
  constructor(
    readonly lockPath: string,
    readonly pid: number | null,
  ) {
    super(`another hagw-doctor change is in progress (${lockPath}${pid ? `, pid ${pid}` : ''}); one change at a time`);
    this.name = 'LockHeld';
  }
}

export interface Lock {
  path: string;
  release(): Promise<void>;
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function openLockFile(lockPath: string): Promise<FileHandle> {
  await mkdir(path.dirname(lockPath), { recursive: true });
  // O_NOFOLLOW: a symlink planted at the lock path must not make us create or truncate another file
  return open(lockPath, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
}

async function holderPid(fh: FileHandle): Promise<number | null> {
  try {
    const buf = Buffer.alloc(32);
    const { bytesRead } = await fh.read(buf, 0, 32, 0);
    const n = Number.parseInt(buf.subarray(0, bytesRead).toString('utf8').trim(), 10);
    return Number.isFinite(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** flock(1) on our descriptor: 0 locked, 1 held by someone else (within waitSeconds). */
async function flockFd(fh: FileHandle, waitSeconds: number): Promise<'locked' | 'held'> {
  const args = waitSeconds > 0 ? ['--exclusive', '--wait', String(waitSeconds), '3'] : ['--exclusive', '--nonblock', '3'];
  const r = await new Promise<{ code: number | null; err?: string; stderr: string }>((resolve) => {
    const child = spawn('flock', args, { stdio: ['ignore', 'ignore', 'pipe', fh.fd], env: { ...process.env, ...COMMAND_ENV } });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (waitSeconds + 10) * 1000);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ code: null, err: e.code === 'ENOENT' ? 'flock (util-linux) is not installed' : e.message, stderr });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
  if (r.code === 0) return 'locked';
  if (r.code === 1) return 'held';
  throw new Error(r.err ?? `flock failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}

async function take(lockPath: string, waitSeconds: number): Promise<Lock> {
  const fh = await openLockFile(lockPath);
  let state: 'locked' | 'held';
  try {
    state = await flockFd(fh, waitSeconds);
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
  if (state === 'held') {
    const pid = await holderPid(fh);
    await fh.close().catch(() => undefined);
    throw new LockHeld(lockPath, pid);
  }
  // who holds it, for the message another doctor prints (informative only: the lock is the flock)
  await fh.truncate(0).catch(() => undefined);
  await fh.write(`${process.pid}\n`, 0).catch(() => undefined);
  let released = false;
  return {
    path: lockPath,
    release: async () => {
      if (released) return;
      released = true;
      await fh.truncate(0).catch(() => undefined);
      await fh.close().catch(() => undefined);
    },
  };
}

export async function acquireLock(lockPath: string): Promise<Lock> {
  return take(lockPath, 0);
}

/** Waits (in the kernel) for the lock, up to the deadline; for the rollback timer and confirm. */
export async function waitForLock(lockPath: string, deadlineMs: number): Promise<Lock> {
  const seconds = Math.max(1, Math.ceil((deadlineMs - Date.now()) / 1000));
  return take(lockPath, seconds);
}
