// Reading a log from its end: only the --since window is read, however large the file.
import { open } from 'node:fs/promises';
import { lineTimestamp, parseVrrpLog, type ParseVrrpLogOptions, type VrrpLogEvent } from './log.js';

const CHUNK = 256 * 1024;

export interface TailResult {
  events: VrrpLogEvent[];
  /** bytes read from the end of the file */
  bytesRead: number;
  /** the whole file was read (the window reaches its start, or no line has a timestamp) */
  whole: boolean;
}

/** Read `path` backwards in chunks until a timestamped line older than `since` (or `maxBytes`), then parse that window. */
export async function readLogWindow(path: string, opts: ParseVrrpLogOptions & { maxBytes?: number } = {}): Promise<TailResult> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const max = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const chunks: Buffer[] = [];
    let pos = size;
    let read = 0;
    let reachedWindowStart = false;
    while (pos > 0 && read < max && !reachedWindowStart) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      chunks.unshift(buf);
      read += len;
      if (opts.since === undefined) continue;
      // the first complete line of this chunk: older than the window means we have it all
      const nl = buf.indexOf(10);
      if (nl < 0) continue;
      const end = buf.indexOf(10, nl + 1);
      const first = buf.subarray(nl + 1, end < 0 ? buf.length : end).toString('utf8');
      const t = lineTimestamp(first, opts);
      if (t?.ts !== undefined && t.ts < opts.since) reachedWindowStart = true;
    }
    let text = Buffer.concat(chunks).toString('utf8');
    // drop the partial first line when we did not start at the beginning of the file
    if (pos > 0) text = text.slice(text.indexOf('\n') + 1);
    return { events: parseVrrpLog(text, opts), bytesRead: read, whole: pos === 0 };
  } finally {
    await fh.close();
  }
}
