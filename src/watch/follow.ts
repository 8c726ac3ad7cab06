// Followers: a file read from its end as it grows (inotify through fs.watch, with a slow stat as a
// safety net for rotation), and a long-running command read line by line. Both bounded: a line is
// cut at MAX_LINE bytes, a read at MAX_READ, and a child always has an argv, never a shell.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';

const MAX_LINE = 8 * 1024;
const MAX_READ = 1024 * 1024;

export interface Follower {
  stop(): void;
}

/** Splits chunks into lines; a line longer than MAX_LINE is cut (its rest dropped). */
export class LineSplitter {
  private buf = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.onLine(line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line);
    }
    if (this.buf.length > MAX_LINE) this.buf = this.buf.slice(0, MAX_LINE);
  }
}

/** Follows `file` from its current end (`fromStart`: from the beginning). Survives truncation and
 *  rotation (a new inode is read from its start). */
export function followFile(
  file: string,
  onLine: (line: string) => void,
  opts: { fromStart?: boolean; pollMs?: number; onError?: (msg: string) => void } = {},
): Follower & { ready: Promise<void> } {
  let fh: FileHandle | undefined;
  let ino = -1;
  let pos = 0;
  let stopped = false;
  let reading = false;
  let again = false;
  let watcher: FSWatcher | undefined;
  const split = new LineSplitter(onLine);

  const reopen = async (atEnd: boolean) => {
    await fh?.close().catch(() => undefined);
    fh = undefined;
    try {
      fh = await open(file, 'r');
      const st = await fh.stat();
      ino = st.ino;
      pos = atEnd ? st.size : 0;
      watcher?.close();
      watcher = undefined;
      try {
        watcher = watch(file, { persistent: false }, () => void read());
      } catch {
        /* the poll below still reads it */
      }
    } catch (err) {
      fh = undefined;
      opts.onError?.(`cannot read ${file}: ${(err as Error).message}`);
    }
  };

  const read = async (): Promise<void> => {
    if (stopped) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const st = await stat(file).catch(() => undefined);
        if (!st) continue;
        if (!fh || st.ino !== ino) await reopen(false);
        else if (st.size < pos) pos = 0; // truncated: read again from the start
        if (!fh) continue;
        while (!stopped) {
          const buf = Buffer.alloc(Math.min(MAX_READ, 64 * 1024));
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead <= 0) break;
          pos += bytesRead;
          split.push(buf.subarray(0, bytesRead).toString('utf8'));
        }
      } while (again && !stopped);
    } catch (err) {
      opts.onError?.(`reading ${file}: ${(err as Error).message}`);
    } finally {
      reading = false;
    }
  };

  // ready: the file is open and its end is known, so every line written from now on is read
  const ready = reopen(!opts.fromStart).then(() => (opts.fromStart ? read() : undefined));
  const timer = setInterval(() => void read(), opts.pollMs ?? 2000);
  timer.unref();
  return {
    ready,
    stop() {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
      void fh?.close().catch(() => undefined);
    },
  };
}

/** Runs argv (no shell, LC_ALL=C) and hands each stdout line over; onExit when it ends by itself. */
export function followCommand(
  argv: readonly string[],
  onLine: (line: string) => void,
  opts: { onExit?: (code: number | null, stderr: string) => void } = {},
): Follower & { child: ChildProcess } {
  const [file, ...args] = argv;
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', LANG: 'C' } });
  let stopped = false;
  let stderr = '';
  const split = new LineSplitter(onLine);
  child.stdout!.setEncoding('utf8').on('data', (d: string) => split.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  child.on('error', (err) => {
    if (!stopped) opts.onExit?.(null, err.message);
    stopped = true;
  });
  child.on('close', (code) => {
    if (!stopped) opts.onExit?.(code, stderr.trim());
    stopped = true;
  });
  return {
    child,
    stop() {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
