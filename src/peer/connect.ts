// The peer's connection, started as early as the command line is read: authenticating over SSH
// takes a few hundred milliseconds, which overlap the loading of the rest of the doctor and this
// node's own probes. The first script on the kept shell is the hello (src/peer/hello.ts).
import { PeerError, PeerSession, cleanLine, type PeerShell, type PeerTarget, type RemoteResult } from './ssh.js';
import { HELLO_SCRIPT } from './hello.js';
import { trace } from '../trace.js';

export type PeerOpened = { shell: PeerShell; hello: RemoteResult } | { error: string };

export interface PeerConnection {
  target: PeerTarget;
  session: PeerSession | undefined;
  /** resolves once the hello was answered, or with the one-line reason it was not; never rejects */
  opened: Promise<PeerOpened>;
  /** end the shell and the connection; idempotent, never throws */
  close(): Promise<void>;
}

/** Start connecting to the peer now. */
export function connectPeer(target: PeerTarget, timeoutMs = 20_000): PeerConnection {
  let session: PeerSession | undefined;
  try {
    session = new PeerSession(target);
  } catch (err) {
    const error = (err as Error).message;
    return { target, session: undefined, opened: Promise.resolve({ error }), close: async () => undefined };
  }
  const s = session;
  trace(`peer: connecting to ${target.host}`);
  const opened: Promise<PeerOpened> = s.openShell({ input: HELLO_SCRIPT, maxBytes: 16 * 1024 }, timeoutMs).then(
    ({ shell, first }) => {
      trace('peer: connected, hello answered');
      return { shell, hello: first };
    },
    (err: unknown) => ({
      error: err instanceof PeerError ? err.message : `ssh to ${target.host} failed: ${cleanLine((err as Error)?.message ?? String(err))}`,
    }),
  );
  let closing: Promise<void> | undefined;
  return {
    target,
    session: s,
    opened,
    close() {
      closing ??= (async () => {
        const o = await Promise.race([opened, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
        if (o && 'shell' in o) o.shell.close();
        await s.close();
      })();
      return closing;
    },
  };
}
