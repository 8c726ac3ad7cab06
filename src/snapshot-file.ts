// Reading and writing snapshot files (snapshot -o, check --from, demo).
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { safeJson } from './report/escape.js';
import { z } from 'zod';
import type { Snapshot } from './types.js';
import { SNAPSHOT_SCHEMA } from './types.js';

const probeRecord = z.object({
  id: z.string(),
  kind: z.enum(['command', 'file', 'dir', 'stat', 'internal']),
  argv: z.array(z.string()).optional(),
  path: z.string().optional(),
  status: z.enum(['ok', 'missing', 'denied', 'timeout', 'skipped', 'error']),
  exitCode: z.number().nullable().optional(),
  stdout: z.string(),
  stderr: z.string(),
  ms: z.number(),
  reason: z.string().optional(),
  truncated: z.boolean().optional(),
});

const snapshotSchema = z.object({
  schema: z.literal(SNAPSHOT_SCHEMA),
  createdAt: z.string(),
  tool: z.object({ name: z.string(), version: z.string() }),
  options: z.object({}).passthrough(),
  host: z.object({
    hostname: z.string(),
    kernel: z.string(),
    os: z.string(),
    keepalived: z.string().nullable(),
    netns: z.string(),
    uid: z.number(),
  }),
  probes: z.record(z.string(), probeRecord),
});

export class SnapshotError extends Error {}

export function parseSnapshot(text: string, name: string): Snapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new SnapshotError(`${name} is not a snapshot: not JSON`);
  }
  const schema = (data as { schema?: unknown })?.schema;
  if (schema !== SNAPSHOT_SCHEMA) {
    throw new SnapshotError(`${name} is not a snapshot: schema is ${schema === undefined ? 'missing' : JSON.stringify(schema)}, expected ${SNAPSHOT_SCHEMA}`);
  }
  const r = snapshotSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SnapshotError(`${name} is not a valid snapshot: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return r.data as Snapshot;
}

/** The largest snapshot file read (a live snapshot is a few MB; the probes' caps bound it). */
export const MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024;

export async function readSnapshot(file: string): Promise<Snapshot> {
  let text: string;
  try {
    // a FIFO or a device given as a snapshot must not hang or act: regular files only, size-capped
    const st = await stat(file);
    if (!st.isFile()) throw new SnapshotError(`cannot read snapshot ${file}: not a regular file`);
    if (st.size > MAX_SNAPSHOT_BYTES) throw new SnapshotError(`cannot read snapshot ${file}: larger than ${MAX_SNAPSHOT_BYTES / 1024 / 1024} MB`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    throw new SnapshotError(`cannot read snapshot ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseSnapshot(text, file);
}

/**
 * Written atomically and privately: a temporary file in the target directory, created with
 * O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 under a random name (another user cannot pre-create or
 * symlink it), written, flushed, then renamed over the target. A reader never sees half a
 * snapshot, and no one but the owner can read it (it holds configs and logs).
 */
export async function writeSnapshot(file: string, snapshot: Snapshot): Promise<void> {
  await writePrivateFile(file, safeJson(snapshot) + '\n');
}

export async function writePrivateFile(file: string, content: string): Promise<void> {
  // a device or FIFO (-o /dev/null, /dev/stdout) is written in place, never replaced by a file
  const { writeInPlaceIfSpecial } = await import('./report/write-file.js');
  if (await writeInPlaceIfSpecial(file, content)) return;
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
  let ok = false;
  try {
    // the mode given to open is masked by the umask; make it exactly 0600
    await fh.chmod(0o600);
    await fh.writeFile(content, 'utf8');
    await fh.sync();
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await unlink(tmp).catch(() => undefined);
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
