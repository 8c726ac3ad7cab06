// Runs one probe. A probe never throws: whatever happens becomes a ProbeRecord.
import { execa } from 'execa';
import { open, readdir, lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileStat, ProbeRecord, ProbeSpec } from '../types.js';

export const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/** The environment every external command runs with: C locale so output formats are the documented ones. */
export const COMMAND_ENV = { LC_ALL: 'C', LANG: 'C' } as const;

export async function runProbe(spec: ProbeSpec, isRoot: boolean): Promise<ProbeRecord> {
  const base: ProbeRecord = {
    id: spec.id,
    kind: spec.kind,
    ...(spec.kind === 'command' ? { argv: spec.argv } : {}),
    ...(spec.kind === 'file' || spec.kind === 'dir' || spec.kind === 'stat' ? { path: spec.path } : {}),
    status: 'ok',
    stdout: '',
    stderr: '',
    ms: 0,
  };
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
      return readFileBounded(spec.path, spec.maxBytes ?? DEFAULT_MAX_BYTES, spec.tail ?? false);
    case 'dir': {
      const entries = await readdir(spec.path);
      entries.sort();
      return { status: 'ok', stdout: JSON.stringify(entries), stderr: '' };
    }
    case 'stat':
      return { status: 'ok', stdout: JSON.stringify(await statWithParents(spec.path)), stderr: '' };
    case 'internal': {
      const timeout = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      const out = await Promise.race([
        spec.run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error(`timed out after ${timeout} ms`), { code: 'ETIMEDOUT' })), timeout);
        }),
      ]).finally(() => clearTimeout(timer));
      return { status: 'ok', stdout: out, stderr: '' };
    }
  }
}

async function runCommand(argv: string[], timeout: number, maxBytes: number, tail: boolean): Promise<Partial> {
  const [file, ...args] = argv;
  if (!file) return { status: 'error', stdout: '', stderr: '', reason: 'empty argv' };
  const r = await execa(file, args, {
    reject: false,
    timeout,
    env: COMMAND_ENV,
    extendEnv: true,
    stdin: 'ignore',
    stripFinalNewline: false,
    maxBuffer: maxBytes * 4,
    encoding: 'utf8',
  });
  let stdout = typeof r.stdout === 'string' ? r.stdout : '';
  const stderr = typeof r.stderr === 'string' ? r.stderr : '';
  let truncated = false;
  if (Buffer.byteLength(stdout) > maxBytes) {
    truncated = true;
    stdout = tail ? stdout.slice(-maxBytes) : stdout.slice(0, maxBytes);
  }
  if (r.timedOut) {
    return { status: 'timeout', exitCode: null, stdout, stderr, reason: `${file} did not finish within ${timeout} ms`, truncated };
  }
  const code = (r as { code?: string }).code;
  if (r.failed && r.exitCode === undefined) {
    if (code === 'ENOENT') return { status: 'missing', exitCode: null, stdout, stderr, reason: `${file} is not installed` };
    if (code === 'EACCES') return { status: 'denied', exitCode: null, stdout, stderr, reason: `${file} cannot be executed` };
    return { status: 'error', exitCode: null, stdout, stderr, reason: r.shortMessage ?? String(code ?? 'failed') };
  }
  return { status: 'ok', exitCode: r.exitCode ?? null, stdout, stderr, ...(truncated ? { truncated } : {}) };
}

async function readFileBounded(file: string, maxBytes: number, tail: boolean): Promise<Partial> {
  const fh = await open(file, 'r');
  try {
    const st = await fh.stat();
    if (st.isDirectory()) return { status: 'error', stdout: '', stderr: '', reason: `${file} is a directory` };
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
