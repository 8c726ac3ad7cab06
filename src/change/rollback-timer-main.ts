// The commit-confirmed timer's body, shared by the two ways it is started: `node
// dist/src/change/rollback-timer.js ID SECONDS` (npm install) and the single executable run with
// --hagw-doctor-rollback-timer ID SECONDS (which has no separate script file).
import { runRollbackTimer } from './engine.js';
import { logChange } from './log.js';
import { changePaths } from './paths.js';

export async function rollbackTimerMain(argv: string[]): Promise<number> {
  const id = argv[0];
  if (!id) {
    process.stderr.write('usage: rollback-timer CHANGE-ID SECONDS\n');
    return 3;
  }
  // the SSH session dying must not stop the timer
  process.on('SIGHUP', () => undefined);
  const paths = changePaths();
  try {
    const r = await runRollbackTimer(id, paths);
    await logChange(paths.log, 'timer-done', { id, exitCode: r.exitCode, message: r.message });
    return r.exitCode;
  } catch (err) {
    await logChange(paths.log, 'timer-error', { id, error: (err as Error).message });
    return 3;
  }
}
