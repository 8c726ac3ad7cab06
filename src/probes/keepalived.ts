// Which keepalived is ours (the one in this network namespace), its config files, its config
// test, its log and its data dump.
import { access, readlink } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import type { ProbeProvider, ProbeRecord, ProbeSpec } from '../types.js';
import { CONFIG_PREFIX, configDirProbeId, configFileProbeId, configIncludes, expandIncludePattern, scriptProbeId } from '../keepalived/files.js';
import { DEFAULT_PID_FILES, pidFileFacts, readProcFacts, verifyDaemons, type KeepalivedProcess } from '../keepalived/daemon.js';
import { chosenConfig, configFromRecords, configScripts, dataDumpPath, notifyScriptPaths, ourKeepalived, parseKeepalivedArgs } from '../keepalived/records.js';
import {
  KEEPALIVED_LOG_PROBE,
  PEER_SNAPSHOT_PROBE,
  PROBE_CONFIGTEST,
  PROBE_KEEPALIVED_BINARY,
  PROBE_KEEPALIVED_DATA,
  PROBE_KEEPALIVED_DATA_STAT,
  PROBE_KEEPALIVED_JOURNAL,
  PROBE_KEEPALIVED_PROCESSES,
  PROBE_KEEPALIVED_STDOUT,
  PROBE_MESSAGES,
  PROBE_PEER_CONFIG,
  PROBE_PROC_PID1_VISIBLE,
  PROBE_SYSLOG,
  CONFIG_DIR_PREFIX,
  pidFileProbeId,
  scriptStatProbeId,
} from './ids.js';

export * from '../keepalived/records.js';

export type { KeepalivedProcess } from '../keepalived/daemon.js';

/** Walk /proc for keepalived processes and decide which is the daemon (src/keepalived/daemon.ts). */
export async function listKeepalivedProcesses(): Promise<KeepalivedProcess[]> {
  return verifyDaemons(await readProcFacts());
}

export { CONFIG_PREFIX, configFileProbeId, configDirProbeId, scriptProbeId };
export { PEER_SNAPSHOT_PROBE, KEEPALIVED_LOG_PROBE, scriptStatProbeId };
const LOG_TAIL_BYTES = 8 * 1024 * 1024;
/** at most this many files per globbed include */
export const MAX_GLOB_FILES = 64;

/** Where the running keepalived writes its log, from its argv: the file given to -g, the file its
 *  stdout points at when it logs to the console, else the system log. */
export function logSources(proc: KeepalivedProcess | undefined, consoleTarget: string | undefined): ProbeSpec[] {
  const args = proc ? parseKeepalivedArgs(proc.argv) : undefined;
  if (args?.logFile)
    return [{ id: KEEPALIVED_LOG_PROBE, kind: 'file', path: args.logFile, tail: true, maxBytes: LOG_TAIL_BYTES, needsRoot: true, hostPath: true }];
  if (args?.logConsole && consoleTarget && consoleTarget.startsWith('/') && !consoleTarget.startsWith('/dev/')) {
    return [{ id: KEEPALIVED_LOG_PROBE, kind: 'file', path: consoleTarget, tail: true, maxBytes: LOG_TAIL_BYTES, needsRoot: true, hostPath: true }];
  }
  return [
    {
      id: PROBE_KEEPALIVED_JOURNAL,
      kind: 'command',
      argv: ['journalctl', '--no-pager', '-o', 'short-iso', '-n', '20000', '-t', 'Keepalived_vrrp', '-t', 'Keepalived', '-t', 'keepalived'],
      timeoutMs: 5000,
      maxBytes: LOG_TAIL_BYTES,
      tail: true,
    },
    { id: PROBE_SYSLOG, kind: 'file', path: '/var/log/syslog', tail: true, maxBytes: LOG_TAIL_BYTES },
    { id: PROBE_MESSAGES, kind: 'file', path: '/var/log/messages', tail: true, maxBytes: LOG_TAIL_BYTES },
  ];
}

export const keepalivedProvider: ProbeProvider = {
  name: 'keepalived',
  probes: ({ round, records, options }) => {
    if (round === 0) {
      return [
        // a /proc walk: longer than the default 3 s so a loaded host does not turn into "cannot tell"
        { id: PROBE_KEEPALIVED_PROCESSES, kind: 'internal', run: async () => JSON.stringify(await listKeepalivedProcesses()), timeoutMs: 8000 },
        { id: PROBE_KEEPALIVED_BINARY, kind: 'internal', run: () => findExecutable('keepalived') },
        // /proc mounted with hidepid: a non-root run sees none of root's processes, so "none found" proves nothing
        {
          id: PROBE_PROC_PID1_VISIBLE,
          kind: 'internal',
          run: () =>
            access('/proc/1/comm', fsConstants.R_OK).then(
              () => 'yes',
              () => 'no',
            ),
        },
        // a PID file whose pid is alive but not keepalived makes keepalived refuse to start
        ...DEFAULT_PID_FILES.map((f): ProbeSpec => ({ id: pidFileProbeId(f), kind: 'internal', run: () => pidFileFacts(f) })),
        ...(options.peerConfig ? [{ id: PROBE_PEER_CONFIG, kind: 'file' as const, path: path.resolve(options.peerConfig) }] : []),
        // embedded whole, so the analysis stays reproducible from this snapshot alone
        ...(options.peerSnapshot
          ? [{ id: PEER_SNAPSHOT_PROBE, kind: 'file' as const, path: path.resolve(options.peerSnapshot), maxBytes: 64 * 1024 * 1024 }]
          : []),
      ];
    }
    const specs: ProbeSpec[] = [];
    const { path: config } = chosenConfig(records, options.config);
    specs.push({ id: configFileProbeId(config), kind: 'file', path: config, hostPath: true });
    // includes, discovered file by file as each is read
    for (const rec of Object.values(records)) {
      if (!rec.id.startsWith(CONFIG_PREFIX) || rec.status !== 'ok') continue;
      for (const pattern of configIncludes(rec.stdout, rec.path!)) {
        const glob = expandIncludePattern(pattern);
        if (glob.dir === null) {
          specs.push({ id: configFileProbeId(pattern), kind: 'file', path: pattern, hostPath: true });
          continue;
        }
        specs.push({ id: configDirProbeId(glob.dir), kind: 'dir', path: glob.dir });
        const listing = records[configDirProbeId(glob.dir)];
        if (listing?.status !== 'ok') continue;
        // globbed includes are capped (an `include /proc/*` stays bounded; each file is refused anyway)
        for (const name of (JSON.parse(listing.stdout) as string[]).filter((n) => glob.matches(n)).slice(0, MAX_GLOB_FILES)) {
          specs.push({ id: configFileProbeId(path.join(glob.dir, name)), kind: 'file', path: path.join(glob.dir, name), hostPath: true });
        }
      }
    }
    specs.push(...configtestSpec(config, records, specs, round));
    const proc = ourKeepalived(records);
    if (proc) {
      specs.push({ id: PROBE_KEEPALIVED_STDOUT, kind: 'internal', run: async () => readlink(`/proc/${proc.pid}/fd/1`), needsRoot: true });
      if (round >= 2 || records[PROBE_KEEPALIVED_STDOUT]) {
        const target = records[PROBE_KEEPALIVED_STDOUT]?.status === 'ok' ? records[PROBE_KEEPALIVED_STDOUT]!.stdout : undefined;
        specs.push(...logSources(proc, target));
      }
    } else if (round >= 1) {
      specs.push(...logSources(undefined, undefined));
    }
    // notify_master scripts are read (small, bounded) to know whether they turn forwarding on
    const cfg = configFromRecords(records, options.config);
    if (cfg) {
      for (const script of notifyScriptPaths(cfg)) {
        specs.push({ id: scriptProbeId(script), kind: 'file', path: script, maxBytes: 256 * 1024, hostPath: true });
      }
    }
    // USR1 dump: only read, never triggered (sending signals is a change to a running daemon).
    // Through /proc/PID/root so systemd's PrivateTmp (a private /tmp) does not hide it.
    const dump = dataDumpPath(proc);
    specs.push({ id: PROBE_KEEPALIVED_DATA, kind: 'file', path: dump, needsRoot: true });
    specs.push({ id: PROBE_KEEPALIVED_DATA_STAT, kind: 'stat', path: dump, needsRoot: true });
    return specs;
  },
};

/** keepalived -t, once every file of the configuration has been read, and never on a configuration
 *  that includes a file the doctor refused to read (a FIFO would hang it; /proc/kmsg would consume
 *  the host's kernel messages): then an internal record says why it was not run. */
function configtestSpec(config: string, records: Readonly<Record<string, ProbeRecord>>, wanted: readonly ProbeSpec[], round: number): ProbeSpec[] {
  const files = Object.values(records).filter((r) => r.id.startsWith(CONFIG_PREFIX));
  const refused = files.find((r) => r.status === 'error' && /refused/.test(r.reason ?? ''));
  if (refused) {
    const why = `not run: the configuration includes ${refused.path ?? refused.id.slice(CONFIG_PREFIX.length)}, which the doctor refused to read (${refused.reason})`;
    return [{ id: PROBE_CONFIGTEST, kind: 'internal', run: () => Promise.reject(new Error(why)) }];
  }
  const pending = wanted.some((s) => (s.id.startsWith(CONFIG_PREFIX) || s.id.startsWith(CONFIG_DIR_PREFIX)) && !records[s.id]);
  if (pending && round < 4) return [];
  return [{ id: PROBE_CONFIGTEST, kind: 'command', argv: ['keepalived', '-t', '-f', config], timeoutMs: 5000 }];
}

/** Where a program is on the PATH (plus the sbin directories a non-root PATH may lack), or ''. */
export async function findExecutable(name: string): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) {
    const p = path.join(dir, name);
    if (
      await access(p, fsConstants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return p;
  }
  return '';
}

// stat:PATH probes for every notify/track script the collected config names, so the checks can
// judge script security (keepalived -t does not). Derived from the kconf: records of earlier rounds.
export const keepalivedScriptProvider: ProbeProvider = {
  name: 'keepalived-scripts',
  probes: ({ records, options }) => {
    const config = configFromRecords(records, options.config);
    if (!config) return [];
    const specs = new Map<string, ProbeSpec>();
    // keepalived looks relative programs up in PATH; only absolute ones can be stat'ed as written
    for (const { ref } of configScripts(config))
      if (ref.path.startsWith('/')) specs.set(ref.path, { id: scriptStatProbeId(ref.path), kind: 'stat', path: ref.path });
    return [...specs.values()];
  },
};
