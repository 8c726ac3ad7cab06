// The wizard's entry point: src/cli.ts imports it only on a TTY. React and Ink are loaded from
// here, after NODE_ENV is settled, so their production builds load (smaller, faster first frame).
import type { CollectOptions, Snapshot } from '../types.js';
import type { AppServices } from './services.js';

export interface RunAppOptions {
  color: boolean;
  options?: CollectOptions;
  /** --peer [USER@]HOST (`hagw-doctor app`): the other node, read over SSH on every diagnosis */
  peer?: { host: string; sshConfig?: string };
  demo?: { scenario: string; snapshot: Snapshot; scenarios: string[] };
  /** tests: replace the pipeline, engine and generate */
  services?: AppServices;
}

/** Runs the app until the operator quits; the exit status is the last report's (as `check`), or 0. */
export async function runApp(opts: RunAppOptions): Promise<number> {
  // through an alias: the bundle defines process.env.NODE_ENV as a constant (React's production build)
  const env = process.env;
  env.NODE_ENV ??= 'production';
  const { runInk } = await withoutFetch(() => import('./run.js'));
  return runInk(opts);
}

/** yoga (Ink's layout engine) loads its inline WebAssembly through fetch() when there is one, which
 *  first loads Node's whole HTTP client; without fetch it decodes the same bytes directly, sooner.
 *  fetch is hidden only while the app's modules load (yoga instantiates during that import). */
async function withoutFetch<T>(load: () => Promise<T>): Promise<T> {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  if (!descriptor?.configurable) return load();
  Object.defineProperty(globalThis, 'fetch', { value: undefined, configurable: true, writable: true });
  try {
    return await load();
  } finally {
    Object.defineProperty(globalThis, 'fetch', descriptor);
  }
}
