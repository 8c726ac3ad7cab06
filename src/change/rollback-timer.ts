// The commit-confirmed timer, run detached (own session) by the change engine:
//   node dist/src/change/rollback-timer.js CHANGE-ID SECONDS
// It waits for the manifest's deadline and rolls the change back unless it was confirmed.
// Paths come from the HAGW_DOCTOR_* environment (see paths.ts), set by the engine.
import { rollbackTimerMain } from './rollback-timer-main.js';

process.exit(await rollbackTimerMain(process.argv.slice(2)));
