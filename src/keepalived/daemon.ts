// Which processes are the keepalived daemon, from what text cannot forge: the binary the kernel
// runs (/proc/PID/exe, its owner, its mode, its directories), the uid, and the process tree (a
// real daemon has VRRP/checker children). A process merely *named* keepalived (a copy of sh, a
// transient `keepalived -t`) is not the daemon, and none of its argv (-f, -g, -p) is ever used.
//
// facts are collected by readProcFacts (I/O, /proc); verifyDaemons is pure and decides.
import { lstat, readFile, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';

/** What /proc says of one process that calls itself keepalived. */
export interface ProcFacts {
  pid: number;
  ppid: number;
  argv: string[];
  /** inode of /proc/PID/ns/net, '' when unreadable */
  netns: string;
  ours: boolean;
  comm?: string;
  /** /proc/PID/exe, null when it cannot be read (not root); " (deleted)" kept as the kernel says it */
  exe?: string | null;
  /** stat of the running binary (through /proc/PID/exe, so a replaced file still describes what runs) */
  exeStat?: { uid: number; mode: number; dev: number; ino: number } | null;
  /** the first directory above the binary that is not root-owned or is group/other-writable, '' when all are safe */
  exeUnsafeDir?: string | null;
  /** real and effective uid (/proc/PID/status Uid:) */
  uid?: number;
  euid?: number;
  /** CapEff as the hex string of /proc/PID/status */
  capEff?: string;
  /** process state letter of /proc/PID/stat (Z: zombie) */
  state?: string;
  /** when it started (ISO), from /proc/PID/stat starttime and /proc/stat btime */
  startedAt?: string;
  /** it holds a raw socket for IP protocol 112 (the VRRP child does); null when its fds cannot be read */
  vrrpSocket?: boolean | null;
}

export type DaemonRole = 'parent' | 'vrrp' | 'checker' | 'child';

/** A process the doctor looked at, with its verdict. Snapshots store this list (keepalived-processes). */
export interface KeepalivedProcess extends ProcFacts {
  /** the daemon (or one of its children), verified; absent in snapshots of doctors before 0.3 */
  verified?: boolean;
  /** why it is not the daemon, or why that could not be told */
  notVerified?: string;
  /** its facts could not be read (needs root): neither daemon nor impostor */
  unverifiable?: boolean;
  daemon?: DaemonRole;
}

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;

/** Options with which keepalived does not run as a daemon. */
const NOT_A_DAEMON = new Set(['-t', '--config-test', '-v', '--version', '-h', '--help']);

export function isOneShot(argv: readonly string[]): string | undefined {
  return argv.slice(1).find((a) => NOT_A_DAEMON.has(a) || a.startsWith('--config-test='));
}

const binaryName = (exe: string) => path.basename(exe.replace(/ \(deleted\)$/, ''));

/** The checks on one process alone (binary, owner, mode, directories, uid, argv). */
function ownVerdict(p: ProcFacts): { ok: true } | { ok: false; why: string; unverifiable?: boolean } {
  // another namespace's keepalived is not examined further: it never drives this one
  if (!p.ours && p.netns !== '') return { ok: false, why: `runs in another network namespace (${p.netns})` };
  if (p.exe === null || p.exe === undefined || p.exeStat === null || p.exeStat === undefined) {
    return { ok: false, unverifiable: true, why: `cannot read /proc/${p.pid}/exe (needs root)` };
  }
  if (binaryName(p.exe) !== 'keepalived') return { ok: false, why: `runs ${p.exe}, not a keepalived binary` };
  if (p.exeStat.uid !== 0) return { ok: false, why: `its binary ${p.exe} is owned by uid ${p.exeStat.uid}, not root` };
  if (p.exeStat.mode & 0o022) return { ok: false, why: `its binary ${p.exe} is writable by group or others (mode ${(p.exeStat.mode & 0o7777).toString(8)})` };
  if (p.exeUnsafeDir === null || p.exeUnsafeDir === undefined)
    return { ok: false, unverifiable: true, why: `the directories of its binary ${p.exe} could not be examined` };
  if (p.exeUnsafeDir) return { ok: false, why: `its binary lies under ${p.exeUnsafeDir}, which is not root-owned or is writable by others` };
  if (p.uid === undefined || p.euid === undefined) return { ok: false, unverifiable: true, why: `cannot read /proc/${p.pid}/status` };
  if (p.uid !== 0 || p.euid !== 0) return { ok: false, why: `runs as uid ${p.uid}/${p.euid}, not root` };
  if (p.state === 'Z') return { ok: false, why: 'a zombie (exited, not yet reaped)' };
  const oneShot = isOneShot(p.argv);
  if (oneShot) return { ok: false, why: `a one-shot \`keepalived ${oneShot}\`, not a daemon` };
  return { ok: true };
}

const sameBinary = (a: ProcFacts, b: ProcFacts) => !!a.exeStat && !!b.exeStat && a.exeStat.dev === b.exeStat.dev && a.exeStat.ino === b.exeStat.ino;

/**
 * The verdict on every process: a daemon is a parent whose own checks pass and that has at least
 * one child running the same binary whose own checks pass; those children are its VRRP (the one
 * with the protocol-112 raw socket) and checker children.
 */
export function verifyDaemons(procs: readonly ProcFacts[]): KeepalivedProcess[] {
  const verdicts = new Map(procs.map((p) => [p.pid, ownVerdict(p)]));
  const out = new Map<number, KeepalivedProcess>(procs.map((p) => [p.pid, { ...p, verified: false }]));
  for (const p of procs) {
    const v = verdicts.get(p.pid)!;
    const rec = out.get(p.pid)!;
    if (!v.ok) {
      rec.notVerified = v.why;
      if (v.unverifiable) rec.unverifiable = true;
    }
  }
  for (const p of procs) {
    if (!verdicts.get(p.pid)!.ok) continue;
    const parent = procs.find((q) => q.pid === p.ppid);
    if (parent && verdicts.get(parent.pid)!.ok && sameBinary(parent, p)) continue; // a child: judged with its parent
    const children = procs.filter((c) => c.ppid === p.pid && verdicts.get(c.pid)!.ok && sameBinary(p, c));
    const rec = out.get(p.pid)!;
    if (!children.length) {
      rec.notVerified = 'no VRRP or checker child: not a running daemon (a process named keepalived, or one starting or stopping)';
      continue;
    }
    rec.verified = true;
    rec.daemon = 'parent';
    delete rec.notVerified;
    const vrrp = children.find((c) => c.vrrpSocket === true) ?? (children.length === 1 && children[0]!.vrrpSocket !== false ? children[0] : undefined);
    for (const c of children) {
      const cr = out.get(c.pid)!;
      cr.verified = true;
      cr.daemon = c === vrrp ? 'vrrp' : c.vrrpSocket === false && vrrp ? 'checker' : 'child';
      delete cr.notVerified;
    }
  }
  return [...out.values()].sort((a, b) => a.pid - b.pid);
}

/** A snapshot of a doctor before 0.3 carries no verdicts: its processes are taken as recorded. */
export function isLegacy(procs: readonly KeepalivedProcess[]): boolean {
  return procs.length > 0 && procs.every((p) => p.verified === undefined);
}

/** The verified daemon parents in this network namespace. */
export function daemonsHere(procs: readonly KeepalivedProcess[]): KeepalivedProcess[] {
  if (isLegacy(procs)) {
    const ours = procs.filter((p) => p.ours);
    const pids = new Set(ours.map((p) => p.pid));
    const top = ours.filter((p) => !pids.has(p.ppid));
    return top.length ? top : ours.slice(0, 1);
  }
  return procs.filter((p) => p.ours && p.verified && p.daemon === 'parent');
}

/** The VRRP child of a daemon parent, when one could be told. */
export function vrrpChildOf(procs: readonly KeepalivedProcess[], parent: KeepalivedProcess): KeepalivedProcess | undefined {
  return procs.find((p) => p.ppid === parent.pid && p.daemon === 'vrrp');
}

/** Processes that claim to be keepalived but whose facts could not be read (a non-root run). */
export function unverifiable(procs: readonly KeepalivedProcess[]): KeepalivedProcess[] {
  return procs.filter((p) => p.unverifiable);
}

/** Capabilities keepalived needs that CapEff lacks ([] when it has them or CapEff is unknown). */
export function missingCapabilities(capEff: string | undefined): string[] {
  if (!capEff || !/^[0-9a-f]+$/i.test(capEff)) return [];
  const caps = BigInt(`0x${capEff}`);
  const out: string[] = [];
  if (!((caps >> BigInt(CAP_NET_ADMIN)) & 1n)) out.push('CAP_NET_ADMIN');
  if (!((caps >> BigInt(CAP_NET_RAW)) & 1n)) out.push('CAP_NET_RAW');
  return out;
}

// ------------------------------------------------------------------ reading /proc (I/O)

const USER_HZ = 100; // the kernel's exported clock tick (sysconf(_SC_CLK_TCK)) is 100 on every Linux ABI

async function bootTimeMs(): Promise<number | undefined> {
  const text = await readFile('/proc/stat', 'utf8').catch(() => '');
  const m = /^btime (\d+)/m.exec(text);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** The first directory from the binary's up to / that is not root-owned or is group/other-writable,
 *  seen through /proc/PID/root (a daemon in a container has its own file system). */
async function unsafeDir(pid: string, exe: string): Promise<string> {
  let dir = path.dirname(exe.replace(/ \(deleted\)$/, ''));
  for (;;) {
    const st = await stat(`/proc/${pid}/root${dir === '/' ? '' : dir}`).catch(() => undefined);
    if (!st || st.uid !== 0 || st.mode & 0o022) return dir;
    const up = path.dirname(dir);
    if (up === dir) return '';
    dir = up;
  }
}

/** Whether PID holds a raw socket of protocol 112 (/proc/PID/fd against /proc/PID/net/raw). */
async function holdsVrrpSocket(pid: number): Promise<boolean | null> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  const inodes = new Set<string>();
  for (const fd of fds) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]!);
  }
  return vrrpSocketIn(inodes, await readFile(`/proc/${pid}/net/raw`, 'utf8').catch(() => ''));
}

/** Whether one of a process's socket inodes is a raw socket of protocol 112 in its /proc/PID/net/raw. */
export function vrrpSocketIn(inodes: ReadonlySet<string>, rawTable: string): boolean {
  for (const line of rawTable.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...; the "port" of a raw socket is its protocol
    if (f.length > 9 && /:0070$/i.test(f[1]!) && inodes.has(f[9]!)) return true;
  }
  return false;
}

/** What /proc/PID/stat, status and cmdline say (the facts any reader of /proc can have). */
export function baseFacts(raw: {
  pid: number;
  stat: string;
  status: string;
  cmdline: string;
  netns: string;
  selfNs: string;
  comm?: string;
  btimeMs?: number;
}): ProcFacts {
  // stat: "pid (comm) S ppid ..." — comm may hold spaces, so split after the last ')'
  const rest = raw.stat.slice(raw.stat.lastIndexOf(')') + 2).split(' ');
  const facts: ProcFacts = {
    pid: raw.pid,
    ppid: Number(rest[1]),
    argv: raw.cmdline.split('\0').filter(Boolean).slice(0, 200),
    netns: raw.netns,
    ours: raw.netns !== '' && raw.netns === raw.selfNs,
    ...(raw.comm !== undefined ? { comm: raw.comm } : {}),
  };
  if (rest[0]) facts.state = rest[0];
  const startTicks = Number(rest[19]);
  if (raw.btimeMs !== undefined && Number.isFinite(startTicks)) facts.startedAt = new Date(raw.btimeMs + (startTicks * 1000) / USER_HZ).toISOString();
  const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(raw.status);
  if (uids) {
    facts.uid = Number(uids[1]);
    facts.euid = Number(uids[2]);
  }
  const cap = /^CapEff:\s+([0-9a-f]+)/im.exec(raw.status);
  if (cap) facts.capEff = cap[1]!;
  return facts;
}

/** The binary, its directories and its sockets are examined only for a process of this namespace
 *  (or one whose namespace cannot be read). */
export const needsExeFacts = (f: ProcFacts): boolean => f.ours || f.netns === '';

async function factsOf(pid: string, selfNs: string, btime: number | undefined): Promise<ProcFacts | undefined> {
  const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  if (!/^keepalived/i.test(comm)) return undefined;
  const [cmdline, statText, ns, status] = await Promise.all([
    readFile(`/proc/${pid}/cmdline`, 'utf8'),
    readFile(`/proc/${pid}/stat`, 'utf8'),
    readlink(`/proc/${pid}/ns/net`).catch(() => ''),
    readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''),
  ]);
  const facts = baseFacts({ pid: Number(pid), stat: statText, status, cmdline, netns: ns, selfNs, comm, ...(btime !== undefined ? { btimeMs: btime } : {}) });
  if (!needsExeFacts(facts)) return facts;
  let gone = false;
  facts.exe = await readlink(`/proc/${pid}/exe`).catch((err: NodeJS.ErrnoException) => {
    // ENOENT: it exited while we looked (a transient keepalived -t); EACCES: not ours to read (not root)
    if (err.code === 'ENOENT') gone = true;
    return null;
  });
  if (gone) return undefined;
  if (facts.exe) {
    const st = await stat(`/proc/${pid}/exe`).catch(() => undefined);
    facts.exeStat = st ? { uid: st.uid, mode: st.mode, dev: st.dev, ino: st.ino } : null;
    facts.exeUnsafeDir = await unsafeDir(pid, facts.exe);
  } else facts.exeStat = null;
  facts.vrrpSocket = await holdsVrrpSocket(Number(pid));
  return facts;
}

/** Walk /proc for processes calling themselves keepalived, with the facts that decide which is the daemon. */
export async function readProcFacts(): Promise<ProcFacts[]> {
  const selfNs = await readlink('/proc/self/ns/net').catch(() => '');
  const btime = await bootTimeMs();
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  const out: ProcFacts[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      try {
        const f = await factsOf(pid, selfNs, btime);
        if (f) out.push(f);
      } catch {
        // the process went away while we looked
      }
    }),
  );
  return out.sort((a, b) => a.pid - b.pid);
}

/** The default PID files of keepalived 2.x (a stale one whose pid is alive blocks a start). */
export const DEFAULT_PID_FILES = ['/run/keepalived.pid', '/run/vrrp.pid', '/run/checkers.pid'];

/** What a PID file names: its pid, whether that process exists, and its comm (the facts are read at once). */
export async function pidFileFacts(file: string): Promise<string> {
  const st = await lstat(file);
  if (!st.isFile()) return JSON.stringify({ file, pid: null, note: 'not a regular file' });
  const text = (await readFile(file, 'utf8')).slice(0, 64);
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return JSON.stringify({ file, pid: null, text: text.trim() });
  const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => null))?.trim() ?? null;
  return JSON.stringify({ file, pid, alive: comm !== null, comm });
}
