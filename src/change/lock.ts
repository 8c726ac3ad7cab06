// One change at a time: an O_EXCL lock file holding the owner's pid. A lock whose pid is dead
// (the doctor was killed) is taken over, and the caller is told so.
import { open, readFile, unlink, mkdir } from 'node:fs/promises';
import path from 'node:path';

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
  /** set when a stale lock of a dead process was taken over */
  tookOverFrom?: number;
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

async function readPid(file: string): Promise<number | null> {
  try {
    const n = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

export async function acquireLock(lockPath: string): Promise<Lock> {
  await mkdir(path.dirname(lockPath), { recursive: true });
  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(lockPath, 'wx', 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return {
        path: lockPath,
        ...(tookOverFrom !== undefined ? { tookOverFrom } : {}),
        release: async () => {
          if ((await readPid(lockPath)) === process.pid) await unlink(lockPath).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = await readPid(lockPath);
      if (pid !== null && pidAlive(pid)) throw new LockHeld(lockPath, pid);
      // a pid that is not yet written (owner between create and write) is given a moment
      if (pid === null && attempt === 0) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      tookOverFrom = pid ?? 0;
      await unlink(lockPath).catch(() => undefined);
    }
  }
  throw new LockHeld(lockPath, await readPid(lockPath));
}

/** Waits (polling) for the lock, for the rollback timer, which must not race a running apply. */
export async function waitForLock(lockPath: string, deadlineMs: number): Promise<Lock> {
  for (;;) {
    try {
      return await acquireLock(lockPath);
    } catch (err) {
      if (!(err instanceof LockHeld) || Date.now() > deadlineMs) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
