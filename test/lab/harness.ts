/**
 * The network-namespace lab: a real keepalived (VRRP, unicast) + SNAT gateway pair, a client
 * and an upstream host, built fresh per test file and always torn down. Root only.
 *
 *   import { createLab, requireRoot, ADDR, type Lab } from './harness.js';
 *   requireRoot();                                   // fail (not skip) when not root
 *   let lab: Lab;
 *   beforeAll(async () => { lab = await createLab(); });
 *   afterAll(() => lab?.destroy());
 *
 * A file whose tests each build their own lab (each with its own options) calls
 * destroyLabsAfterEach() once at its top level instead: every lab createLab() or pairLab() made
 * during a test is destroyed after it, passed or failed.
 *
 * createLab(opts?: { hardened?, start?, keepalivedConf?, keepalivedEnv? }): Promise<Lab>
 *     builds the topology (topology.ts), writes each gateway's /etc/netns/NS/{keepalived/,
 *     sysctl.d/ (empty), sysctl.conf, iproute2/ (a copy of the host's), network/interfaces (empty)
 *     where the host has /etc/iproute2 and /etc/network}, turns forwarding on in both gateways, starts keepalived on
 *     gw1 (MASTER 150) and gw2 (BACKUP 100) unless start:false, and waits for the steady state
 *     (gw1 holds both VIPs and last ran notify_master; gw2 holds none and last ran notify_backup).
 *     hardened: VRRP accepted from the peer in filter INPUT and NOTRACKed in raw PREROUTING/OUTPUT
 *     (default: policy ACCEPT, no raw rules). keepalivedConf(node): a keepalived.conf to write
 *     instead of keepalived-files.ts's (return undefined for the default). keepalivedEnv(node): the
 *     environment keepalived starts with (`env -i` + these; e.g. systemd's minimal PATH), or undefined.
 *
 * Lab
 *   prefix 'hdXXXXXX-', id 'hdXXXXXX', nodes: node -> namespace, addr (= ADDR), hardened
 *   runDir /tmp/hdXXXXXX, nodeDir(node), etcPath(node, rel), keepalivedLogPath(node), notifyLogPath(node)
 *   exec(node, argv, {timeoutMs?, env?, input?}) -> ExecResult    `ip netns exec`, never rejects
 *   execOk(node, argv, opts?) / runOk(argv, opts?)                 same in node / on the host (`ip -n ...`), throw on failure
 *   sh(node, script, opts?)                                        `sh -c`: setup convenience only
 *   writeEtc(node, rel, content, mode = 0o644) / readEtc(node, rel)  /etc/netns/NS/rel = /etc/rel in the node
 *   startKeepalived(node): Promise<pid> / stopKeepalived(node) (SIGTERM, waits for exit + notify_stop)
 *   keepalivedPid(node): number | undefined / keepalivedLog(node): Promise<string> / notifyEvents(node)
 *   waitFor(fn, {what, timeoutMs?, intervalMs?})                   poll until truthy, returns the value, throws naming `what`
 *   waitForMaster(node) (both VIPs) / waitForNoVip(node) / waitForSteadyState()
 *   holdsVip(node, vip) / addresses(node) / hasRule(node, table, chain, ruleArgv)
 *   ping(from, toAddr, {count?, timeoutS?}): Promise<boolean>
 *   capture(node, iface, filterArgv, during, {count?, timeoutMs?}): Promise<string[]>  tcpdump lines
 *   conntrackVrrp(node): Promise<ConntrackVrrpEntry[]>            `conntrack -L -p 112`, parsed, .nated
 *   scenario(name, node?): Promise<ScenarioResult>                 scenarios.ts; waits for the effect
 *   harden(gw) / addNode(node)
 *   report(node, args?, env?): Promise<{exitCode, report, stderr}>  `check --json`, the report parsed (typed as src/types.ts's Report)
 *   doctor(node, args, env?): Promise<{exitCode, stdout, stderr, json?}>
 *       `ip netns exec NS node REPO/bin/hagw-doctor ...args`, NO_COLOR=1, HAGW_DOCTOR_STATE_DIR /
 *       _LOCK / _LOG inside the run dir; json parsed when args hold --json or --format json
 *   destroy(): Promise<void>   idempotent: stops keepalived, kills every process in the lab's
 *       namespaces (`ip netns pids`), deletes them, /etc/netns/PFX-* and the run dir
 * pairLab(opts?): Promise<Lab>  createLab without starting, then gw1 first (MASTER, both VIPs), then gw2,
 *     and the steady state: no start-up election race, whose notify scripts may run out of order (catalogue 22)
 * destroyLabsAfterEach()        registers beforeEach/afterEach: the labs made during each test are destroyed after it
 * sweepStaleLabs(): Promise<ids>   removes labs whose owner (RUN/owner.json: pid + start time) is
 *     gone; createLab calls it. Exit/SIGINT/SIGTERM/SIGHUP handlers destroy live labs synchronously.
 * labLeftovers(id): string[]       what of a lab is still on the host (for teardown assertions)
 * waitFor, REPO_ROOT, ADDR         also exported on their own
 *
 * keepalived runs as `ip netns exec NS setsid keepalived -n -l -D -f /etc/keepalived/keepalived.conf
 * -p RUN/NODE/keepalived.pid -r RUN/NODE/vrrp.pid -c RUN/NODE/checkers.pid`, stdout+stderr appended
 * to RUN/NODE/keepalived.log (so /proc/PID/fd/1 names the log), in a session of its own. Each
 * keepalived gets a private /tmp (RUN/NODE/tmp, with the run dir bound back at its own path inside
 * it): keepalived 2.2.7 writes its SIGUSR1/USR2 dumps to the fixed /tmp/keepalived.data/.stats, and
 * this Debian build has no `instance`/`net_namespace` keyword to tell nodes apart. Read a node's
 * dump as /proc/PID/root/tmp/keepalived.data. Nothing else collides: the pid files are per node
 * (-p/-r/-c) and keepalived -n creates nothing in /run.
 */
import { execa } from 'execa';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { afterEach, beforeEach } from 'vitest';
import type { Report } from '../../src/types.js';
import { keepalivedConf, hardenedRules, notifyScript, type NotifyKind } from './keepalived-files.js';
import { applyScenario, type ScenarioName, type ScenarioResult } from './scenarios.js';
import { ADDR, BASE_LINKS, NODE_SUFFIX, PREFIX_PATTERN, linkCommands, type GatewayNode, type LabNode } from './topology.js';

export { ADDR, type LabNode, type GatewayNode } from './topology.js';
export type { ScenarioName, ScenarioResult } from './scenarios.js';

/** The repository root, found from this file (test/lab/harness.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMMAND_ENV = { LC_ALL: 'C', LANG: 'C', PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}` };
const ETC_NETNS = '/etc/netns';
const DEFAULT_WAIT_MS = 20_000;

export interface ExecResult {
  /** undefined when the command could not start or was killed */
  exitCode: number | undefined;
  ok: boolean;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  command: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  input?: string;
  /** working directory (a command run as nobody needs one it may enter) */
  cwd?: string;
}

export interface DoctorResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when args include --json (or --format json) and it parses */
  json?: unknown;
}

export interface ConntrackVrrpEntry {
  line: string;
  origSrc: string;
  origDst: string;
  replySrc: string;
  replyDst: string;
  /** reply dst differs from the original src: the adverts' addresses are being rewritten */
  nated: boolean;
}

export interface LabOptions {
  /** accept VRRP from the peer in filter INPUT and NOTRACK VRRP in raw (default false: policy ACCEPT, no raw rules) */
  hardened?: boolean;
  /** start keepalived on gw1 and gw2 and wait for the steady state (default true) */
  start?: boolean;
  /** a keepalived.conf to write instead of the default one (undefined: default) */
  keepalivedConf?: (node: GatewayNode) => string | undefined;
  /** the environment keepalived starts with instead of the harness's (e.g. a minimal PATH, as systemd gives it) */
  keepalivedEnv?: (node: LabNode) => Record<string, string> | undefined;
}

/** Lab tests must fail, not skip, when they cannot run. */
export function requireRoot(): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error('lab tests need root: run as root (CI does)');
  }
}

async function run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run: empty argv');
  const r = await execa(file, args, {
    reject: false,
    timeout: opts.timeoutMs ?? 15_000,
    env: { ...COMMAND_ENV, ...opts.env },
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  });
  return {
    exitCode: r.exitCode,
    ok: r.exitCode === 0,
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    stderr: typeof r.stderr === 'string' ? r.stderr : '',
    timedOut: r.timedOut,
    command: argv.join(' '),
  };
}

async function must(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
  const r = await run(argv, opts);
  if (!r.ok) throw new Error(`lab: \`${r.command}\` failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r;
}

/** Poll fn until it returns something truthy; throw, naming what was awaited, at the deadline. */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: { what: string; timeoutMs?: number; intervalMs?: number }): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

// ---- processes -------------------------------------------------------------------------------

/** "pid (comm) S ppid ...": the state and start time, or undefined when the process is gone. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0] ?? '?', start: f[19] ?? '' };
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function nsPidsSync(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', env: COMMAND_ENV, timeout: 5000 });
  return (r.stdout ?? '')
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/** TERM, then KILL whatever is still there after graceMs. */
function killAllSync(pids: number[], graceMs: number): void {
  for (const pid of pids) kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) sleepSync(50);
  for (const pid of pids.filter(alive)) kill(pid, 'SIGKILL');
  const hard = Date.now() + 2000;
  while (pids.some(alive) && Date.now() < hard) sleepSync(20);
}

function listNamespacesSync(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', env: COMMAND_ENV, timeout: 5000 });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Everything a lab with this id left on the host, removed without asking anyone (sync: also runs from exit handlers). */
function removeLabSync(id: string, graceMs: number): void {
  const namespaces = listNamespacesSync().filter((n) => n.startsWith(`${id}-`));
  for (let round = 0; round < 3; round++) {
    const pids = namespaces.flatMap(nsPidsSync);
    if (pids.length === 0) break;
    killAllSync(pids, graceMs);
  }
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns], { env: COMMAND_ENV, timeout: 5000 });
  for (const entry of safeReaddir(ETC_NETNS)) {
    if (entry.startsWith(`${id}-`)) rmSync(path.join(ETC_NETNS, entry), { recursive: true, force: true });
  }
  rmSync(path.join('/tmp', id), { recursive: true, force: true });
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

interface Owner {
  pid: number;
  start: string;
}

function ownerAlive(id: string): boolean {
  const dir = path.join('/tmp', id);
  let owner: Owner;
  try {
    owner = JSON.parse(readFileSync(path.join(dir, 'owner.json'), 'utf8')) as Owner;
  } catch {
    // a run dir younger than a minute without owner.json is a lab being created right now
    try {
      return Date.now() - statSync(dir).mtimeMs < 60_000;
    } catch {
      return false;
    }
  }
  const s = procStat(owner.pid);
  return s !== undefined && s.state !== 'Z' && s.start === owner.start;
}

/**
 * Remove the namespaces, /etc/netns entries and run dirs of earlier labs whose owning process
 * is gone (a crashed or killed run). Labs of live processes (other engineers' runs) are left alone.
 * Returns the ids removed.
 */
export async function sweepStaleLabs(): Promise<string[]> {
  const ids = new Set<string>();
  for (const name of [...listNamespacesSync(), ...safeReaddir(ETC_NETNS)]) {
    const m = PREFIX_PATTERN.exec(name);
    if (m?.[1]) ids.add(m[1]);
  }
  for (const name of safeReaddir('/tmp')) {
    if (/^hd[0-9a-f]{6}$/.test(name) && existsSync(path.join('/tmp', name, 'owner.json'))) ids.add(name);
  }
  const removed: string[] = [];
  for (const id of ids) {
    if (ownerAlive(id)) continue;
    removeLabSync(id, 500);
    removed.push(id);
  }
  return removed;
}

// ---- teardown on exit --------------------------------------------------------------------------

const liveLabs = new Set<Lab>();
let handlersInstalled = false;

function destroyAllSync(): void {
  for (const lab of [...liveLabs]) lab.destroySync();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', destroyAllSync);
  // worker threads get no signals; the fork or main process that does cleans up for them via 'exit'
  if (!isMainThread) return;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      destroyAllSync();
      // with our handler gone, re-raising gets the default action (or whoever else listens)
      process.kill(process.pid, sig);
    });
  }
}

// ---- the lab ------------------------------------------------------------------------------------

const GATEWAYS: readonly GatewayNode[] = ['gw1', 'gw2'];
const BASE_NODES: readonly LabNode[] = ['sw', 'gw1', 'gw2', 'client', 'upstream'];

export class Lab {
  readonly id: string;
  readonly prefix: string;
  readonly runDir: string;
  readonly nodes: Readonly<Record<LabNode, string>>;
  readonly addr = ADDR;
  readonly hardened: boolean;
  private readonly keepalived = new Map<LabNode, ChildProcess>();
  /** per node: the environment keepalived is started with (LabOptions.keepalivedEnv), else COMMAND_ENV */
  keepalivedEnv: (node: LabNode) => Record<string, string> | undefined = () => undefined;
  private readonly helpers = new Set<ChildProcess>();
  private destroying: Promise<void> | undefined;
  private destroyed = false;

  constructor(id: string, hardened: boolean) {
    this.id = id;
    this.prefix = `${id}-`;
    this.runDir = path.join('/tmp', id);
    this.hardened = hardened;
    const nodes = {} as Record<LabNode, string>;
    for (const [node, suffix] of Object.entries(NODE_SUFFIX) as [LabNode, string][]) nodes[node] = `${this.prefix}${suffix}`;
    this.nodes = nodes;
  }

  nodeDir(node: LabNode): string {
    return path.join(this.runDir, node);
  }

  keepalivedLogPath(node: LabNode): string {
    return path.join(this.nodeDir(node), 'keepalived.log');
  }

  notifyLogPath(node: LabNode): string {
    return path.join(this.nodeDir(node), 'notify.log');
  }

  etcPath(node: LabNode, rel: string): string {
    return path.join(ETC_NETNS, this.nodes[node], rel);
  }

  /** Run argv inside the node (`ip netns exec`). Never rejects: look at exitCode/ok. */
  exec(node: LabNode, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', this.nodes[node], ...argv], opts);
  }

  /** Like exec, but throws with the command's stderr when it fails (for setup steps that must work). */
  execOk(node: LabNode, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return must(['ip', 'netns', 'exec', this.nodes[node], ...argv], opts);
  }

  /** A host-side command that must succeed, e.g. `ip -n NS ...` (never add anything to the root namespace). */
  runOk(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return must(argv, opts);
  }

  /** `sh -c script` inside the node: test setup convenience only, prefer exec with an argv. */
  sh(node: LabNode, script: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.exec(node, ['sh', '-c', script], opts);
  }

  /**
   * Write /etc/netns/NS/rel, which the node sees as /etc/rel (`ip netns exec` bind-mounts each
   * entry of /etc/netns/NS over /etc at every exec; a new top-level entry needs /etc/ENTRY on the host).
   */
  async writeEtc(node: LabNode, rel: string, content: string, mode = 0o644): Promise<string> {
    const file = this.etcPath(node, rel);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
    await writeFile(file, content, { mode });
    await chmod(file, mode);
    return file;
  }

  readEtc(node: LabNode, rel: string): Promise<string> {
    return readFile(this.etcPath(node, rel), 'utf8');
  }

  waitFor<T>(fn: () => T | Promise<T>, opts: { what: string; timeoutMs?: number; intervalMs?: number }): Promise<NonNullable<T>> {
    return waitFor(fn, opts);
  }

  /** IPv4 addresses on the node's interfaces (from `ip -j addr`). */
  async addresses(node: LabNode): Promise<string[]> {
    const r = await must(['ip', '-n', this.nodes[node], '-j', '-4', 'addr', 'show']);
    const links = JSON.parse(r.stdout || '[]') as { addr_info?: { local?: string }[] }[];
    return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? '')).filter(Boolean);
  }

  async holdsVip(node: LabNode, vip: string): Promise<boolean> {
    return (await this.addresses(node)).includes(vip);
  }

  /** Wait until the node holds both VIPs (LAN and WAN). */
  async waitForMaster(node: LabNode, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await waitFor(
      async () => {
        const a = await this.addresses(node);
        return a.includes(ADDR.lanVip) && a.includes(ADDR.wanVip);
      },
      { what: `${node} to hold both VIPs (${ADDR.lanVip}, ${ADDR.wanVip})`, timeoutMs },
    );
  }

  /** Wait until the node holds neither VIP. */
  async waitForNoVip(node: LabNode, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await waitFor(
      async () => {
        const a = await this.addresses(node);
        return !a.includes(ADDR.lanVip) && !a.includes(ADDR.wanVip);
      },
      { what: `${node} to hold no VIP`, timeoutMs },
    );
  }

  /** `iptables -t TABLE -C CHAIN rule...` inside the node. */
  async hasRule(node: LabNode, table: string, chain: string, rule: readonly string[]): Promise<boolean> {
    return (await this.exec(node, ['iptables', '-w', '-t', table, '-C', chain, ...rule])).ok;
  }

  /** One ICMP echo (or count) from a node to an address; true when answered. */
  async ping(from: LabNode, to: string, opts: { count?: number; timeoutS?: number } = {}): Promise<boolean> {
    const r = await this.exec(from, ['ping', '-n', '-q', '-c', String(opts.count ?? 1), '-W', String(opts.timeoutS ?? 2), to], { timeoutMs: 30_000 });
    return r.ok;
  }

  /**
   * Capture with tcpdump on the node's interface while `during` runs: waits until tcpdump
   * listens, runs during(), then returns the lines once `count` packets were seen (or throws at timeoutMs).
   */
  async capture(
    node: LabNode,
    iface: string,
    filter: readonly string[],
    during: () => Promise<unknown>,
    opts: { count?: number; timeoutMs?: number } = {},
  ): Promise<string[]> {
    const count = opts.count ?? 1;
    const child = spawn('ip', ['netns', 'exec', this.nodes[node], 'tcpdump', '-l', '-n', '-i', iface, '-c', String(count), ...filter], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: COMMAND_ENV,
    });
    this.helpers.add(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`tcpdump exited: ${err.trim()}`);
          return err.includes('listening on');
        },
        { what: `tcpdump to listen on ${node}/${iface}`, timeoutMs: 10_000, intervalMs: 50 },
      );
      await during();
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), opts.timeoutMs ?? 15_000).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        throw new Error(`capture on ${node}/${iface} [${filter.join(' ')}]: fewer than ${count} packets; saw:\n${out}`);
      }
      return out.split('\n').filter(Boolean);
    } finally {
      if (child.exitCode === null) kill(child.pid!, 'SIGTERM');
      this.helpers.delete(child);
    }
  }

  /** `conntrack -L -p 112` inside the node, parsed. */
  async conntrackVrrp(node: LabNode): Promise<ConntrackVrrpEntry[]> {
    const r = await this.exec(node, ['conntrack', '-L', '-p', '112']);
    const entries: ConntrackVrrpEntry[] = [];
    for (const line of r.stdout.split('\n')) {
      const pairs = [...line.matchAll(/\b(src|dst)=(\S+)/g)].map((m) => m[2] ?? '');
      if (pairs.length < 4) continue;
      const [origSrc, origDst, replySrc, replyDst] = pairs as [string, string, string, string];
      entries.push({ line: line.trim(), origSrc, origDst, replySrc, replyDst, nated: replyDst !== origSrc });
    }
    return entries;
  }

  // ---- keepalived ----

  keepalivedPid(node: LabNode): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(this.nodeDir(node), 'keepalived.pid'), 'utf8').trim());
      return pid > 0 && alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async keepalivedLog(node: LabNode): Promise<string> {
    return readFile(this.keepalivedLogPath(node), 'utf8').catch(() => '');
  }

  /** The notify events the node's scripts recorded, oldest first: 'master' | 'backup' | 'fault' | 'stop'. */
  async notifyEvents(node: LabNode): Promise<NotifyKind[]> {
    const text = await readFile(this.notifyLogPath(node), 'utf8').catch(() => '');
    return text
      .split('\n')
      .map((l) => l.split(' ')[1] as NotifyKind)
      .filter(Boolean);
  }

  /** Start keepalived in the node (detached, own session, private /tmp); resolves with its pid once it started up. */
  async startKeepalived(node: LabNode): Promise<number> {
    if (this.keepalivedPid(node)) throw new Error(`keepalived already runs on ${node}`);
    const dir = this.nodeDir(node);
    const privTmp = path.join(dir, 'tmp');
    mkdirSync(path.join(privTmp, this.id), { recursive: true });
    const logFile = this.keepalivedLogPath(node);
    const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
    rmSync(path.join(dir, 'keepalived.pid'), { force: true });
    const argv = [
      'keepalived',
      '-n',
      '-l',
      '-D',
      '-f',
      '/etc/keepalived/keepalived.conf',
      '-p',
      `${dir}/keepalived.pid`,
      '-r',
      `${dir}/vrrp.pid`,
      '-c',
      `${dir}/checkers.pid`,
    ];
    // `ip netns exec` already gave us a mount namespace of our own: put a private /tmp in it
    // (with the run dir bound back at its own path) so the nodes' /tmp/keepalived.* never collide
    const script = `mount --bind '${this.runDir}' '${privTmp}/${this.id}' && mount --rbind '${privTmp}' /tmp && exec setsid ${argv.join(' ')}`;
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      // not detached: setsid then makes the session itself without forking, so child.pid is keepalived's pid
      // `ip netns exec` and sh need a PATH of their own; keepalived gets the node's environment through env(1)
      const env = this.keepalivedEnv(node);
      const argvEnv = env ? ['env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)] : [];
      child = spawn('ip', ['netns', 'exec', this.nodes[node], ...argvEnv, 'sh', '-c', script], { stdio: ['ignore', fd, fd], env: COMMAND_ENV });
    } finally {
      closeSync(fd);
    }
    child.unref();
    child.on('error', () => undefined);
    this.keepalived.set(node, child);
    const pid = await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          const log = (await this.keepalivedLog(node)).slice(logStart);
          throw new Error(`keepalived on ${node} exited (${child.exitCode ?? child.signalCode}):\n${log.slice(-2000)}`);
        }
        const log = (await this.keepalivedLog(node)).slice(logStart);
        return log.includes('Startup complete') ? this.keepalivedPid(node) : undefined;
      },
      { what: `keepalived to start on ${node} (log ${logFile})`, timeoutMs: 15_000, intervalMs: 100 },
    );
    if (pid !== child.pid) throw new Error(`keepalived on ${node}: pid file says ${pid}, started ${child.pid}`);
    return pid;
  }

  /** SIGTERM keepalived and wait for it to exit and (on gw1/gw2) for notify_stop to have run. */
  async stopKeepalived(node: LabNode, timeoutMs = 15_000): Promise<void> {
    const pid = this.keepalivedPid(node);
    if (!pid) return;
    const stopsBefore = (await this.notifyEvents(node)).filter((e) => e === 'stop').length;
    kill(pid, 'SIGTERM');
    await waitFor(() => !alive(pid), { what: `keepalived (pid ${pid}) on ${node} to exit`, timeoutMs, intervalMs: 100 });
    this.keepalived.delete(node);
    if (node === 'gw1' || node === 'gw2') {
      const conf = await this.readEtc(node, 'keepalived/keepalived.conf').catch(() => '');
      if (conf.includes('notify_stop')) {
        await waitFor(async () => (await this.notifyEvents(node)).filter((e) => e === 'stop').length > stopsBefore, {
          what: `notify_stop to run on ${node}`,
          timeoutMs: 10_000,
          intervalMs: 100,
        });
      }
    }
  }

  // ---- scenarios and the doctor ----

  scenario(name: ScenarioName, node?: LabNode): Promise<ScenarioResult> {
    return applyScenario(this, name, node);
  }

  /** `check --json` (plus args) inside the node: the parsed report, or a thrown error quoting what it printed. */
  async report<T = Report>(
    node: LabNode,
    args: readonly string[] = [],
    env: Record<string, string> = {},
  ): Promise<{ exitCode: number | undefined; report: T; stderr: string }> {
    const r = await this.doctor(node, ['check', '--json', ...args], env);
    if (r.json === undefined) throw new Error(`check --json on ${node} printed no JSON (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
    return { exitCode: r.exitCode, report: r.json as T, stderr: r.stderr };
  }

  /** Run the doctor inside the node; its change-engine state, lock and log live in the run dir. */
  async doctor(node: LabNode, args: readonly string[], env: Record<string, string> = {}): Promise<DoctorResult> {
    const d = path.join(this.runDir, 'doctor', node);
    await mkdir(path.join(d, 'state'), { recursive: true });
    const r = await this.exec(node, [process.execPath, path.join(REPO_ROOT, 'bin', 'hagw-doctor'), ...args], {
      timeoutMs: 120_000,
      env: {
        HAGW_DOCTOR_STATE_DIR: path.join(d, 'state'),
        HAGW_DOCTOR_LOCK: path.join(d, 'hagw-doctor.lock'),
        HAGW_DOCTOR_LOG: path.join(d, 'hagw-doctor.log'),
        NO_COLOR: '1',
        ...env,
      },
    });
    const result: DoctorResult = { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    const i = args.indexOf('--format');
    if (args.includes('--json') || (i >= 0 && args[i + 1] === 'json') || args.includes('--format=json')) {
      try {
        result.json = JSON.parse(r.stdout);
      } catch {
        // left undefined: the caller asserts on stdout/stderr
      }
    }
    return result;
  }

  // ---- building ----

  /** Add a node namespace with lo up. */
  async addNode(node: LabNode): Promise<void> {
    await must(['ip', 'netns', 'add', this.nodes[node]]);
    await must(['ip', '-n', this.nodes[node], 'link', 'set', 'lo', 'up']);
  }

  async build(opts: LabOptions): Promise<void> {
    mkdirSync(this.runDir, { recursive: true, mode: 0o755 });
    // the owner first, so a sweep from another run never takes this lab for a stale one
    writeFileSync(path.join(this.runDir, 'owner.json'), JSON.stringify({ pid: process.pid, start: procStat(process.pid)?.start ?? '' }));
    for (const node of BASE_NODES) {
      await this.addNode(node);
      mkdirSync(this.nodeDir(node), { recursive: true });
    }
    for (const bridge of ['lan', 'wan']) {
      await must(['ip', '-n', this.nodes.sw, 'link', 'add', bridge, 'type', 'bridge']);
      await must(['ip', '-n', this.nodes.sw, 'link', 'set', bridge, 'up']);
    }
    const ns = (n: LabNode) => this.nodes[n];
    for (const link of BASE_LINKS) for (const argv of linkCommands(link, ns)) await must(argv);
    await must(['ip', '-n', this.nodes.client, 'route', 'add', 'default', 'via', ADDR.lanVip]);
    for (const gw of GATEWAYS) {
      // both members forward, as `generate`'s sysctl.conf sets on each; notify_master sets it again
      await this.execOk(gw, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      await this.writeGatewayEtc(gw, opts.keepalivedConf?.(gw));
      if (opts.hardened) await this.harden(gw);
    }
    if (opts.start ?? true) {
      await Promise.all(GATEWAYS.map((gw) => this.startKeepalived(gw)));
      await this.waitForSteadyState();
    }
  }

  /** /etc/netns/NS/: keepalived.conf, scripts/notify_*.sh (root, 0755), an empty sysctl.d/ and a sysctl.conf of its own. */
  async writeGatewayEtc(gw: GatewayNode, conf?: string): Promise<void> {
    await mkdir(this.etcPath(gw, 'sysctl.d'), { recursive: true, mode: 0o755 });
    // only where the host has one: `ip netns exec` can bind an entry only over an existing /etc/ENTRY
    // (Debian 13 dropped /etc/sysctl.conf), and complains on every exec otherwise
    if (existsSync('/etc/sysctl.conf')) await this.writeEtc(gw, 'sysctl.conf', `# ${gw}: the lab node's own /etc/sysctl.conf (the host's is hidden)\n`);
    // fixes write the network configuration and rt_tables: each node has its own (a copy of the
    // host's iproute2/, an empty network/interfaces), so nothing a lab fix writes reaches the host's /etc
    if (existsSync('/etc/iproute2') && !existsSync(this.etcPath(gw, 'iproute2'))) cpSync('/etc/iproute2', this.etcPath(gw, 'iproute2'), { recursive: true });
    // the host's conntrackd.conf (CI installs conntrackd) is not the lab node's: an empty one of its own
    if (existsSync('/etc/conntrackd') && !existsSync(this.etcPath(gw, 'conntrackd')))
      await mkdir(this.etcPath(gw, 'conntrackd'), { recursive: true, mode: 0o755 });
    if (existsSync('/etc/network') && !existsSync(this.etcPath(gw, 'network')))
      await this.writeEtc(gw, 'network/interfaces', `# ${gw}: the lab node's own /etc/network/interfaces (the host's is hidden)\n`);
    await this.writeEtc(gw, 'keepalived/keepalived.conf', conf ?? keepalivedConf(gw));
    for (const kind of ['master', 'backup', 'fault', 'stop'] as const) {
      await this.writeEtc(gw, `keepalived/scripts/notify_${kind}.sh`, notifyScript(kind, this.notifyLogPath(gw)), 0o755);
    }
    for (const dir of ['', 'keepalived', 'keepalived/scripts', ...(existsSync(this.etcPath(gw, 'network')) ? ['network'] : [])])
      await chmod(this.etcPath(gw, dir), 0o755);
  }

  /** The hardened static rules: accept VRRP from the peer (filter INPUT), NOTRACK VRRP (raw PREROUTING/OUTPUT). */
  async harden(gw: GatewayNode): Promise<void> {
    for (const { table, chain, rule } of hardenedRules(gw)) {
      if (!(await this.hasRule(gw, table, chain, rule))) await this.execOk(gw, ['iptables', '-w', '-t', table, '-A', chain, ...rule]);
    }
  }

  /** gw1 holds both VIPs and ran notify_master last; gw2 holds none and ran notify_backup last. */
  async waitForSteadyState(timeoutMs = 30_000): Promise<void> {
    await this.waitForMaster('gw1', timeoutMs);
    await this.waitForNoVip('gw2', timeoutMs);
    await waitFor(async () => (await this.notifyEvents('gw1')).at(-1) === 'master', { what: 'notify_master to run on gw1', timeoutMs });
    await waitFor(async () => (await this.notifyEvents('gw2')).at(-1) === 'backup', { what: 'notify_backup to run on gw2', timeoutMs });
  }

  // ---- teardown ----

  /** Idempotent: stop keepalived (notify_stop runs), kill every process in the lab, remove namespaces, /etc/netns/PFX-*, the run dir. */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      if (this.destroyed) return;
      await Promise.all((['gw1', 'gw2', 'gw3'] as const).map((n) => this.stopKeepalived(n, 10_000).catch(() => undefined)));
      this.destroySync();
    })();
    return this.destroying;
  }

  /** The same without waiting for keepalived to stop gracefully (runs from exit and signal handlers). */
  destroySync(): void {
    if (this.destroyed) return;
    for (const child of [...this.helpers, ...this.keepalived.values()]) if (child.pid && child.exitCode === null) kill(child.pid, 'SIGTERM');
    removeLabSync(this.id, 3000);
    this.destroyed = true;
    liveLabs.delete(this);
  }
}

/** Build a lab (see the top of this file). On any failure the partial lab is destroyed before the error is thrown. */
export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  requireRoot();
  for (const dir of ['/etc/keepalived', '/etc/sysctl.d']) {
    // `ip netns exec` binds /etc/netns/NS/ENTRY only over an existing /etc/ENTRY; the lab adds nothing to the host's /etc
    if (!existsSync(dir)) throw new Error(`the lab needs ${dir} on the host (install keepalived and procps)`);
  }
  await sweepStaleLabs();
  installExitHandlers();
  let id: string;
  do id = `hd${randomBytes(3).toString('hex')}`;
  while (existsSync(path.join('/tmp', id)) || safeReaddir(ETC_NETNS).some((e) => e.startsWith(`${id}-`)));
  const lab = new Lab(id, opts.hardened ?? false);
  if (opts.keepalivedEnv) lab.keepalivedEnv = opts.keepalivedEnv;
  liveLabs.add(lab);
  try {
    await lab.build(opts);
  } catch (err) {
    const logs = await Promise.all(GATEWAYS.map(async (gw) => `--- ${gw} keepalived log ---\n${(await lab.keepalivedLog(gw)).slice(-3000)}`));
    await lab.destroy();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logs.join('\n')}`, { cause: err });
  }
  return lab;
}

/** The default pair started one node after the other: gw1 first (MASTER, both VIPs), then gw2, then
 *  the steady state. No start-up election race, whose notify scripts may run out of order (catalogue 22). */
export async function pairLab(opts: Omit<LabOptions, 'start'> = {}): Promise<Lab> {
  const lab = await createLab({ ...opts, start: false });
  try {
    await lab.startKeepalived('gw1');
    await lab.waitForMaster('gw1');
    await lab.startKeepalived('gw2');
    await lab.waitForSteadyState();
  } catch (err) {
    await lab.destroy();
    throw err;
  }
  return lab;
}

/** For a file whose tests each build their own lab: call once at its top level. Every lab made
 *  during a test (createLab, pairLab) is destroyed after that test, passed or failed. */
export function destroyLabsAfterEach(): void {
  let before = new Set<Lab>();
  beforeEach(() => {
    before = new Set(liveLabs);
  });
  afterEach(async () => {
    for (const lab of [...liveLabs].filter((l) => !before.has(l)).reverse()) await lab.destroy();
  });
}

/** Whether anything of a lab id remains on the host (namespaces, /etc/netns entries, run dir, processes). */
export function labLeftovers(id: string): string[] {
  const left: string[] = [];
  for (const ns of listNamespacesSync()) if (ns.startsWith(`${id}-`)) left.push(`netns ${ns}`);
  for (const e of safeReaddir(ETC_NETNS)) if (e.startsWith(`${id}-`)) left.push(`${ETC_NETNS}/${e}`);
  if (existsSync(path.join('/tmp', id))) left.push(`/tmp/${id}`);
  for (const pid of safeReaddir('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(`/tmp/${id}/`) || cmdline.includes(`${id}-`)) {
        if (alive(Number(pid))) left.push(`process ${pid}: ${cmdline.split('\0').join(' ').trim()}`);
      }
    } catch {
      // gone
    }
  }
  return left;
}
