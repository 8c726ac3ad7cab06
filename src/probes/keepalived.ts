// Which keepalived is ours (the one in this network namespace), its config files, its config
// test, its log and its data dump.
import { access, readlink } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import type { ProbeProvider, ProbeRecord, ProbeSpec } from '../types.js';
import {
  DEFAULT_CONFIG,
  CONFIG_PREFIX,
  configDirProbeId,
  configFileProbeId,
  configIncludes,
  expandIncludePattern,
  scriptProbeId,
} from '../keepalived/files.js';
import { parseKeepalivedConfig } from '../keepalived/parse.js';
import { snapshotReader } from '../keepalived/snapshot-reader.js';
import type { KeepalivedConfig, ParseResult } from '../keepalived/model.js';
import { notifyScripts } from '../netfilter/vrrp-paths.js';
import { daemonsHere, DEFAULT_PID_FILES, pidFileFacts, readProcFacts, verifyDaemons, type KeepalivedProcess } from '../keepalived/daemon.js';

export type { KeepalivedProcess } from '../keepalived/daemon.js';

/** Walk /proc for keepalived processes and decide which is the daemon (src/keepalived/daemon.ts). */
export async function listKeepalivedProcesses(): Promise<KeepalivedProcess[]> {
  return verifyDaemons(await readProcFacts());
}

export interface KeepalivedArgs {
  config?: string;
  pidFile?: string;
  vrrpPidFile?: string;
  logConsole: boolean;
  logDetail: boolean;
  noSyslog: boolean;
  logFile?: string;
  namespace?: string;
  configId?: string;
}

/** Read keepalived's own command-line options (short, long, --opt=value and -fFILE forms). */
export function parseKeepalivedArgs(argv: readonly string[]): KeepalivedArgs {
  const a: KeepalivedArgs = { logConsole: false, logDetail: false, noSyslog: false };
  const withValue: Record<string, keyof KeepalivedArgs> = {
    '-f': 'config',
    '--use-file': 'config',
    '-p': 'pidFile',
    '--pid': 'pidFile',
    '-r': 'vrrpPidFile',
    '--vrrp_pid': 'vrrpPidFile',
    '-g': 'logFile',
    '--log-file': 'logFile',
    '-s': 'namespace',
    '--namespace': 'namespace',
    '-i': 'configId',
    '--config-id': 'configId',
  };
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg.startsWith('--') ? arg : arg.slice(0, 2);
    const key = withValue[name];
    if (key) {
      // -g takes its file attached only (-g/path); a bare -g logs to /tmp/keepalived.log
      let value: string | undefined = eq > 0 ? arg.slice(eq + 1) : !arg.startsWith('--') && arg.length > 2 ? arg.slice(2) : undefined;
      if (value === undefined && name !== '-g' && name !== '--log-file') value = argv[++i];
      if (key === 'logFile') value ??= '/tmp/keepalived.log';
      if (value !== undefined) (a as unknown as Record<string, unknown>)[key] = value;
      continue;
    }
    if (name === '--log-console') a.logConsole = true;
    else if (name === '--log-detail') a.logDetail = true;
    else if (name === '--no-syslog') a.noSyslog = true;
    else if (/^-[A-Za-z]+$/.test(arg)) {
      // bundled short flags such as -nlD
      if (arg.includes('l')) a.logConsole = true;
      if (arg.includes('D')) a.logDetail = true;
      if (arg.includes('G')) a.noSyslog = true;
    }
  }
  return a;
}

export function processesFrom(records: Readonly<Record<string, ProbeRecord>>): KeepalivedProcess[] {
  const r = records['keepalived-processes'];
  if (r?.status !== 'ok') return [];
  try {
    return JSON.parse(r.stdout) as KeepalivedProcess[];
  } catch {
    return [];
  }
}

/** The verified keepalived daemon (parent) of this network namespace, if one runs. Nothing else
 *  named keepalived counts: its argv (-f, -g, -p) is never read. */
export function ourKeepalived(records: Readonly<Record<string, ProbeRecord>>): KeepalivedProcess | undefined {
  return daemonsHere(processesFrom(records))[0];
}

export type ConfigSource = '--config' | 'process' | 'default';

export function chosenConfig(records: Readonly<Record<string, ProbeRecord>>, override: string | undefined): { path: string; source: ConfigSource } {
  if (override) return { path: path.resolve(override), source: '--config' };
  const proc = ourKeepalived(records);
  const fromArgs = proc ? parseKeepalivedArgs(proc.argv).config : undefined;
  // a relative -f is relative to the cwd keepalived was started in, which we cannot know; keepalived itself chdirs to /
  if (fromArgs) return { path: path.resolve('/', fromArgs), source: 'process' };
  return { path: DEFAULT_CONFIG, source: 'default' };
}

export { CONFIG_PREFIX, configFileProbeId, configDirProbeId, scriptProbeId };
export const PEER_SNAPSHOT_PROBE = 'peer-snapshot';
export const KEEPALIVED_LOG_PROBE = 'keepalived-log';
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
      id: 'keepalived-journal',
      kind: 'command',
      argv: ['journalctl', '--no-pager', '-o', 'short-iso', '-n', '20000', '-t', 'Keepalived_vrrp', '-t', 'Keepalived', '-t', 'keepalived'],
      timeoutMs: 5000,
      maxBytes: LOG_TAIL_BYTES,
      tail: true,
    },
    { id: 'syslog', kind: 'file', path: '/var/log/syslog', tail: true, maxBytes: LOG_TAIL_BYTES },
    { id: 'messages', kind: 'file', path: '/var/log/messages', tail: true, maxBytes: LOG_TAIL_BYTES },
  ];
}

export const keepalivedProvider: ProbeProvider = {
  name: 'keepalived',
  probes: ({ round, records, options }) => {
    if (round === 0) {
      return [
        // a /proc walk: longer than the default 3 s so a loaded host does not turn into "cannot tell"
        { id: 'keepalived-processes', kind: 'internal', run: async () => JSON.stringify(await listKeepalivedProcesses()), timeoutMs: 8000 },
        { id: 'keepalived-binary', kind: 'internal', run: () => findExecutable('keepalived') },
        // /proc mounted with hidepid: a non-root run sees none of root's processes, so "none found" proves nothing
        {
          id: 'proc-pid1-visible',
          kind: 'internal',
          run: () =>
            access('/proc/1/comm', fsConstants.R_OK).then(
              () => 'yes',
              () => 'no',
            ),
        },
        // a PID file whose pid is alive but not keepalived makes keepalived refuse to start
        ...DEFAULT_PID_FILES.map((f): ProbeSpec => ({ id: `pidfile:${f}`, kind: 'internal', run: () => pidFileFacts(f) })),
        ...(options.peerConfig ? [{ id: 'peer-config', kind: 'file' as const, path: path.resolve(options.peerConfig) }] : []),
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
      specs.push({ id: 'keepalived-stdout', kind: 'internal', run: async () => readlink(`/proc/${proc.pid}/fd/1`), needsRoot: true });
      if (round >= 2 || records['keepalived-stdout']) {
        const target = records['keepalived-stdout']?.status === 'ok' ? records['keepalived-stdout'].stdout : undefined;
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
    specs.push({ id: 'keepalived-data', kind: 'file', path: dump, needsRoot: true });
    specs.push({ id: 'stat:keepalived-data', kind: 'stat', path: dump, needsRoot: true });
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
    return [{ id: 'keepalived-configtest', kind: 'internal', run: () => Promise.reject(new Error(why)) }];
  }
  const pending = wanted.some((s) => (s.id.startsWith(CONFIG_PREFIX) || s.id.startsWith('kconf-dir:')) && !records[s.id]);
  if (pending && round < 4) return [];
  return [{ id: 'keepalived-configtest', kind: 'command', argv: ['keepalived', '-t', '-f', config], timeoutMs: 5000 }];
}

const parsed = new WeakMap<object, { key: string; result: ParseResult }>();

/** The keepalived config as collected in these records, parsed as keepalived reads it (`@id` lines
 *  with its -i, else the host name). Providers ask for it in every round and checks once per
 *  analysis: it is parsed again only when another config file has been read. */
export function parsedConfigFromRecords(
  records: Readonly<Record<string, ProbeRecord>>,
  override: string | undefined,
): { path: string; result: ParseResult } | undefined {
  const { path } = chosenConfig(records, override);
  if (records[configFileProbeId(path)]?.status !== 'ok') return undefined;
  const key = [path, ...Object.keys(records).filter((id) => id.startsWith(CONFIG_PREFIX) || id.startsWith('kconf-dir:'))].join('\0');
  const hit = parsed.get(records);
  if (hit?.key === key) return { path, result: hit.result };
  const proc = ourKeepalived(records);
  const hostname = records['hostname']?.status === 'ok' ? records['hostname'].stdout.trim() : undefined;
  const configId = (proc && parseKeepalivedArgs(proc.argv).configId) ?? hostname;
  const result = parseKeepalivedConfig(path, snapshotReader(records), configId ? { configId } : {});
  parsed.set(records, { key, result });
  return { path, result };
}

export function configFromRecords(records: Readonly<Record<string, ProbeRecord>>, override: string | undefined): KeepalivedConfig | undefined {
  return parsedConfigFromRecords(records, override)?.result.config;
}

/** The notify scripts (master/backup/fault/stop, instances and sync groups) the config names:
 *  read once, as script:PATH, for every check that looks inside them. */
export function notifyScriptPaths(config: KeepalivedConfig): string[] {
  return [
    ...new Set(
      notifyScripts(config)
        .map((n) => n.script.path)
        .filter((p) => p.startsWith('/')),
    ),
  ].sort();
}

export function notifyScriptText(records: Readonly<Record<string, ProbeRecord>>, file: string): string | undefined {
  const r = records[scriptProbeId(file)];
  return r?.status === 'ok' ? r.stdout : undefined;
}

/** Where the running keepalived's SIGUSR1 dump is, as seen from its own mount namespace. */
export function dataDumpPath(proc: KeepalivedProcess | undefined): string {
  return proc ? `/proc/${proc.pid}/root/tmp/keepalived.data` : '/tmp/keepalived.data';
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
