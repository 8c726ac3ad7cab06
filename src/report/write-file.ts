// `check -o FILE`: the report replaces FILE atomically. node_exporter's textfile collector may read
// the file at any moment; it must see the old run or the new one, never half of one. So: a new
// file next to the target (same file system, created exclusively so nothing else's file is
// reused or followed through a symlink), written, flushed, made 0644, then renamed over FILE.
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * FILE is a device, a FIFO or a socket (`-o /dev/null`, `-o /dev/stdout`): written to in place,
 * never replaced. A rename over it would put a regular file where /dev/null was, for every process
 * on the host. Returns false when FILE is absent, a regular file, or a link to one.
 */
export async function writeInPlaceIfSpecial(file: string, text: string): Promise<boolean> {
  const st = await stat(file).catch(() => undefined);
  if (!st || st.isFile()) return false;
  if (st.isDirectory()) throw new Error(`${file} is a directory`);
  const fh = await open(file, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_NOCTTY);
  try {
    await fh.writeFile(text, 'utf8');
  } finally {
    await fh.close();
  }
  return true;
}

export async function writeFileAtomic(file: string, text: string, mode = 0o644): Promise<void> {
  if (await writeInPlaceIfSpecial(file, text)) return;
  const target = path.resolve(file);
  // not *.prom: the collector ignores the temporary file if it ever sees it
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  let renamed = false;
  try {
    await fh.writeFile(text, 'utf8');
    await fh.chmod(mode); // the umask may have narrowed the mode given to open
    await fh.sync();
    await fh.close();
    await rename(tmp, target);
    renamed = true;
  } finally {
    if (!renamed) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    }
  }
}
