// One diagnosis at a time, observable: the Diagnose, Triage and Home screens all read the same
// run (useSyncExternalStore). No React here.
import type { CheckStatus, Finding, Report, Snapshot } from '../types.js';
import type { AppServices, CheckInfo } from './services.js';

export interface CheckRow {
  id: string;
  title: string;
  status: 'pending' | CheckStatus;
  reason?: string;
  findings: Finding[];
}

export interface RunState {
  id: number;
  phase: 'collecting' | 'analysing' | 'done' | 'failed';
  probes: number;
  rows: CheckRow[];
  /** this run also listens for VRRP adverts on the wire */
  wire?: boolean;
  snapshot?: Snapshot;
  report?: Report;
  error?: string;
}

/** A finished check row written once above the screen (Ink's <Static>). */
export interface StaticLine {
  key: string;
  row: CheckRow;
}

export interface SessionState {
  run?: RunState;
  /** append-only: the app's one <Static> prints each entry once */
  staticLog: StaticLine[];
  /** a fix is being applied: quitting waits for the engine to finish or roll back */
  applying: boolean;
  /** the change is the peer's, applied by its own doctor over SSH: Ctrl+C cannot stop it from here */
  applyingOn?: string;
  /** the operator asked to quit while applying */
  quitRequested: boolean;
}

export class Session {
  private state: SessionState = { staticLog: [], applying: false, quitRequested: false };
  private readonly listeners = new Set<() => void>();
  private inflight: Promise<Report | undefined> | undefined;
  private runCounter = 0;
  private checkList: readonly CheckInfo[] | undefined;

  /** the Setup / Generate answers so far: kept when the operator leaves and comes back, or switches between the two */
  setupAnswers: Record<string, string> = {};

  saveSetupAnswers(answers: Record<string, string>): void {
    this.setupAnswers = { ...answers };
  }

  constructor(readonly services: AppServices) {}

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getState = (): SessionState => this.state;

  private set(patch: Partial<SessionState>): void {
    this.replace({ ...this.state, ...patch });
  }

  private replace(next: SessionState): void {
    this.state = next;
    for (const fn of this.listeners) fn();
  }

  private setRun(id: number, patch: Partial<RunState> | ((r: RunState) => Partial<RunState>)): void {
    const run = this.state.run;
    if (!run || run.id !== id) return; // a newer run replaced this one
    this.set({ run: { ...run, ...(typeof patch === 'function' ? patch(run) : patch) } });
  }

  /** The current run's report, starting a run when there is none (or `fresh`). */
  diagnose(fresh = false, how: { wire?: boolean } = {}): Promise<Report | undefined> {
    if (this.inflight && !fresh) return this.inflight;
    if (!fresh && this.state.run?.phase === 'done') return Promise.resolve(this.state.run.report);
    const p = this.start(how);
    this.inflight = p;
    void p.finally(() => {
      if (this.inflight === p) this.inflight = undefined;
    });
    return p;
  }

  private async start(how: { wire?: boolean } = {}): Promise<Report | undefined> {
    const id = ++this.runCounter;
    this.checkList ??= await this.services.checks().catch(() => []);
    const rows: CheckRow[] = this.checkList.map((c) => ({ id: c.id, title: c.title, status: 'pending', findings: [] }));
    this.set({ run: { id, phase: 'collecting', probes: 0, rows, ...(how.wire ? { wire: true } : {}) } });
    try {
      const snapshot = await this.services.collect(() => this.setRun(id, (r) => ({ probes: r.probes + 1 })), how);
      this.setRun(id, { phase: 'analysing', snapshot });
      const report = await this.services.analyse(snapshot, (checkId, status, findings, reason) =>
        this.setRun(id, (r) => ({
          rows: r.rows.map((row) => (row.id === checkId ? { ...row, status, findings, ...(reason ? { reason } : {}) } : row)),
        })),
      );
      this.setRun(id, { phase: 'done', report });
      return report;
    } catch (err) {
      this.setRun(id, { phase: 'failed', error: (err as Error)?.message ?? String(err) });
      return undefined;
    }
  }

  /** The change engine's re-check: a fresh run whose report must exist. */
  async recheck(): Promise<Report> {
    const report = await this.diagnose(true);
    if (!report) throw new Error(this.state.run?.error ?? 're-check failed');
    return report;
  }

  private readonly printed = new Set<string>();

  /** Adds a run's finished rows, not printed yet, to the static log (the Diagnose screen calls it). */
  publishRows(runId: number, rows: readonly CheckRow[]): void {
    const fresh = rows.filter((r) => !this.printed.has(`${runId}:${r.id}`));
    if (!fresh.length) return;
    for (const r of fresh) this.printed.add(`${runId}:${r.id}`);
    this.set({ staticLog: [...this.state.staticLog, ...fresh.map((row) => ({ key: `${runId}:${row.id}`, row }))] });
  }

  private applyAbort: AbortController | undefined;

  /** A change starts: quitting now waits for it; the signal is the engine's cancel (cancelApply).
   *  peer: the change runs on that node, through its own doctor (nothing here can stop it). */
  beginApply(peer?: string): AbortSignal {
    this.applyAbort = new AbortController();
    const next: SessionState = { ...this.state, applying: true };
    if (peer) next.applyingOn = peer;
    else delete next.applyingOn;
    this.replace(next);
    return this.applyAbort.signal;
  }

  endApply(): void {
    this.applyAbort = undefined;
    const next: SessionState = { ...this.state, applying: false };
    delete next.applyingOn;
    this.replace(next);
  }

  /** Ctrl+C while applying: the engine finishes the step in flight, rolls back, and apply returns. */
  cancelApply(): void {
    this.applyAbort?.abort();
  }

  requestQuit(): void {
    this.set({ quitRequested: true });
  }
}
