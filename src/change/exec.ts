// Runs one argv for the change engine: execa, no shell, a timeout, C locale.
//
// A step runs in its own process group (a Ctrl+C on the terminal must not kill it half-way) but
// never outlives the doctor: util-linux's setpriv sets PR_SET_PDEATHSIG, so the kernel kills the
// step when the doctor dies (SIGKILL included); and the step's pid is recorded so that `undo`
// ends a step still in flight before it undoes anything.
import { existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { COMMAND_ENV } from '../probes/run.js';

export const STEP_TIMEOUT_MS = 30_000;

export interface CommandResult {
  ok: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** in words, when it did not run or failed */
  reason?: string;
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  /** called with the pid (= process group) once the command started */
  onSpawn?: (pid: number) => void | Promise<void>;
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv'].find((p) => existsSync(p));

/** Test hook (lab only): HAGW_DOCTOR_TEST_STEP_DELAY_MS=N makes every step wait N ms before it
 *  runs, so a test can kill the doctor while a step is in flight. */
function testDelayMs(): number {
  const n = Number(process.env.HAGW_DOCTOR_TEST_STEP_DELAY_MS ?? '');
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export async function runArgv(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) return { ok: false, exitCode: null, stdout: '', stderr: '', reason: 'empty argv' };
  const timeout = opts.timeoutMs ?? STEP_TIMEOUT_MS;
  let cmd: string[] = [file, ...args];
  const delay = opts.onSpawn ? testDelayMs() : 0;
  if (delay) cmd = ['sh', '-c', 'sleep "$0"; exec "$@"', String(delay / 1000), ...cmd];
  // without setpriv the step stays in our process group, so it still dies with the session
  if (SETPRIV) cmd = [SETPRIV, '--pdeathsig', 'KILL', '--', ...cmd];
  const child = execa(cmd[0]!, cmd.slice(1), {
    reject: false,
    timeout: timeout + delay,
    env: COMMAND_ENV,
    extendEnv: true,
    detached: SETPRIV !== undefined,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    stripFinalNewline: false,
    encoding: 'utf8',
  });
  if (opts.onSpawn && child.pid) await opts.onSpawn(child.pid);
  const r = await child;
  const stdout = typeof r.stdout === 'string' ? r.stdout : '';
  const stderr = typeof r.stderr === 'string' ? r.stderr : '';
  if (r.timedOut) return { ok: false, exitCode: null, stdout, stderr, reason: `did not finish within ${timeout} ms` };
  if (r.failed && r.exitCode === undefined) {
    const code = (r as { code?: string }).code;
    return { ok: false, exitCode: null, stdout, stderr, reason: code === 'ENOENT' ? `${file} is not installed` : (r.shortMessage ?? String(code)) };
  }
  const exitCode = r.exitCode ?? null;
  if (exitCode === 127 && SETPRIV && /failed to execute/.test(stderr)) return { ok: false, exitCode, stdout, stderr, reason: `${file} is not installed` };
  return {
    ok: exitCode === 0,
    exitCode,
    stdout,
    stderr,
    ...(exitCode === 0 ? {} : { reason: `exit status ${exitCode}${stderr.trim() ? `: ${stderr.trim().split('\n')[0]}` : ''}` }),
  };
}

/** /proc/PID/stat's start time (field 22), to tell a pid from a reused one. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
