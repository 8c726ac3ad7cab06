// The other node's snapshot over SSH: its own `hagw-doctor snapshot` when it runs the same
// version, else the same probes run through its sh (src/peer/remote.ts). Never throws: whatever
// goes wrong becomes `reachable: false` with one reason, within a bounded time.
import type { CollectOptions, PeerStatus, ProbeRecord, Snapshot } from '../types.js';
import { SNAPSHOT_SCHEMA } from '../types.js';
import { PROVIDERS } from '../probes/index.js';
import { collectRecords } from '../probes/collect.js';
import { hostFactsFromRecords } from '../probes/host.js';
import { processesFrom } from '../probes/keepalived.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { cleanLine, type PeerSession, type PeerShell, type PeerTarget } from './ssh.js';
import { connectPeer, type PeerConnection } from './connect.js';
import { buildRound, shQuote, type PeerAbilities } from './remote.js';
import { PROBE_HOSTNAME } from '../probes/ids.js';
import { trace } from '../trace.js';

/** The whole peer collection, connect included, never takes longer than this by default. */
export const PEER_BUDGET_MS = 45_000;
const SNAPSHOT_MAX_BYTES = 96 * 1024 * 1024;

export interface PeerCollectResult {
  status: PeerStatus;
  snapshot?: Snapshot;
}

import { parseHello } from './hello.js';

/** What the peer's snapshot is collected with: this node's log window and walk choice, never a wire capture or a peer of its own. */
export function peerCollectOptions(options: CollectOptions): CollectOptions {
  return {
    ...(options.since ? { since: options.since } : {}),
    ...(options.conntrackWalk ? { conntrackWalk: true } : {}),
  };
}

/**
 * Collect the peer's snapshot over a connection started with connectPeer (or one started here),
 * then close it. The budget counts from this call.
 */
export async function collectPeer(
  target: PeerTarget,
  options: CollectOptions,
  opts: { budgetMs?: number; connection?: PeerConnection } = {},
): Promise<PeerCollectResult> {
  const budgetMs = opts.budgetMs ?? PEER_BUDGET_MS;
  const conn = opts.connection ?? connectPeer(target, Math.min(20_000, budgetMs));
  const deadline = Date.now() + budgetMs;
  let timer: NodeJS.Timeout | undefined;
  const overBudget = new Promise<PeerCollectResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          status: {
            host: target.host,
            reachable: false,
            via: 'ssh',
            reason: `${target.host} did not answer within ${Math.round(budgetMs / 1000)} s (a hung peer); the local check went on without it`,
          },
        }),
      budgetMs,
    );
    timer.unref?.();
  });
  try {
    return await Promise.race([collectOver(conn, options, deadline), overBudget]);
  } finally {
    clearTimeout(timer);
    await conn.close();
  }
}

async function collectOver(conn: PeerConnection, options: CollectOptions, deadline: number): Promise<PeerCollectResult> {
  const host = conn.target.host;
  const fail = (reason: string): PeerCollectResult => ({ status: { host, reachable: false, via: 'ssh', reason } });
  const left = () => Math.max(1000, deadline - Date.now());
  const opened = await conn.opened;
  if ('error' in opened) return fail(opened.error);
  const { shell, hello: helloRun } = opened;
  const session = conn.session!;
  // ssh's own failures never get here (openShell turns them into the error above): the sh itself failed
  if (!helloRun.ok) return fail(`${host} has no usable POSIX sh: ${cleanLine(helloRun.stderr) || `exit ${helloRun.exitCode}`}`);
  const hello = parseHello(helloRun.stdout);
  trace(`peer: uid ${hello.uid}${hello.sudo ? ' (sudo -n)' : ''}${hello.doctorVersion ? `, hagw-doctor ${hello.doctorVersion}` : ''}`);
  const root = hello.uid === 0 || hello.sudo;
  const prefix = hello.uid !== 0 && hello.sudo ? ['sudo', '-n'] : [];

  let snapshot: Snapshot | undefined;
  let via = 'its sh';
  // root through sudo -n: the kept shell becomes root's; if it cannot, each command asks sudo itself
  const elevated = prefix.length > 0 && (await shell.elevate(Math.min(10_000, left())));
  const remote: RemoteShell = { shell, elevated, prefix };
  if (hello.doctorPath && hello.doctorVersion === TOOL_VERSION) {
    snapshot = await viaDoctor(session, remote, hello.doctorPath, peerCollectOptions(options), left());
    if (snapshot) via = `its own hagw-doctor ${hello.doctorVersion}`;
  }
  if (!snapshot) {
    if (!hello.base64) return fail(`${host} has no base64 (coreutils): its probes cannot be read back safely`);
    snapshot = await viaSh(session, remote, { root, timeout: hello.timeout }, peerCollectOptions(options), deadline);
  }
  if (!snapshot) return fail(`${host} stopped answering while its probes ran`);
  const notes: string[] = [`read through ${via}`];
  if (!root) {
    const skipped = Object.values(snapshot.probes)
      .filter((r) => r.status === 'skipped' && /root/.test(r.reason ?? ''))
      .map((r) => r.id);
    notes.push(
      `no root on ${host} (the SSH user is not root and sudo -n is refused): ${skipped.length} probes were not read (${skipped.slice(0, 6).join(', ')}${skipped.length > 6 ? ', …' : ''})`,
    );
  }
  const isNode = snapshot.host.keepalived !== null || processesFrom(snapshot.probes).some((p) => p.ours);
  if (!isNode)
    return { status: { host, reachable: false, via: 'ssh', reason: `${host} is not a keepalived node (keepalived is neither installed nor running there)` } };
  return { status: { host, reachable: true, via: 'ssh', ...(!root ? { reason: notes.slice(1).join('; ') } : {}) }, snapshot };
}

/** Where the peer's commands run: the kept shell (already root when it could be made so), else one ssh session each. */
interface RemoteShell {
  shell: PeerShell;
  /** the kept shell is root's through sudo -n */
  elevated: boolean;
  /** sudo -n for a command run in a session of its own (the SSH user is not root) */
  prefix: string[];
}

/** The kept shell, when it is alive and has the root the commands need. */
function keptShell(remote: RemoteShell): PeerShell | undefined {
  return remote.shell.alive && (remote.elevated || remote.prefix.length === 0) ? remote.shell : undefined;
}

/** The peer's own `hagw-doctor snapshot` (on the kept shell when it is there), validated like any snapshot file; undefined on any failure. */
async function viaDoctor(session: PeerSession, remote: RemoteShell, doctor: string, options: CollectOptions, timeoutMs: number): Promise<Snapshot | undefined> {
  // --include-secrets: the peer's auth_pass travels only inside this SSH channel, as its sh path
  // reads it (its config as it is); this node redacts any snapshot it writes, the peer's part too.
  // A redacted one would cost a fingerprint (scrypt) per password on both nodes
  const args = ['--include-secrets', ...(options.since ? ['--since', options.since] : []), ...(options.conntrackWalk ? ['--conntrack-walk'] : [])];
  const limits = { timeoutMs: Math.min(60_000, timeoutMs), maxBytes: SNAPSHOT_MAX_BYTES };
  const started = performance.now();
  const kept = keptShell(remote);
  const r = kept
    ? await kept.exchange(`${[doctor, 'snapshot', ...args].map(shQuote).join(' ')} </dev/null`, limits)
    : await session.run([...remote.prefix, doctor, 'snapshot', ...args], limits);
  trace(`peer: its hagw-doctor snapshot in ${Math.round(performance.now() - started)} ms (exit ${r.exitCode}, ${r.stdout.length} bytes)`);
  if (!r.ok) return undefined;
  const { parseSnapshot } = await import('../snapshot-file.js');
  try {
    return parseSnapshot(r.stdout, `the snapshot of ${session.host}`);
  } catch {
    return undefined;
  }
}

/** The probes of every provider, round by round, each round one script on the kept shell (or one `sh -s` over the shared connection). */
async function viaSh(session: PeerSession, remote: RemoteShell, ab: PeerAbilities, options: CollectOptions, deadline: number): Promise<Snapshot | undefined> {
  let lost = false;
  const runRound = async (specs: Parameters<typeof buildRound>[0], records: Readonly<Record<string, ProbeRecord>>): Promise<ProbeRecord[]> => {
    const round = buildRound(specs, records, ab);
    if (!round.script || lost) return round.decode('', 0);
    const started = performance.now();
    const timeoutMs = Math.min(round.timeoutMs + 8000, Math.max(1000, deadline - Date.now()));
    const kept = keptShell(remote);
    const r = kept
      ? await kept.exchange(round.script, { timeoutMs, maxBytes: round.maxOutput })
      : await session.run([...remote.prefix, 'sh', '-s'], { input: round.script, timeoutMs, maxBytes: round.maxOutput });
    // a kept shell that ended by itself (not a timeout): the next rounds each run in a shell of their own
    if (r.exitCode === 255 || r.timedOut || (!kept && r.exitCode === undefined)) lost = true;
    trace(
      `peer ${kept ? 'shell' : 'sh -s'}: ${specs.length} probes in ${Math.round(performance.now() - started)} ms (exit ${r.exitCode}, ${r.stdout.length} bytes)`,
    );
    return round.decode(r.overflow ? '' : r.stdout, Math.round(performance.now() - started));
  };
  const probes = await collectRecords(PROVIDERS, options, ab.root, { runRound });
  if (lost && !probes[PROBE_HOSTNAME]?.stdout) return undefined;
  return {
    schema: SNAPSHOT_SCHEMA,
    createdAt: new Date().toISOString(),
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    options,
    host: hostFactsFromRecords(probes),
    probes,
  };
}
