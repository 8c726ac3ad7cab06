// The single executable's program (npm run release bundles this file into one ES module that
// scripts/sea-boot.cjs loads from inside the executable). The same as bin/hagw-doctor, plus the
// rollback timer, which an npm install runs as a separate script.
import { ROLLBACK_TIMER_ARG } from '../embedded.js';

export async function run(argv: string[]): Promise<number> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // a closed pipe (hagw-doctor check | head) is not an error worth a stack trace
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  if (argv[0] === ROLLBACK_TIMER_ARG) {
    const { rollbackTimerMain } = await import('../change/rollback-timer-main.js');
    return rollbackTimerMain(argv.slice(1));
  }
  const { main } = await import('../cli.js');
  return main(argv);
}
