// The same read-only probes, run on the peer through its POSIX sh: nothing is installed there.
// A round of ProbeSpecs becomes one sh script (sent on stdin, so no argument ever passes through
// the remote command line); every argument in it is single-quoted. The probes run in parallel,
// each bounded in time (`timeout`) and size (`head -c`); the script then prints every status line,
// the size of every output file and all their bytes as one base64 line (see parseBundle), which
// the decoder validates strictly: the peer's output is hostile input.
import path from 'node:path';
import type { FileStat, ProbeRecord, ProbeSpec } from '../types.js';
import { DEFAULT_TIMEOUT_MS, recordFor } from '../probes/run.js';
import { ourKeepalived } from '../probes/keepalived.js';
import { baseFacts, needsExeFacts, verifyDaemons, vrrpSocketIn, type ProcFacts } from '../keepalived/daemon.js';

const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
/** stderr kept per probe */
const STDERR_MAX = 16 * 1024;

/** One argument quoted for a POSIX sh. */
export function shQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface PeerAbilities {
  root: boolean;
  /** `timeout` (coreutils or busybox) exists on the peer */
  timeout: boolean;
}

/** How each internal probe is read on the peer; ids not listed are reported as not available over ssh. */
function internalScript(spec: Extract<ProbeSpec, { kind: 'internal' }>, records: Readonly<Record<string, ProbeRecord>>): string | undefined {
  switch (spec.id) {
    case 'netns':
      return 'readlink /proc/self/ns/net';
    case 'netns-identify':
      return 'ip netns identify $$ 2>/dev/null; true';
    case 'uid':
      return 'id -u';
    case 'keepalived-binary':
      return 'command -v keepalived || true';
    case 'keepalived-processes':
      // the /proc walk of readProcFacts() in sh: the same facts (stat, status, cmdline, netns, and
      // for this namespace's processes the binary, its owner and mode, its directories, its
      // sockets), so the peer's daemon is verified by the same verdicts (decodeProcesses)
      return PROCESS_SCRIPT;
    case 'proc-pid1-visible':
      return '[ -r /proc/1/comm ] && echo yes || echo no';
    case 'keepalived-stdout': {
      const proc = ourKeepalived(records);
      return proc ? `readlink /proc/${Math.trunc(proc.pid)}/fd/1` : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The peer's /proc walk. Output: "N <own netns>", "B <btime>", then per process named keepalived
 * "p PID STAT STATUS CMDLINE NETNS EXE EXESTAT UNSAFEDIR FDSOCKETS RAW": text fields base64, '-'
 * where unreadable, '.' where empty; EXESTAT is "uid:mode(hex):dev:ino" (stat -L of /proc/PID/exe).
 * Every fork counts on a loaded peer: the directories above the binary are read by one stat, the
 * descriptors by one ls, and both are parsed by the shell itself (here-documents, no pipes).
 */
const PROCESS_SCRIPT = [
  'sn=$(readlink /proc/self/ns/net 2>/dev/null); echo "N ${sn:--}"',
  'bt=$(sed -n "s/^btime //p" /proc/stat 2>/dev/null); echo "B ${bt:--}"',
  'for c in $(grep -lix "keepalived.*" /proc/[0-9]*/comm 2>/dev/null); do',
  '  d=${c%/comm}; p=${d#/proc/}',
  '  st=$(base64 -w0 2>/dev/null < "$d/stat") || continue; [ -n "$st" ] || continue',
  '  su=$(base64 -w0 2>/dev/null < "$d/status"); cl=$(base64 -w0 2>/dev/null < "$d/cmdline"); ns=$(readlink "$d/ns/net" 2>/dev/null)',
  '  ex=-; es=-; ud=-; fs=-; rw=-',
  '  if [ -z "$ns" ] || [ "$ns" = "$sn" ]; then',
  '    e=$(readlink "$d/exe" 2>/dev/null)',
  '    if [ -n "$e" ]; then',
  '      ex=$(printf %s "$e" | base64 -w0)',
  '      es=$(stat -L -c "%u:%f:%d:%i" "$d/exe" 2>/dev/null); [ -n "$es" ] || es=-',
  // the binary's directories up to /, through the process's own root: the first one not owned by
  // root or writable by group or others is unsafe (one that cannot be read is unsafe too)
  '      x=${e% (deleted)}; x=${x%/*}; [ -n "$x" ] || x=/; y=$x; set --',
  '      while :; do set -- "$@" "$d/root${y%/}"; [ "$y" = / ] && break; y=${y%/*}; [ -n "$y" ] || y=/; done',
  '      sa=$(stat -L -c "%u %A %n" "$@" 2>/dev/null); u=; y=$x; top=',
  '      while IFS= read -r a; do',
  '        [ "${a#* * }" = "$d/root${y%/}" ] || { u=$y; break; }',
  '        case "$a" in "0 "?????w*|"0 "????????w*) u=$y; break ;; "0 "*) ;; *) u=$y; break ;; esac',
  '        [ "$y" = / ] && { top=1; break; }; y=${y%/*}; [ -n "$y" ] || y=/',
  '      done <<EOF',
  '$sa',
  'EOF',
  '      [ -n "$u" ] || [ -n "$top" ] || u=$y',
  '      if [ -n "$u" ]; then ud=$(printf %s "$u" | base64 -w0); else ud=.; fi',
  '    fi',
  '    if fl=$(ls -l "$d/fd" 2>/dev/null); then',
  '      fs=.',
  '      while IFS= read -r l; do case "$l" in *" -> socket:["*"]") l=${l##*socket:[}; fs="$fs,${l%]}" ;; esac; done <<EOF',
  '$fl',
  'EOF',
  '      rw=$(grep -i "^ *[0-9]*: [0-9a-f]*:0070 " "$d/net/raw" 2>/dev/null | base64 -w0); [ -n "$rw" ] || rw=.',
  '    fi',
  '  fi',
  '  printf "p %s %s %s %s %s %s %s %s %s %s\\n" "$p" "$st" "${su:--}" "${cl:--}" "${ns:--}" "$ex" "$es" "$ud" "$fs" "$rw"',
  'done; true',
].join('\n');

const B64 = '[A-Za-z0-9+/=]{1,65536}';
const PROC_LINE = new RegExp(
  `^p (\\d{1,9}) (${B64}) (${B64}|-) (${B64}|-) (\\S{1,100}) (${B64}|-) (\\d{1,10}:[0-9a-f]{1,8}:\\d{1,20}:\\d{1,20}|-) (${B64}|-|\\.) ([.0-9,]{1,20000}|-) (${B64}|-|\\.)$`,
);
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** Turn the peer's process lines into listKeepalivedProcesses()'s JSON: the same facts, the same verdicts. */
export function decodeProcesses(text: string): string {
  const lines = text.split('\n').filter(Boolean);
  const selfNs = /^N (\S{1,100})$/.exec(lines.find((l) => l.startsWith('N ')) ?? '')?.[1] ?? '-';
  const btime = Number(/^B (\d{1,12})$/.exec(lines.find((l) => l.startsWith('B ')) ?? '')?.[1]);
  const facts: ProcFacts[] = [];
  for (const line of lines.filter((l) => l.startsWith('p ')).slice(0, 1000)) {
    const m = PROC_LINE.exec(line);
    if (!m) continue;
    const [, pid, stat, status, cmdline, ns, exe, exeStat, unsafe, sockets, raw] = m as unknown as string[];
    const netns = ns === '-' ? '' : ns!;
    const f = baseFacts({
      pid: Number(pid),
      stat: unb64(stat!),
      status: status === '-' ? '' : unb64(status!),
      cmdline: cmdline === '-' ? '' : unb64(cmdline!),
      netns,
      selfNs: selfNs === '-' ? '' : selfNs,
      ...(Number.isFinite(btime) ? { btimeMs: btime * 1000 } : {}),
    });
    if (needsExeFacts(f)) {
      f.exe = exe === '-' ? null : unb64(exe!);
      const st = exeStat === '-' ? undefined : exeStat!.split(':');
      f.exeStat = st ? { uid: Number(st[0]), mode: parseInt(st[1]!, 16), dev: Number(st[2]), ino: Number(st[3]) } : null;
      // '-' (never walked) stays unknown, '.' is "every directory safe"
      f.exeUnsafeDir = unsafe === '-' ? null : unsafe === '.' ? '' : unb64(unsafe!);
      f.vrrpSocket =
        sockets === '-' ? null : vrrpSocketIn(new Set(sockets!.split(',').filter((x) => x && x !== '.')), raw === '-' || raw === '.' ? '' : unb64(raw!));
    }
    facts.push(f);
  }
  return JSON.stringify(verifyDaemons(facts.sort((a, b) => a.pid - b.pid)));
}

interface Planned {
  spec: ProbeSpec;
  /** sh that writes $T/N.o, $T/N.e and the status line to $T/N.s */
  body?: string;
  /** decided here without asking the peer */
  local?: Omit<ProbeRecord, 'id' | 'kind' | 'ms'>;
  decode?: (stdout: string) => string;
  maxBytes: number;
  tail: boolean;
}

/**
 * The script's helpers. $o is the probe's file prefix, $i its index; a probe may leave $o.o
 * (stdout) and $o.e (stderr, commands only), and prints its status line on its job's stdout; all
 * are gathered at the end in one go.
 *   E STATUS RC: the status line (a builtin: no process)
 *   C: a command's status from its exit code (124/137: killed by timeout; 126: cannot execute; 127: not found)
 */
const HELPERS = [
  'E() { echo "$i $1 $2"; }',
  'C() { rc=1; read rc < "$o.rc" 2>/dev/null; case $rc in 124|137) E timeout - ;; 126) E denied - ;; 127) E missing - ;; *) E ok "$rc" ;; esac; }',
].join('\n');

function commandBody(argv: readonly string[], timeoutMs: number, maxBytes: number, tail: boolean, ab: PeerAbilities): string {
  const secs = Math.max(1, Math.ceil(timeoutMs / 1000));
  const words = argv.map(shQuote).join(' ');
  const bin = shQuote(argv[0]!);
  const run = ab.timeout ? `timeout -k 1 ${secs} ${words}` : words;
  const cut = tail ? `tail -c ${maxBytes + 1}` : `head -c ${maxBytes + 1}`;
  return [
    `if ! command -v ${bin} >/dev/null 2>&1; then E missing -; else`,
    `{ ${run} 2>"$o.e" </dev/null; echo $? > "$o.rc"; } | ${cut} > "$o.o"; C`,
    'fi',
  ].join('\n');
}

function fileBody(file: string, maxBytes: number, tail: boolean): string {
  const f = shQuote(file);
  const cut = tail ? `tail -c ${maxBytes + 1}` : `head -c ${maxBytes + 1}`;
  return [
    `if [ ! -e ${f} ]; then E missing -`,
    `elif [ -d ${f} ]; then echo "is a directory" > "$o.e"; E error -`,
    `elif [ ! -r ${f} ]; then E denied -`,
    `elif ${cut} ${f} > "$o.o" 2>/dev/null; then E ok 0`,
    `else E denied -; fi`,
  ].join('\n');
}

function dirBody(dir: string): string {
  const d = shQuote(dir);
  return [`if [ ! -e ${d} ]; then E missing -`, `elif ls -1A ${d} > "$o.o" 2>/dev/null; then E ok 0`, `else E denied -; fi`].join('\n');
}

function parentsOf(file: string): string[] {
  const out: string[] = [];
  let dir = path.posix.dirname(path.posix.resolve('/', file));
  for (;;) {
    out.push(dir);
    const up = path.posix.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
}

function statBody(file: string): string {
  const f = shQuote(file);
  return [
    `if [ ! -e ${f} ] && [ ! -L ${f} ]; then echo none > "$o.o"; else`,
    `{ stat -c 'l %F|%a|%u|%g|%s|%Y' ${f}; stat -L -c 't %F|%a|%u|%g|%s|%Y' ${f}; stat -L -c 'p %a|%u|%g|%n' ${parentsOf(file).map(shQuote).join(' ')}; } > "$o.o" 2>/dev/null`,
    'fi; E ok 0',
  ].join('\n');
}

/** `stat -c` lines back into the FileStat the local probe records. */
export function decodeStat(text: string): string {
  if (text.trim() === 'none') {
    const none: FileStat = { exists: false, isFile: false, isDir: false, isSymlink: false, mode: 0, uid: -1, gid: -1, size: 0, mtimeMs: 0, parents: [] };
    return JSON.stringify(none);
  }
  const lines = text.split('\n');
  const field = (prefix: string) =>
    lines
      .find((l) => l.startsWith(`${prefix} `))
      ?.slice(2)
      .split('|');
  const l = field('l');
  const t = field('t') ?? l;
  if (!l || !t || t.length < 6) throw new Error('stat output not understood');
  const num = (s: string | undefined, base = 10) => {
    const n = parseInt(s ?? '', base);
    if (!Number.isFinite(n)) throw new Error('stat output not understood');
    return n;
  };
  const parents = lines
    .filter((x) => x.startsWith('p '))
    .slice(0, 64)
    .map((x) => {
      const [mode, uid, gid, ...name] = x.slice(2).split('|');
      return { path: name.join('|'), mode: num(mode, 8) & 0o7777, uid: num(uid), gid: num(gid) };
    });
  const st: FileStat = {
    exists: true,
    isFile: t[0] === 'regular file' || t[0] === 'regular empty file',
    isDir: t[0] === 'directory',
    isSymlink: l[0] === 'symbolic link',
    mode: num(t[1], 8) & 0o7777,
    uid: num(t[2]),
    gid: num(t[3]),
    size: num(t[4]),
    mtimeMs: num(t[5]) * 1000,
    parents,
  };
  return JSON.stringify(st);
}

function plan(spec: ProbeSpec, records: Readonly<Record<string, ProbeRecord>>, ab: PeerAbilities): Planned {
  const maxBytes = ('maxBytes' in spec && spec.maxBytes) || DEFAULT_MAX_BYTES;
  const tail = ('tail' in spec && spec.tail) || false;
  const base = { spec, maxBytes, tail };
  if (spec.needsRoot && !ab.root)
    return { ...base, local: { status: 'skipped', stdout: '', stderr: '', reason: 'needs root on the peer (neither the SSH user nor sudo -n is root)' } };
  switch (spec.kind) {
    case 'command':
      if (!spec.argv.length) return { ...base, local: { status: 'error', stdout: '', stderr: '', reason: 'empty argv' } };
      return { ...base, body: commandBody(spec.argv, spec.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBytes, tail, ab) };
    case 'file':
      return { ...base, body: fileBody(spec.path, maxBytes, tail) };
    case 'dir':
      return { ...base, body: dirBody(spec.path), decode: (s) => JSON.stringify(s.split('\n').filter(Boolean).slice(0, 100_000).sort()) };
    case 'stat':
      return { ...base, body: statBody(spec.path), decode: decodeStat };
    case 'internal': {
      const sh = internalScript(spec, records);
      if (sh === undefined)
        return {
          ...base,
          local: {
            status: 'skipped',
            stdout: '',
            stderr: '',
            reason: 'not available over ssh (computed in-process by the doctor; install hagw-doctor on the peer)',
          },
        };
      return {
        ...base,
        body: `{ ${sh}\n} > "$o.o" 2>/dev/null </dev/null; E ok 0`,
        ...(spec.id === 'keepalived-processes' ? { decode: decodeProcesses } : {}),
        ...(spec.id === 'keepalived-binary' ||
        spec.id === 'keepalived-stdout' ||
        spec.id === 'netns' ||
        spec.id === 'uid' ||
        spec.id === 'netns-identify' ||
        spec.id === 'proc-pid1-visible'
          ? { decode: (s: string) => s.trim() }
          : {}),
      };
    }
  }
}

export interface RemoteRound {
  /** the sh script (run as `sh -s` on the peer); empty when nothing needs the peer */
  script: string;
  /** the longest timeout among the probes, ms */
  timeoutMs: number;
  /** the most output this round may print, bytes (base64 included) */
  maxOutput: number;
  decode(stdout: string, ms: number): ProbeRecord[];
}

/** One round's specs as one script, and the decoder of its output. */
export function buildRound(specs: readonly ProbeSpec[], records: Readonly<Record<string, ProbeRecord>>, ab: PeerAbilities): RemoteRound {
  const planned = specs.map((s) => plan(s, records, ab));
  const remote = planned.map((p, i) => ({ p, i })).filter((x) => x.p.body !== undefined);
  // the C locale, as every probe has here: the parsers read C output (and no command opens the
  // locale's files)
  const lines = [
    'LC_ALL=C; export LC_ALL',
    'umask 077',
    'T=$(mktemp -d 2>/dev/null || mktemp -d -t hagw.XXXXXX) || exit 97',
    'trap \'rm -rf "$T"\' EXIT',
    'cd / || exit 97',
    HELPERS,
  ];
  // commands (which may block) each in a job of their own; files, listings and stats (fast) in a few
  // sequential jobs: every fork counts on a loaded peer
  const quick = remote.filter((x) => x.p.spec.kind !== 'command');
  const slow = remote.filter((x) => x.p.spec.kind === 'command');
  // a job's status lines are its stdout (one file per job); a probe's stdout and stderr files exist
  // only when it wrote them: on a loaded peer every file created counts too
  let jobs = 0;
  const job = (items: typeof remote) => `(\n${items.map(({ p, i }) => `i=${i}; o="$T/${i}"\n${p.body}`).join('\n')}\n) > "$T/j${jobs++}.s" &`;
  for (const x of slow) lines.push(job([x]));
  for (let k = 0; k < quick.length; k += 12) lines.push(job(quick.slice(k, k + 12)));
  lines.push('wait');
  // one cat, one stat and one base64 for the whole round: the statuses, the sizes, the bytes
  lines.push('echo @@HAGW-S; cat "$T"/*.s 2>/dev/null');
  lines.push('echo @@HAGW-Z; stat -c \'%n %s\' "$T"/*.o "$T"/*.e 2>/dev/null');
  lines.push('echo @@HAGW-D; cat "$T"/*.o "$T"/*.e 2>/dev/null | base64 -w0; echo; true');
  const timeoutMs = Math.max(DEFAULT_TIMEOUT_MS, ...specs.map((s) => ('timeoutMs' in s && s.timeoutMs) || DEFAULT_TIMEOUT_MS));
  const maxOutput = Math.ceil(remote.reduce((n, { p }) => n + p.maxBytes + 1 + STDERR_MAX + 200, 0) * 1.4) + 4096;
  return {
    script: remote.length ? `${lines.join('\n')}\n` : '',
    timeoutMs,
    maxOutput,
    decode(stdout: string, ms: number): ProbeRecord[] {
      const frames = parseBundle(stdout);
      return planned.map((p, i): ProbeRecord => {
        const spec = p.spec;
        const base = recordFor(spec, ms);
        if (p.local) return { ...base, ...p.local, ms: 0 };
        const f = frames.get(i);
        if (!f) return { ...base, status: 'error', reason: 'the peer returned no result for this probe' };
        let out = f.stdout;
        let truncated = false;
        if (Buffer.byteLength(out) > p.maxBytes) {
          truncated = true;
          out = p.tail ? out.slice(-p.maxBytes) : out.slice(0, p.maxBytes);
          if (p.tail) {
            const nl = out.indexOf('\n');
            if (nl >= 0) out = out.slice(nl + 1);
          }
        }
        const rec: ProbeRecord = { ...base, status: f.status, stdout: out, stderr: f.stderr, ...(truncated ? { truncated } : {}) };
        if (spec.kind === 'command') rec.exitCode = f.exitCode;
        if (f.status === 'missing') rec.reason = spec.kind === 'command' ? `${spec.argv[0]} is not installed on the peer` : 'does not exist';
        if (f.status === 'denied') rec.reason = 'permission denied on the peer';
        if (f.status === 'timeout')
          rec.reason = `did not finish on the peer within ${Math.ceil((('timeoutMs' in spec && spec.timeoutMs) || DEFAULT_TIMEOUT_MS) / 1000)} s`;
        if (f.status === 'error') rec.reason = f.stderr.trim().slice(0, 200) || 'failed on the peer';
        if (f.status === 'ok' && p.decode) {
          try {
            rec.stdout = p.decode(out);
          } catch (err) {
            return { ...base, status: 'error', reason: `the peer's output is not understood: ${(err as Error).message}` };
          }
        }
        return rec;
      });
    },
  };
}

interface Frame {
  status: ProbeRecord['status'];
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

const STATUSES = new Set(['ok', 'missing', 'denied', 'timeout', 'error']);

/**
 * The round's output: "@@HAGW-S" then "INDEX STATUS RC" lines, "@@HAGW-Z" then "PATH SIZE" lines
 * (the order of the bytes), "@@HAGW-D" then one base64 line holding every .o and .e file. Strict:
 * a status line that does not parse is dropped; sizes that do not add up to the bytes drop them all.
 */
export function parseBundle(text: string): Map<number, Frame> {
  const frames = new Map<number, Frame>();
  const s = text.indexOf('@@HAGW-S\n');
  const z = text.indexOf('\n@@HAGW-Z\n', s);
  const d = text.indexOf('\n@@HAGW-D\n', z);
  if (s < 0 || z < 0 || d < 0) return frames;
  for (const line of text
    .slice(s + 9, z)
    .split('\n')
    .slice(0, 10_000)) {
    const m = /^(\d{1,5}) ([a-z]{2,8}) (-|\d{1,3})$/.exec(line);
    if (!m || !STATUSES.has(m[2]!) || frames.has(Number(m[1]))) continue;
    frames.set(Number(m[1]), { status: m[2] as Frame['status'], exitCode: m[3] === '-' ? null : Number(m[3]), stdout: '', stderr: '' });
  }
  const sizes: Array<{ index: number; stream: 'o' | 'e'; size: number }> = [];
  for (const line of text
    .slice(z + 10, d)
    .split('\n')
    .slice(0, 20_000)) {
    const m = /\/(\d{1,5})\.([oe]) (\d{1,12})$/.exec(line);
    if (m) sizes.push({ index: Number(m[1]), stream: m[2] as 'o' | 'e', size: Number(m[3]) });
  }
  const b64 = text.slice(d + 10).split('\n')[0] ?? '';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return new Map();
  const bytes = Buffer.from(b64, 'base64');
  if (sizes.reduce((n, x) => n + x.size, 0) !== bytes.length) return new Map();
  let at = 0;
  for (const x of sizes) {
    const part = bytes.subarray(at, at + x.size).toString('utf8');
    at += x.size;
    const f = frames.get(x.index);
    if (!f) continue;
    if (x.stream === 'o') f.stdout = part;
    else f.stderr = part.slice(0, STDERR_MAX);
  }
  return frames;
}
