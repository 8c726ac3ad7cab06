// Runs one argv for the change engine: execa, no shell, a timeout, C locale.
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

export async function runArgv(argv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) return { ok: false, exitCode: null, stdout: '', stderr: '', reason: 'empty argv' };
  const timeout = opts.timeoutMs ?? STEP_TIMEOUT_MS;
  const r = await execa(file, args, {
    reject: false,
    timeout,
    env: COMMAND_ENV,
    extendEnv: true,
    // its own process group: a Ctrl+C on the terminal must not kill a step half-way
    detached: true,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    stripFinalNewline: false,
    encoding: 'utf8',
  });
  const stdout = typeof r.stdout === 'string' ? r.stdout : '';
  const stderr = typeof r.stderr === 'string' ? r.stderr : '';
  if (r.timedOut) return { ok: false, exitCode: null, stdout, stderr, reason: `did not finish within ${timeout} ms` };
  if (r.failed && r.exitCode === undefined) {
    const code = (r as { code?: string }).code;
    return { ok: false, exitCode: null, stdout, stderr, reason: code === 'ENOENT' ? `${file} is not installed` : (r.shortMessage ?? String(code)) };
  }
  const exitCode = r.exitCode ?? null;
  return { ok: exitCode === 0, exitCode, stdout, stderr, ...(exitCode === 0 ? {} : { reason: `exit status ${exitCode}${stderr.trim() ? `: ${stderr.trim().split('\n')[0]}` : ''}` }) };
}
