// The commit-confirmed timer, run detached (own session) by the change engine:
//   node dist/src/change/rollback-timer.js CHANGE-ID SECONDS
// It waits for the manifest's deadline and rolls the change back unless it was confirmed.
// Paths come from the HAGW_DOCTOR_* environment (see paths.ts), set by the engine.
import { runRollbackTimer } from './engine.js';
import { logChange } from './log.js';
import { changePaths } from './paths.js';

const id = process.argv[2];
if (!id) {
  process.stderr.write('usage: rollback-timer CHANGE-ID SECONDS\n');
  process.exit(3);
}
// the SSH session dying must not stop the timer
process.on('SIGHUP', () => undefined);
const paths = changePaths();
try {
  const r = await runRollbackTimer(id, paths);
  await logChange(paths.log, 'timer-done', { id, exitCode: r.exitCode, message: r.message });
  process.exit(r.exitCode);
} catch (err) {
  await logChange(paths.log, 'timer-error', { id, error: (err as Error).message });
  process.exit(3);
}
