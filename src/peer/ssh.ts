// One SSH connection to the other node, reused for every probe round: the system's OpenSSH client
// with the operator's own keys, agent and ~/.ssh/config (or -F FILE), BatchMode (never a prompt),
// a connect timeout, and a ControlMaster socket in a private temporary directory, closed at the end.
// Nothing read from the peer is ever run through a local shell: argv only, output bounded.
import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PeerTarget {
  /** [USER@]HOST as the operator gave it */
  host: string;
  /** --ssh-config FILE: passed as -F */
  sshConfig?: string;
  /** seconds for the TCP connect and the SSH handshake (default 5) */
  connectTimeoutS?: number;
}

export interface RemoteResult {
  ok: boolean;
  exitCode: number | undefined;
  stdout: string;
  /** sanitized, at most a few lines */
  stderr: string;
  timedOut: boolean;
  /** stdout grew past the cap: the result is cut and must not be trusted whole */
  overflow: boolean;
}

/** ssh itself failed (exit 255), gave no exit status, or the command hung: what it printed says nothing of the peer. */
export function sshFailed(r: Pick<RemoteResult, 'exitCode' | 'timedOut'>): boolean {
  return r.exitCode === 255 || r.exitCode === undefined || r.timedOut;
}

/** The peer could not be used; message is the one line the report shows. */
export class PeerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerError';
  }
}

const DEFAULT_CONNECT_TIMEOUT_S = 5;
const SSH_ENV = { LC_ALL: 'C', LANG: 'C' } as const;

import { validPeerHost } from './host.js';
export { validPeerHost };

/** One line, printable ASCII, at most max characters: what the peer (or ssh about it) said, made safe to print. */
export function cleanLine(text: string, max = 200): string {
  const line = text
    .split('\n')
    .map((l) => l.replace(/[^\x20-\x7e]/g, '').trim())
    .filter((l) => l && !/^Warning: Permanently added/.test(l) && !/^@+$/.test(l))
    .join(' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** ssh's own failure (exit 255), in the operator's words. */
export function describeSshFailure(host: string, stderr: string, timedOut: boolean): string {
  const s = stderr;
  if (timedOut) return `${host} did not answer in time (connection or command hung)`;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(s))
    return `the host key of ${host} has changed (a reinstalled peer, or someone in between): verify it, then update known_hosts`;
  if (/No \S+ host key is known for|Host key verification failed/.test(s))
    return `the host key of ${host} is not known (BatchMode cannot ask): connect once by hand, or add it to known_hosts`;
  if (/Connection refused/.test(s)) return `${host} refused the SSH connection (is sshd running there?)`;
  if (/Connection timed out|Operation timed out|timed out during banner exchange/.test(s)) return `${host} did not answer on the SSH port (timed out)`;
  if (/No route to host/.test(s)) return `no route to ${host}`;
  if (/Network is unreachable/.test(s)) return `the network to ${host} is unreachable`;
  if (/Could not resolve hostname|Name or service not known/.test(s)) return `cannot resolve ${host}`;
  if (/Permission denied/.test(s)) return `${host} refused the login (permission denied: no usable key or agent for that user)`;
  if (/Connection closed|Connection reset/.test(s)) return `${host} closed the SSH connection`;
  const line = cleanLine(s);
  return line ? `ssh to ${host} failed: ${line}` : `ssh to ${host} failed`;
}

/** The words of a remote command line are fixed, plain words: the remote shell reads them, so data goes on stdin. */
function checkWords(argv: readonly string[]): void {
  for (const a of argv)
    if (!/^[A-Za-z0-9_./=:+-]+$/.test(a)) throw new Error(`peer command word ${JSON.stringify(a)} needs quoting: pass data on stdin instead`);
}

/**
 * A multiplexed session: open() authenticates once (a background master on a private control
 * socket), run() sends one command over it, close() ends the master and removes the directory.
 * Reusable by any caller (check, snapshot, watch, the app).
 */
export class PeerSession {
  readonly target: PeerTarget;
  private dir: string | undefined;
  private opened = false;
  /** the shell whose connection is being opened (openShell), ended by close() */
  private opening: PeerShell | undefined;
  private closed = false;

  constructor(target: PeerTarget) {
    if (!validPeerHost(target.host)) throw new PeerError(`--peer ${JSON.stringify(target.host).slice(0, 80)} is not [USER@]HOST`);
    this.target = target;
  }

  get host(): string {
    return this.target.host;
  }

  private controlPath(): string {
    return path.join(this.dir!, 'cm');
  }

  /** The options every ssh invocation of this session shares. */
  private baseArgs(): string[] {
    const t = this.target.connectTimeoutS ?? DEFAULT_CONNECT_TIMEOUT_S;
    return [
      ...(this.target.sshConfig ? ['-F', this.target.sshConfig] : []),
      '-o',
      'BatchMode=yes',
      '-o',
      `ConnectTimeout=${t}`,
      '-o',
      'ServerAliveInterval=2',
      '-o',
      'ServerAliveCountMax=3',
      '-o',
      `ControlPath=${this.controlPath()}`,
      // no port forwarding, agent or X11 to the peer: the doctor only reads
      '-o',
      'ClearAllForwardings=yes',
      '-o',
      'ForwardAgent=no',
      '-o',
      'ForwardX11=no',
    ];
  }

  /**
   * Authenticate once and run the first command (fixed words, data on stdin) on the new
   * connection, which then stays in the background as the master for every later run();
   * throws PeerError with the reason when the peer cannot be reached.
   */
  async open(first: { argv: readonly string[]; input: string; maxBytes: number }, timeoutMs = 15_000): Promise<RemoteResult> {
    if (this.opened) throw new PeerError('the SSH session to the peer is already open');
    checkWords(first.argv);
    const { args, log } = await this.masterArgs(first.argv);
    const r = await this.exec(args, first.input, timeoutMs, first.maxBytes);
    await this.refuseFailedOpen(r, r.code, log);
    this.opened = true;
    return r;
  }

  /**
   * The command line of the connection's first command, which becomes the master: ControlPersist
   * (once that command ends, the master goes to the background with its stdio on /dev/null, none
   * of our pipes, and ends by itself 60 s after its last use if we die first) and -E (ssh's own
   * messages go to a file read for the reason of a failure), in the session's private directory.
   */
  private async masterArgs(argv: readonly string[]): Promise<{ args: string[]; log: string }> {
    this.dir ??= await mkdtemp(path.join(tmpdir(), 'hagw-peer-'));
    const log = path.join(this.dir, 'master.log');
    return { args: [...this.baseArgs(), '-o', 'ControlMaster=yes', '-o', 'ControlPersist=60', '-E', log, '-T', '--', this.target.host, ...argv], log };
  }

  /** The first command failed as ssh (no client, no connection, a hang): the session is closed and PeerError says why. */
  private async refuseFailedOpen(r: RemoteResult, spawnCode: string | undefined, log: string): Promise<void> {
    if (spawnCode === 'ENOENT') {
      await this.cleanup();
      throw new PeerError('the ssh client is not installed (openssh-client)');
    }
    if (!sshFailed(r)) return;
    const text = await readFile(log, 'utf8').catch(() => '');
    await this.close();
    throw new PeerError(describeSshFailure(this.target.host, `${text.slice(-4000)}\n${r.stderr}`, r.timedOut));
  }

  /**
   * Authenticate once, like open(), but keep the first command, a POSIX `sh -s`, running: its stdin
   * stays ours, so every later script is one write and one framed answer (PeerShell), with no ssh
   * client, remote session or shell started per round. `first` is its first script (the hello);
   * throws PeerError with the reason when the peer cannot be reached.
   */
  async openShell(first: { input: string; maxBytes: number }, timeoutMs = 15_000): Promise<{ shell: PeerShell; first: RemoteResult }> {
    if (this.opened) throw new PeerError('the SSH session to the peer is already open');
    const { args, log } = await this.masterArgs(['sh', '-s']);
    const child = execa('ssh', args, {
      reject: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      env: SSH_ENV,
      extendEnv: true,
    });
    const shell = new PeerShell(child);
    this.opening = shell;
    const r = await shell.exchange(first.input, { timeoutMs, maxBytes: first.maxBytes });
    this.opening = undefined;
    if (this.closed) {
      shell.abort();
      throw new PeerError(`the connection to ${this.target.host} was closed while it was opening`);
    }
    if (sshFailed(r)) shell.close();
    await this.refuseFailedOpen(r, shell.spawnError, log);
    this.opened = true;
    return { shell, first: r };
  }

  private async exec(args: string[], input: string | undefined, timeoutMs: number, maxBytes: number): Promise<RemoteResult & { code?: string }> {
    const r = await execa('ssh', args, {
      reject: false,
      timeout: timeoutMs,
      env: SSH_ENV,
      extendEnv: true,
      ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
      maxBuffer: { stdout: maxBytes, stderr: 64 * 1024 },
      encoding: 'utf8',
      stripFinalNewline: false,
    });
    const stdout = typeof r.stdout === 'string' ? r.stdout : '';
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    const overflow = (r as { isMaxBuffer?: boolean }).isMaxBuffer === true;
    const code = (r as { code?: string }).code;
    return {
      ok: r.exitCode === 0 && !r.timedOut && !overflow,
      exitCode: r.exitCode,
      stdout,
      stderr: stderr.slice(-8000),
      timedOut: r.timedOut,
      overflow,
      ...(code ? { code } : {}),
    };
  }

  /**
   * Run `argv` (fixed words, joined by ssh into the remote command line) on the peer over the
   * master, with `input` on its stdin. stdout is capped at maxBytes; never rejects.
   */
  async run(argv: readonly string[], opts: { input?: string; timeoutMs: number; maxBytes: number }): Promise<RemoteResult> {
    if (!this.opened) throw new PeerError('the SSH session to the peer is not open');
    checkWords(argv);
    const args = [...this.baseArgs(), '-o', 'ControlMaster=no', '-T', '--', this.target.host, ...argv];
    const { code: _code, ...r } = await this.exec(args, opts.input, opts.timeoutMs, opts.maxBytes);
    return r;
  }

  /**
   * The peer's own interactive command (its consent prompt): our stdin goes there, with a terminal
   * (-t) when we have one; what it prints comes back with control sequences removed (the peer's
   * output is never written raw to this terminal). Resolves with its exit status (255: ssh failed).
   */
  async runInteractive(argv: readonly string[], timeoutMs: number, write: (text: string) => void): Promise<number | undefined> {
    if (!this.opened) throw new PeerError('the SSH session to the peer is not open');
    checkWords(argv);
    const tty = process.stdin.isTTY === true;
    const args = [
      ...this.baseArgs(),
      '-o',
      'ControlMaster=no',
      '-o',
      `RequestTTY=${tty ? 'force' : 'no'}`,
      ...(tty ? ['-t'] : ['-T']),
      '--',
      this.target.host,
      ...argv,
    ];
    const child = execa('ssh', args, {
      reject: false,
      timeout: timeoutMs,
      stdin: 'inherit',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      env: SSH_ENV,
      extendEnv: true,
      encoding: 'utf8',
    });
    // terminal escapes from the peer are dropped
    const clean = (d: Buffer | string) =>
      write(
        String(d)
          // eslint-disable-next-line no-control-regex
          .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
          .replace(/[^\x20-\x7e\n\t]/g, (c) => (c === '\r' ? '' : '')),
      );
    child.stdout?.on('data', clean);
    child.stderr?.on('data', clean);
    const r = await child;
    return r.exitCode;
  }

  /** Close the master and remove the private directory. Idempotent, never throws. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.opening) {
      // still authenticating (a hung peer, or the budget spent): the master may exist already
      this.opening.abort();
      this.opening = undefined;
      this.opened = true;
    }
    if (this.opened) {
      this.opened = false;
      await execa('ssh', [...this.baseArgs(), '-O', 'exit', '--', this.target.host], {
        reject: false,
        timeout: 5000,
        stdin: 'ignore',
        env: SSH_ENV,
        extendEnv: true,
      }).catch(() => undefined);
    }
    await this.cleanup();
  }

  private async cleanup(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    this.dir = undefined;
  }
}

/**
 * A POSIX sh on the peer that reads script after script on its stdin (PeerSession.openShell). Each
 * script runs in a subshell (its exit, traps, cd and umask stay there) and its answer ends with a
 * line naming a nonce of that exchange and the script's status; only then is the next script sent,
 * so the shell never reads ahead into the next one. A timeout, an answer past its size cap or a
 * shell that ended makes the shell unusable (alive false): the answers cannot be framed any more.
 */
export class PeerShell {
  private readonly child: ResultPromise;
  private chunks: Buffer[] = [];
  private size = 0;
  /** the last bytes seen, where the end line may start */
  private tail = Buffer.alloc(0);
  private stderr = '';
  private ended = false;
  private exitCode: number | undefined;
  private pending: { marker: Buffer; maxBytes: number; resolve: (r: RemoteResult) => void; timer: NodeJS.Timeout } | undefined;
  /** the spawn's error code (ENOENT: no ssh client) */
  spawnError: string | undefined;

  constructor(child: ResultPromise) {
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => this.onData(d));
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-8000);
    });
    child.stdin?.on('error', () => undefined);
    void child.then((r) => {
      this.ended = true;
      this.exitCode = r.exitCode;
      const code = (r as { code?: string }).code;
      if (code) this.spawnError = code;
      this.finish({ ok: false, exitCode: r.exitCode ?? undefined, timedOut: false, overflow: false });
    });
  }

  get alive(): boolean {
    return !this.ended;
  }

  /**
   * Run `script` there and resolve with what it printed (never rejects). exitCode is the script's
   * status, or ssh's own (255) / undefined when the connection or the shell ended first.
   */
  exchange(script: string, opts: { timeoutMs: number; maxBytes: number }): Promise<RemoteResult> {
    if (this.ended)
      return Promise.resolve({ ok: false, exitCode: this.exitCode ?? undefined, stdout: '', stderr: cleanLine(this.stderr), timedOut: false, overflow: false });
    return this.send((marker) => `(\n${script}\n)\nprintf '\\n%s%s\\n' '${marker}' "$?"\n`, opts);
  }

  /**
   * Become root through `sudo -n` for every later script: the shell execs `sudo -n sh`, which says
   * so with the end line and then reads the next scripts. False when it did not.
   */
  async elevate(timeoutMs: number): Promise<boolean> {
    if (this.pending || this.ended) return false;
    // the whole line is read before the exec: nothing after it was sent
    const r = await this.send((marker) => `exec sudo -n sh -c 'printf "\\n%s0\\n" "${marker}"; exec sh -s'\n`, { timeoutMs, maxBytes: 4096 });
    return r.ok;
  }

  /** Write what `text(marker)` makes, with a fresh nonce, and wait for its end line. */
  private send(text: (marker: string) => string, opts: { timeoutMs: number; maxBytes: number }): Promise<RemoteResult> {
    if (this.pending) throw new Error('one exchange at a time on the peer shell');
    const marker = `@@HAGW-END-${randomBytes(12).toString('hex')} `;
    this.chunks = [];
    this.size = 0;
    this.tail = Buffer.alloc(0);
    this.stderr = '';
    return new Promise<RemoteResult>((resolve) => {
      const timer = setTimeout(() => {
        this.finish({ ok: false, exitCode: undefined, timedOut: true, overflow: false });
        this.kill();
      }, opts.timeoutMs);
      timer.unref?.();
      this.pending = { marker: Buffer.from(marker), maxBytes: opts.maxBytes, resolve, timer };
      this.child.stdin?.write(text(marker));
    });
  }

  private onData(d: Buffer): void {
    const p = this.pending;
    if (!p) return;
    this.chunks.push(d);
    this.size += d.length;
    // the cap holds whatever arrives (an end line that never ends included): past it, nothing more is read
    if (this.size > p.maxBytes + p.marker.length + 16) {
      this.finish({ ok: false, exitCode: undefined, timedOut: false, overflow: true });
      this.kill();
      return;
    }
    const window = Buffer.concat([this.tail, d]);
    const at = window.indexOf(p.marker);
    if (at >= 0) {
      const end = window.indexOf(0x0a, at + p.marker.length);
      if (end < 0) {
        // the end line has begun: keep it whole until its newline (the cap above bounds it)
        this.tail = window.subarray(at);
        return;
      }
      const all = Buffer.concat(this.chunks);
      const start = this.size - window.length + at;
      // the end line follows a newline of its own: what came before that newline is the answer
      const stdout = all.subarray(0, Math.max(0, start - 1)).toString('utf8');
      const rc = Number(/^(\d{1,3})$/.exec(window.subarray(at + p.marker.length, end).toString('latin1'))?.[1] ?? NaN);
      const exitCode = Number.isInteger(rc) ? rc : undefined;
      this.finish({ ok: exitCode === 0, exitCode, stdout, timedOut: false, overflow: false });
      return;
    }
    this.tail = window.subarray(Math.max(0, window.length - (p.marker.length + 8)));
  }

  private finish(r: Omit<RemoteResult, 'stderr' | 'stdout'> & { stdout?: string }): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    const stdout = r.stdout ?? (r.overflow ? '' : Buffer.concat(this.chunks).toString('utf8'));
    this.chunks = [];
    p.resolve({ ...r, stdout, stderr: this.stderr.slice(-8000) });
  }

  private kill(): void {
    this.ended = true;
    this.child.kill('SIGKILL');
  }

  /** End it now, answer or not. */
  abort(): void {
    this.finish({ ok: false, exitCode: undefined, timedOut: false, overflow: false });
    this.kill();
  }

  /** End the shell (EOF on its stdin), and the local ssh client with it. Never throws. */
  close(): void {
    if (this.ended) return;
    this.child.stdin?.end();
    const t = setTimeout(() => this.kill(), 2000);
    t.unref?.();
    void this.child.then(() => clearTimeout(t));
  }
}
