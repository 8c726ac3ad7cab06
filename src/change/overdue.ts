// Run first by every hagw-doctor command: a commit-confirmed change of this node that is past its
// deadline (its detached timer was killed, or the host slept) is rolled back before anything
// else, and said so on stderr. Cheap when there is nothing: one stat of the state directory.
// Without root, or when the lock is busy, nothing is rolled back here and `check` reports
// change-pending-overdue instead (checks/change.ts).
import { existsSync } from 'node:fs';
import { changePaths } from './paths.js';

export async function settleOverdueFirst(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (process.getuid?.() !== 0) return;
  // help, version and the offline views of a snapshot do not touch this host
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version')) return;
  const paths = changePaths(env);
  if (!existsSync(paths.changesDir)) return;
  try {
    const { settleOverdue } = await import('./engine.js');
    for (const line of await settleOverdue(paths)) process.stderr.write(line + '\n');
  } catch (err) {
    process.stderr.write(`hagw-doctor: could not check for overdue changes: ${(err as Error).message}\n`);
  }
}
