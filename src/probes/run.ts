// Runs one probe. A probe never throws: whatever happens becomes a ProbeRecord.
import { execa } from 'execa';
import { open, opendir, lstat, stat, statfs } from 'node:fs/promises';
import { constants as fsc, type Stats } from 'node:fs';
import path from 'node:path';
import type { FileStat, ProbeRecord, ProbeSpec } from '../types.js';

export const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/** The environment every external command runs with: C locale so output formats are the documented ones. */
export const COMMAND_ENV = { LC_ALL: 'C', LANG: 'C' } as const;

/** The record of a probe before its outcome is known: its id, kind and what it ran or read. */
export function recordFor(spec: ProbeSpec, ms = 0): ProbeRecord {
  return {
    id: spec.id,
    kind: spec.kind,
    ...(spec.kind === 'command' ? { argv: spec.argv } : {}),
    ...(spec.kind === 'file' || spec.kind === 'dir' || spec.kind === 'stat' ? { path: spec.path } : {}),
    status: 'ok',
    stdout: '',
    stderr: '',
    ms,
  };
}

export async function runProbe(spec: ProbeSpec, isRoot: boolean): Promise<ProbeRecord> {
  const base = recordFor(spec);
  if (spec.needsRoot && !isRoot) {
    return { ...base, status: 'skipped', reason: 'needs root' };
  }
  const started = performance.now();
  try {
    const result = await runSpec(spec);
    return { ...base, ...result, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ...base, ...errorRecord(err), ms: Math.round(performance.now() - started) };
  }
}

type Partial = Omit<ProbeRecord, 'id' | 'kind' | 'ms'>;

async function runSpec(spec: ProbeSpec): Promise<Partial> {
  switch (spec.kind) {
    case 'command':
      return runCommand(spec.argv, spec.timeoutMs ?? DEFAULT_TIMEOUT_MS, spec.maxBytes ?? DEFAULT_MAX_BYTES, spec.tail ?? false);
    case 'file':
      return withTimeout(
        readFileBounded(spec.path, spec.maxBytes ?? DEFAULT_MAX_BYTES, spec.tail ?? false, spec.hostPath ?? false),
        spec.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        `reading ${spec.path}`,
      );
    case 'dir':
      return withTimeout(listDir(spec.path), spec.timeoutMs ?? DEFAULT_TIMEOUT_MS, `listing ${spec.path}`);
    case 'stat':
      return withTimeout(
        statWithParents(spec.path).then((st) => ({ status: 'ok' as const, stdout: JSON.stringify(st), stderr: '' })),
        spec.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        `stat of ${spec.path}`,
      );
    case 'internal':
      return withTimeout(
        spec.run().then((out) => ({ status: 'ok' as const, stdout: out, stderr: '' })),
        spec.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        spec.id,
      );
  }
}

/** Every probe, file reads included, ends by its timeout (a read on a hung NFS mount, a /proc walk). */
async function withTimeout<T>(work: Promise<T>, timeout: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not finish within ${timeout} ms`), { code: 'ETIMEDOUT' })), timeout);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // a late failure of the abandoned work must not become an unhandled rejection
    work.catch(() => undefined);
  }
}

/** A directory listing, capped (an `include /proc/*` or a huge spool directory stays bounded). */
export const MAX_DIR_ENTRIES = 4096;

async function listDir(dir: string): Promise<Partial> {
  const entries: string[] = [];
  let truncated = false;
  const d = await opendir(dir);
  try {
    for await (const e of d) {
      if (entries.length >= MAX_DIR_ENTRIES) {
        truncated = true;
        break;
      }
      entries.push(e.name);
    }
  } finally {
    await d.close().catch(() => undefined);
  }
  entries.sort();
  return {
    status: 'ok',
    stdout: JSON.stringify(entries),
    stderr: '',
    ...(truncated ? { truncated, reason: `only the first ${MAX_DIR_ENTRIES} entries were listed` } : {}),
  };
}

// Probe commands run in process groups of their own, so a Ctrl+C at the terminal (sent to the
// doctor's group) does not reach them: whatever still runs when the doctor exits or is
// interrupted is killed here, group by group.
const liveGroups = new Set<number>();
let exitHooked = false;

function killLiveGroups(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  liveGroups.clear();
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killLiveGroups);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killLiveGroups();
      // then die of the signal as before, unless someone else (the app) handles it
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    // first, before any other handler that may end the process
    process.prependListener(sig, onSignal);
  }
}

/** How long a killed command's pipes may take to close before the probe stops waiting for them. */
const DRAIN_MS = 500;

/**
 * A command in a process group of its own (detached), so a timeout kills the whole group: a
 * probed binary that leaves a grandchild holding the pipe open (a wrapper script, a pager) cannot
 * hang the doctor. After the group is killed, the pipes are closed from our side too (a grandchild
 * that left the group with setsid still cannot hold them), and whatever the command wrote is kept.
 */
async function runCommand(argv: string[], timeout: number, maxBytes: number, tail: boolean): Promise<Partial> {
  const [file, ...args] = argv;
  if (!file) return { status: 'error', stdout: '', stderr: '', reason: 'empty argv' };
  // the timeout counts from now, spawning included (many spawns at once on a busy host take a while)
  const until = performance.now() + timeout;
  // before the spawn: a signal arriving while the child starts must already find the handler
  hookExit();
  const child = execa(file, args, {
    reject: false,
    env: COMMAND_ENV,
    extendEnv: true,
    stdin: 'ignore',
    stripFinalNewline: false,
    maxBuffer: maxBytes * 4,
    encoding: 'utf8',
    detached: true,
    cleanup: true,
  });
  if (child.pid !== undefined) liveGroups.add(child.pid);
  const killGroup = () => {
    if (child.pid === undefined) return;
    liveGroups.delete(child.pid);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  };
  let timedOut = false;
  let drainTimer: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  // after the kill, wait at most DRAIN_MS for execa to settle, then give up on the pipes
  const drained = new Promise<'drained'>((resolve) => {
    timer = setTimeout(
      () => {
        timedOut = true;
        killGroup();
        child.stdout?.destroy();
        child.stderr?.destroy();
        drainTimer = setTimeout(() => resolve('drained'), DRAIN_MS);
      },
      Math.max(0, until - performance.now()),
    );
  });
  let r: Awaited<typeof child> | 'drained';
  try {
    r = await Promise.race([child, drained]);
  } finally {
    clearTimeout(timer);
    clearTimeout(drainTimer);
    // a child that finished may have left its group behind (a backgrounded grandchild): end it
    killGroup();
  }
  if (r === 'drained') {
    return { status: 'timeout', exitCode: null, stdout: '', stderr: '', reason: `${file} did not finish within ${timeout} ms (its process group was killed)` };
  }
  let stdout = typeof r.stdout === 'string' ? r.stdout : '';
  let stderr = typeof r.stderr === 'string' ? r.stderr : '';
  let truncated = r.isMaxBuffer === true;
  if (Buffer.byteLength(stdout) > maxBytes) {
    truncated = true;
    stdout = tail ? stdout.slice(-maxBytes) : stdout.slice(0, maxBytes);
  }
  if (Buffer.byteLength(stderr) > maxBytes) {
    truncated = true;
    stderr = stderr.slice(0, maxBytes);
  }
  if (timedOut || r.timedOut) {
    return {
      status: 'timeout',
      exitCode: null,
      stdout,
      stderr,
      reason: `${file} did not finish within ${timeout} ms (its process group was killed)`,
      ...(truncated ? { truncated } : {}),
    };
  }
  const code = (r as { code?: string }).code;
  if (r.failed && r.exitCode === undefined && !r.isMaxBuffer) {
    if (code === 'ENOENT') return { status: 'missing', exitCode: null, stdout, stderr, reason: `${file} is not installed` };
    if (code === 'EACCES') return { status: 'denied', exitCode: null, stdout, stderr, reason: `${file} cannot be executed` };
    return { status: 'error', exitCode: null, stdout, stderr, reason: r.shortMessage ?? String(code ?? 'failed') };
  }
  return { status: 'ok', exitCode: r.exitCode ?? null, stdout, stderr, ...(truncated ? { truncated } : {}) };
}

// filesystems whose files are kernel interfaces, not data: a path from host text (a config
// include, a script, a log) on one of them is refused (/proc/kmsg blocks, /sys files have effects)
const SPECIAL_FS: Record<number, string> = {
  0x9fa0: 'procfs',
  0x62656572: 'sysfs',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x62656570: 'configfs',
  0x63677270: 'cgroup2',
  0x27e0eb: 'cgroup',
  0xcafe4a11: 'bpf',
  0x6165676c: 'pstore',
  0xde5e81e4: 'efivarfs',
};

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** Why a file probe must not open this path, or undefined. Decided from stat (which never blocks)
 *  before the file is opened: opening a FIFO for reading blocks, opening a device can act. */
export async function refuseReading(file: string, hostPath: boolean): Promise<string | undefined> {
  const st = await stat(file);
  if (!st.isFile()) return `${file} is ${kindOf(st)}: refused (only regular files are read)`;
  if (path.resolve(file) === '/proc/kmsg') return `${file} is the kernel log device: refused (reading it blocks and consumes messages)`;
  if (hostPath) {
    const fs = await statfs(file).catch(() => undefined);
    const special = fs ? SPECIAL_FS[Number(fs.type)] : undefined;
    if (special) return `${file} is on ${special}, a kernel interface: refused (a configuration, script or log path must be a file on disk)`;
  }
  return undefined;
}

async function readFileBounded(file: string, maxBytes: number, tail: boolean, hostPath = false): Promise<Partial> {
  const refused = await refuseReading(file, hostPath);
  if (refused) return { status: 'error', stdout: '', stderr: '', reason: refused };
  // O_NONBLOCK: if the path was swapped for a FIFO since the stat, the open cannot block either
  const fh = await open(file, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { status: 'error', stdout: '', stderr: '', reason: `${file} is ${kindOf(st)}: refused (only regular files are read)` };
    // /proc and /sys files report size 0: read until EOF up to maxBytes.
    if (st.size === 0 || !tail || st.size <= maxBytes) {
      const chunks: Buffer[] = [];
      let total = 0;
      const buf = Buffer.alloc(65536);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
        total += bytesRead;
        if (total >= maxBytes && !tail) break;
      }
      let all = Buffer.concat(chunks);
      const truncated = all.length > maxBytes;
      if (truncated) all = tail ? all.subarray(all.length - maxBytes) : all.subarray(0, maxBytes);
      return { status: 'ok', stdout: all.toString('utf8'), stderr: '', ...(truncated ? { truncated } : {}) };
    }
    const buf = Buffer.alloc(maxBytes);
    const { bytesRead } = await fh.read(buf, 0, maxBytes, st.size - maxBytes);
    let text = buf.subarray(0, bytesRead).toString('utf8');
    // drop the partial first line
    const nl = text.indexOf('\n');
    if (nl >= 0) text = text.slice(nl + 1);
    return { status: 'ok', stdout: text, stderr: '', truncated: true };
  } finally {
    await fh.close();
  }
}

async function statWithParents(file: string): Promise<FileStat> {
  let st;
  try {
    st = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { exists: false, isFile: false, isDir: false, isSymlink: false, mode: 0, uid: -1, gid: -1, size: 0, mtimeMs: 0, parents: [] };
    }
    throw err;
  }
  const isSymlink = st.isSymbolicLink();
  const target = isSymlink ? await stat(file).catch(() => st) : st;
  const parents: FileStat['parents'] = [];
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    const p = await stat(dir).catch(() => undefined);
    if (p) parents.push({ path: dir, mode: p.mode & 0o7777, uid: p.uid, gid: p.gid });
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return {
    exists: true,
    isFile: target.isFile(),
    isDir: target.isDirectory(),
    isSymlink,
    mode: target.mode & 0o7777,
    uid: target.uid,
    gid: target.gid,
    size: target.size,
    mtimeMs: Math.round(target.mtimeMs),
    parents,
  };
}

function errorRecord(err: unknown): Partial {
  const e = err as NodeJS.ErrnoException;
  const msg = e?.message ?? String(err);
  switch (e?.code) {
    case 'ENOENT':
      return { status: 'missing', stdout: '', stderr: '', reason: 'does not exist' };
    case 'EACCES':
    case 'EPERM':
      return { status: 'denied', stdout: '', stderr: '', reason: 'permission denied' };
    case 'ETIMEDOUT':
      return { status: 'timeout', stdout: '', stderr: '', reason: msg };
    default:
      return { status: 'error', stdout: '', stderr: '', reason: msg };
  }
}
