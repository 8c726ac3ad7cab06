// The wizard's entry point (src/cli.ts imports it only on a TTY). Renders the first frame before
// the pipeline is loaded; the first diagnosis starts in the background for the home header.
import React from 'react';
import { render } from 'ink';
import type { CollectOptions, Snapshot } from '../types.js';
import { App } from './app.js';
import { Session } from './session.js';
import { liveServices } from './live.js';
import type { AppServices } from './services.js';

export interface RunAppOptions {
  color: boolean;
  options?: CollectOptions;
  demo?: { scenario: string; snapshot: Snapshot; scenarios: string[] };
  /** tests: replace the pipeline, engine and generate */
  services?: AppServices;
}

/** Runs the app until the operator quits; the exit status is the last report's (as `check`), or 0. */
export async function runApp(opts: RunAppOptions): Promise<number> {
  const services = opts.services ?? liveServices({ ...(opts.options ? { options: opts.options } : {}), ...(opts.demo ? { demo: opts.demo } : {}) });
  const session = new Session(services);
  const onSignal = () => session.requestQuit();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const instance = render(<App session={session} color={opts.color} />, { exitOnCtrlC: false, patchConsole: true });
  void session.diagnose();
  try {
    await instance.waitUntilExit();
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
  const report = session.getState().run?.report;
  if (!report) return 0;
  return report.summary.status === 'ok' ? 0 : report.summary.status === 'warning' ? 1 : report.summary.status === 'critical' ? 2 : 3;
}
