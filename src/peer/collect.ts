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
import { PeerError, PeerSession, cleanLine, describeSshFailure, type PeerTarget } from './ssh.js';
import { buildRound, type PeerAbilities } from './remote.js';
import { PROBE_HOSTNAME } from '../probes/ids.js';
import { trace } from '../trace.js';

/** The whole peer collection, connect included, never takes longer than this by default. */
export const PEER_BUDGET_MS = 45_000;
const SNAPSHOT_MAX_BYTES = 96 * 1024 * 1024;

export interface PeerCollectResult {
  status: PeerStatus;
  snapshot?: Snapshot;
}

export interface PeerHello {
  uid: number;
  sudo: boolean;
  /** absolute path of the peer's hagw-doctor, when on its PATH */
  doctorPath?: string;
  doctorVersion?: string;
  timeout: boolean;
  base64: boolean;
}

export const HELLO_SCRIPT = [
  'printf "uid=%s\\n" "$(id -u)"',
  'if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then echo sudo=yes; fi',
  'd=$(command -v hagw-doctor 2>/dev/null) && printf "doctor=%s\\n" "$d" && printf "doctor-version=%s\\n" "$("$d" --version 2>/dev/null | head -c 64 | head -n 1)"',
  'command -v timeout >/dev/null 2>&1 && echo timeout=yes',
  'command -v base64 >/dev/null 2>&1 && echo base64=yes',
  'true',
  '',
].join('\n');

/** key=value lines; anything unexpected is ignored (hostile input). */
export function parseHello(text: string): PeerHello {
  const kv = new Map<string, string>();
  for (const line of text.split('\n').slice(0, 50)) {
    const m = /^([a-z0-9-]{1,20})=(.{0,300})$/.exec(line.trim());
    if (m) kv.set(m[1]!, m[2]!);
  }
  const uid = Number(kv.get('uid'));
  const doctor = kv.get('doctor');
  const version = /^\d+\.\d+\.\d+[A-Za-z0-9.+-]{0,40}$/.exec(kv.get('doctor-version') ?? '')?.[0];
  return {
    uid: Number.isInteger(uid) && uid >= 0 ? uid : -1,
    sudo: kv.get('sudo') === 'yes',
    ...(doctor && /^\/[A-Za-z0-9._/+-]{1,255}$/.test(doctor) ? { doctorPath: doctor } : {}),
    ...(version ? { doctorVersion: version } : {}),
    timeout: kv.get('timeout') === 'yes',
    base64: kv.get('base64') === 'yes',
  };
}

/** What the peer's snapshot is collected with: this node's log window and walk choice, never a wire capture or a peer of its own. */
export function peerCollectOptions(options: CollectOptions): CollectOptions {
  return {
    ...(options.since ? { since: options.since } : {}),
    ...(options.conntrackWalk ? { conntrackWalk: true } : {}),
  };
}

/** Open a session to the peer, collect its snapshot, close the session. */
export async function collectPeer(
  target: PeerTarget,
  options: CollectOptions,
  opts: { budgetMs?: number; session?: PeerSession } = {},
): Promise<PeerCollectResult> {
  const budgetMs = opts.budgetMs ?? PEER_BUDGET_MS;
  let session: PeerSession;
  try {
    session = opts.session ?? new PeerSession(target);
  } catch (err) {
    return { status: { host: target.host, reachable: false, via: 'ssh', reason: (err as Error).message } };
  }
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
    return await Promise.race([collectOver(session, options, deadline), overBudget]);
  } finally {
    clearTimeout(timer);
    if (!opts.session) await session.close();
  }
}

async function collectOver(session: PeerSession, options: CollectOptions, deadline: number): Promise<PeerCollectResult> {
  const host = session.host;
  const fail = (reason: string): PeerCollectResult => ({ status: { host, reachable: false, via: 'ssh', reason } });
  const left = () => Math.max(1000, deadline - Date.now());
  let helloRun;
  try {
    helloRun = await session.open({ argv: ['sh', '-s'], input: HELLO_SCRIPT, maxBytes: 16 * 1024 }, Math.min(20_000, left()));
  } catch (err) {
    if (err instanceof PeerError) return fail(err.message);
    return fail(`ssh to ${host} failed: ${cleanLine((err as Error).message)}`);
  }
  if (!helloRun.ok) {
    if (helloRun.exitCode === 255 || helloRun.timedOut) return fail(describeSshFailure(host, helloRun.stderr, helloRun.timedOut));
    return fail(`${host} has no usable POSIX sh: ${cleanLine(helloRun.stderr) || `exit ${helloRun.exitCode}`}`);
  }
  const hello = parseHello(helloRun.stdout);
  trace(`peer: connected, hello read (uid ${hello.uid}${hello.doctorVersion ? `, hagw-doctor ${hello.doctorVersion}` : ''})`);
  const root = hello.uid === 0 || hello.sudo;
  const prefix = hello.uid !== 0 && hello.sudo ? ['sudo', '-n'] : [];

  let snapshot: Snapshot | undefined;
  let via = 'its sh';
  if (hello.doctorPath && hello.doctorVersion === TOOL_VERSION) {
    snapshot = await viaDoctor(session, prefix, hello.doctorPath, peerCollectOptions(options), left());
    if (snapshot) via = `its own hagw-doctor ${hello.doctorVersion}`;
  }
  if (!snapshot) {
    if (!hello.base64) return fail(`${host} has no base64 (coreutils): its probes cannot be read back safely`);
    snapshot = await viaSh(session, prefix, { root, timeout: hello.timeout }, peerCollectOptions(options), deadline);
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

/** The peer's own `hagw-doctor snapshot`, validated like any snapshot file; undefined on any failure. */
async function viaDoctor(session: PeerSession, prefix: string[], doctor: string, options: CollectOptions, timeoutMs: number): Promise<Snapshot | undefined> {
  const args = [...(options.since ? ['--since', options.since] : []), ...(options.conntrackWalk ? ['--conntrack-walk'] : [])];
  const r = await session.run([...prefix, doctor, 'snapshot', ...args], { timeoutMs: Math.min(60_000, timeoutMs), maxBytes: SNAPSHOT_MAX_BYTES });
  if (!r.ok) return undefined;
  const { parseSnapshot } = await import('../snapshot-file.js');
  try {
    return parseSnapshot(r.stdout, `the snapshot of ${session.host}`);
  } catch {
    return undefined;
  }
}

/** The probes of every provider, round by round, each round one `sh -s` over the shared connection. */
async function viaSh(session: PeerSession, prefix: string[], ab: PeerAbilities, options: CollectOptions, deadline: number): Promise<Snapshot | undefined> {
  let lost = false;
  const runRound = async (specs: Parameters<typeof buildRound>[0], records: Readonly<Record<string, ProbeRecord>>): Promise<ProbeRecord[]> => {
    const round = buildRound(specs, records, ab);
    if (!round.script || lost) return round.decode('', 0);
    const started = performance.now();
    const timeoutMs = Math.min(round.timeoutMs + 8000, Math.max(1000, deadline - Date.now()));
    const r = await session.run([...prefix, 'sh', '-s'], { input: round.script, timeoutMs, maxBytes: round.maxOutput });
    if (r.exitCode === 255 || r.timedOut) lost = true;
    trace(`peer sh: ${specs.length} probes in ${Math.round(performance.now() - started)} ms (exit ${r.exitCode}, ${r.stdout.length} bytes)`);
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
