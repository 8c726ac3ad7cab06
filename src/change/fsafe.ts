// Writing files as root without being led elsewhere: no symlink is followed, neither the target
// nor any directory above it, and (for the change engine) every directory above it is owned by
// root, so nobody but root can swap one for a link between our check and our write. A file is
// written to a temporary name in its own directory (same filesystem), fsynced, then renamed over
// the target: readers see the old or the new file, never half of one.
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, realpath, rename, rm, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export class UnsafePath extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafePath';
  }
}

export interface SafeOptions {
  /** 'root': every directory above the target must be owned by root (or by us when not root);
   *  'any': any owner (generate writes where the operator asks), links are still refused */
  owners?: 'root' | 'any';
  /** create missing directories (mode 0755); default true */
  createDirs?: boolean;
}

function ownerOk(uid: number, opts: SafeOptions): boolean {
  if ((opts.owners ?? 'root') === 'any') return true;
  const me = process.geteuid?.() ?? 0;
  return uid === 0 || uid === me;
}

/** Checks every directory from / down to dir (creating missing ones when allowed); returns the ones created. */
export async function safeDirChain(dir: string, opts: SafeOptions = {}): Promise<string[]> {
  const abs = path.resolve(dir);
  const parts = abs.split('/').filter(Boolean);
  const created: string[] = [];
  let cur = '/';
  for (const part of ['', ...parts]) {
    cur = part ? path.join(cur, part) : '/';
    let st;
    try {
      st = await lstat(cur);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || opts.createDirs === false) throw err;
      await mkdir(cur, { mode: 0o755 });
      created.push(cur);
      st = await lstat(cur);
    }
    if (st.isSymbolicLink()) {
      const to = await readlink(cur).catch(() => '?');
      throw new UnsafePath(`${cur} is a symbolic link (to ${to}); refusing to write through it`);
    }
    if (!st.isDirectory()) throw new UnsafePath(`${cur} is not a directory`);
    if (!ownerOk(st.uid, opts)) throw new UnsafePath(`${cur} is owned by uid ${st.uid}, not root; refusing to write below it`);
  }
  return created;
}

/** Refuses a target that is a symlink or not a regular file. */
export async function checkTarget(real: string): Promise<'absent' | 'file'> {
  try {
    const st = await lstat(real);
    if (st.isSymbolicLink()) {
      const to = await readlink(real).catch(() => '?');
      throw new UnsafePath(`${real} is a symbolic link (to ${to}); refusing to write through it`);
    }
    if (!st.isFile()) throw new UnsafePath(`${real} is not a regular file`);
    return 'file';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
}

/** Writes a file with no-follow semantics (see the top of this file); returns the directories it created. */
export async function writeFileSafe(
  real: string,
  content: string | Buffer,
  mode: number,
  owner?: { uid: number; gid: number },
  opts: SafeOptions = {},
): Promise<string[]> {
  const dir = path.dirname(real);
  const created = await safeDirChain(dir, opts);
  await checkTarget(real);
  const tmp = path.join(dir, `.${path.basename(real)}.hagw-${process.pid}-${randomBytes(3).toString('hex')}`);
  // O_EXCL|O_NOFOLLOW: never an existing file, never a link
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(content);
    await fh.chmod(mode);
    if (owner) await fh.chown(owner.uid, owner.gid);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await checkTarget(real);
    await rename(tmp, real);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    // a file that is itself a mount point (bind-mounted into a container, or a network namespace's
    // /etc by `ip netns exec`) cannot be replaced by rename: rewrite it in place, never through a link
    if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
    const inPlace = await open(real, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
    try {
      await inPlace.writeFile(content);
      await inPlace.chmod(mode);
      if (owner) await inPlace.chown(owner.uid, owner.gid);
      await inPlace.sync();
    } finally {
      await inPlace.close();
    }
  }
  await syncDir(dir);
  return created;
}

/** Removes a file (never through a link; a missing file is fine). */
export async function removeFileSafe(real: string, opts: SafeOptions = {}): Promise<void> {
  await safeDirChain(path.dirname(real), { ...opts, createDirs: false }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  const kind = await checkTarget(real);
  if (kind === 'absent') return;
  await rm(real, { force: true });
}

export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await fh.sync().catch(() => undefined);
    await fh.close();
  } catch {
    /* best effort */
  }
}

/** For previews: what a write to `real` would really touch ('' when the path is plain). */
export async function describeRealTarget(real: string, opts: SafeOptions = {}): Promise<string> {
  try {
    await safeDirChain(path.dirname(real), { ...opts, createDirs: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    return `REFUSED: ${(err as Error).message}`;
  }
  try {
    await checkTarget(real);
  } catch (err) {
    const to = await realpath(real).catch(() => '');
    return `REFUSED: ${(err as Error).message}${to ? ` (really ${to})` : ''}`;
  }
  return '';
}
