// The real program in a real pseudo-terminal (node-pty) inside a lab node, its output rendered by
// a terminal emulator (@xterm/headless): what a person would see, keys written as a terminal
// sends them (several in one write, as a laggy SSH link or a paste delivers them).
import path from 'node:path';
import pty from 'node-pty';
import xterm from '@xterm/headless';
import { REPO_ROOT } from './harness.js';

export const KEY = { enter: '\r', esc: '\u001b', home: '\u001b[H', down: '\u001b[B', ctrlC: '\u0003', backspace: '\u007f' };

export class PtyScreen {
  readonly term: xterm.Terminal;
  readonly proc: pty.IPty;
  raw = '';
  exit: number | undefined;
  cols: number;
  rows: number;

  constructor(ns: string, cwd: string, env: Record<string, string>, opts: { cols?: number; rows?: number; args?: string[]; term?: string } = {}) {
    this.cols = opts.cols ?? 80;
    this.rows = opts.rows ?? 24;
    this.term = new xterm.Terminal({ cols: this.cols, rows: this.rows, allowProposedApi: true, scrollback: 1000 });
    const term = opts.term ?? 'xterm-256color';
    this.proc = pty.spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(REPO_ROOT, 'bin', 'hagw-doctor'), ...(opts.args ?? [])], {
      name: term,
      cols: this.cols,
      rows: this.rows,
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', TERM: term, LANG: 'C.UTF-8', ...env },
    });
    this.proc.onData((d) => {
      this.raw += d;
      this.term.write(d);
    });
    this.proc.onExit(({ exitCode }) => (this.exit = exitCode));
  }

  /** The visible rows. */
  text(): string {
    const b = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < this.rows; i++) out.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? '');
    return out.join('\n');
  }

  /** Everything in the buffer, scrollback included. */
  all(): string {
    const b = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < b.length; i++) out.push(b.getLine(i)?.translateToString(true) ?? '');
    return out.join('\n');
  }

  async waitFor(want: string | ((screen: string) => boolean), timeoutMs = 60_000): Promise<string> {
    const ok = typeof want === 'string' ? (s: string) => s.includes(want) : want;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.text();
      if (ok(s)) return s;
      if (this.exit !== undefined) throw new Error(`the app exited (${this.exit}) while waiting for ${String(want)}; screen:\n${s}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof want === 'string' ? JSON.stringify(want) : 'a condition'}; screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Write keys (all in one write), then wait for the screen they lead to. */
  async press(keys: string, until: string | ((screen: string) => boolean)): Promise<string> {
    this.proc.write(keys);
    return this.waitFor(until);
  }

  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
    this.proc.resize(cols, rows);
    this.term.resize(cols, rows);
  }

  async exited(timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.exit === undefined) {
      if (Date.now() > deadline) throw new Error(`the program did not exit; screen:\n${this.text()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.exit;
  }

  kill(): void {
    if (this.exit === undefined) this.proc.kill();
    this.term.dispose();
  }
}

/** Rows joined and whitespace collapsed: a wrapped line reads as the original. */
export const flat = (s: string) => s.replace(/\s+/g, ' ');
