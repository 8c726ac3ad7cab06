// Renders the app; the first frame comes before the pipeline is loaded, and the first diagnosis
// starts in the background for the home header. main.ts loads this.
import React from 'react';
import { render } from 'ink';
import { App } from './app.js';
import { Session } from './session.js';
import { liveServices } from './live.js';
import type { RunAppOptions } from './main.js';
import { exitStatus } from '../types.js';

export async function runInk(opts: RunAppOptions): Promise<number> {
  const services =
    opts.services ??
    liveServices({ ...(opts.options ? { options: opts.options } : {}), ...(opts.demo ? { demo: opts.demo } : {}), ...(opts.peer ? { peer: opts.peer } : {}) });
  const session = new Session(services);
  const onSignal = () => session.requestQuit();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  const instance = render(<App session={session} color={opts.color} />, { exitOnCtrlC: false, patchConsole: true, stdout: keepScrollback(process.stdout) });
  // the first diagnosis (for the home header) and the other screens' modules load behind the first
  // frame: spawning the probes in the same tick would hold the frame back. Literal import paths, so
  // the bundler includes them.
  setTimeout(() => {
    void session.diagnose();
    for (const load of [
      () => import('./screens/diagnose.js'),
      () => import('./screens/finding.js'),
      () => import('./screens/fix.js'),
      () => import('./screens/setup.js'),
      () => import('./screens/triage.js'),
      () => import('./screens/changes.js'),
    ]) {
      void load().catch(() => undefined);
    }
  }, 0);
  try {
    await instance.waitUntilExit();
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
  const report = session.getState().run?.report;
  if (!report) return 0;
  return exitStatus(report);
}

/** Ink clears the whole terminal, scrollback included (ESC[3J), when a frame is as tall as the
 *  screen; the operator's scrollback (the commands before, an earlier report) is never erased. The
 *  screen clear (ESC[2J) stays. Everything else passes through to the real stream. */
export function keepScrollback(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  const write = (chunk: unknown, ...rest: unknown[]) =>
    (stream.write as (...a: unknown[]) => boolean)(typeof chunk === 'string' ? chunk.replaceAll('\u001b[3J', '') : chunk, ...rest);
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === 'write') return write;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
