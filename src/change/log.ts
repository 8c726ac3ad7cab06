// The change log: one JSON object per line (plan, each step, result, rollback, confirm).
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

export async function logChange(logPath: string, event: string, data: Record<string, unknown>): Promise<void> {
  const line = JSON.stringify({ time: new Date().toISOString(), event, pid: process.pid, ...data });
  try {
    await mkdir(path.dirname(logPath), { recursive: true });
    await appendFile(logPath, line + '\n', { mode: 0o640 });
  } catch (err) {
    // the change itself matters more than its log line; say so and go on
    process.emitWarning(`hagw-doctor: cannot write ${logPath}: ${(err as Error).message}`);
  }
}
