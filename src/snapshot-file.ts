// Reading and writing snapshot files (snapshot -o, check --from, demo).
import { readFile, writeFile, rename } from 'node:fs/promises';
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

export async function readSnapshot(file: string): Promise<Snapshot> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SnapshotError(`cannot read snapshot ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseSnapshot(text, file);
}

/** Written to a temporary name and renamed, so a reader never sees half a snapshot. */
export async function writeSnapshot(file: string, snapshot: Snapshot): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(snapshot, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}
