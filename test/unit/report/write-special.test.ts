// `check -o FILE` and `snapshot -o FILE` with FILE a device or a FIFO (-o /dev/null, -o /dev/stdout):
// written in place, never replaced by a regular file (a rename over /dev/null breaks the host).
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../../src/report/write-file.js';
import { writePrivateFile } from '../../../src/snapshot-file.js';

async function readAll(fifo: string): Promise<string> {
  let text = '';
  for await (const c of createReadStream(fifo, { encoding: 'utf8' })) text += String(c);
  return text;
}

describe('writing a report or snapshot to a FIFO or device', () => {
  it.each([
    ['writeFileAtomic (check -o)', writeFileAtomic],
    ['writePrivateFile (snapshot -o)', writePrivateFile],
  ] as const)('%s writes into the FIFO and leaves it a FIFO', async (_what, write) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-fifo-'));
    try {
      const fifo = path.join(dir, 'out');
      await execa('mkfifo', [fifo]);
      const reader = readAll(fifo);
      await write(fifo, 'report text\n');
      expect(await reader).toBe('report text\n');
      expect((await stat(fifo)).isFIFO()).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a directory given as the file is refused', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-fifo-'));
    try {
      await expect(writeFileAtomic(dir, 'x')).rejects.toThrow(/is a directory/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
