// Our keepalived as the probe records show it: which process is the daemon of this namespace,
// its options, the configuration it reads (parsed once per record set), the scripts it runs.
// Pure: reads only the records (src/probes/keepalived.ts collects them).
import path from 'node:path';
import type { ProbeRecord } from '../types.js';
import { CONFIG_DIR_PREFIX, CONFIG_PREFIX, configFileProbeId, PROBE_HOSTNAME, PROBE_KEEPALIVED_PROCESSES, scriptProbeId } from '../probes/ids.js';
import { DEFAULT_CONFIG } from './files.js';
import { parseKeepalivedConfig } from './parse.js';
import { snapshotReader } from './snapshot-reader.js';
import type { KeepalivedConfig, ParseResult, ScriptRef } from './model.js';
import { notifyScripts } from '../netfilter/vrrp-paths.js';
import { daemonsHere, type KeepalivedProcess } from './daemon.js';

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
  const r = records[PROBE_KEEPALIVED_PROCESSES];
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
  const key = [path, ...Object.keys(records).filter((id) => id.startsWith(CONFIG_PREFIX) || id.startsWith(CONFIG_DIR_PREFIX))].join('\0');
  const hit = parsed.get(records);
  if (hit?.key === key) return { path, result: hit.result };
  const proc = ourKeepalived(records);
  const hostname = records[PROBE_HOSTNAME]?.status === 'ok' ? records[PROBE_HOSTNAME]!.stdout.trim() : undefined;
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

/** Every script the config runs: notify_* of instances and sync groups, and vrrp_script programs. */
export function configScripts(config: KeepalivedConfig): Array<{ ref: ScriptRef; owner: string; role: string }> {
  const out: Array<{ ref: ScriptRef; owner: string; role: string }> = [];
  for (const vi of config.vrrpInstances)
    for (const [role, ref] of Object.entries(vi.notify))
      if (ref) out.push({ ref, owner: `vrrp_instance ${vi.name}`, role: role === 'notify' ? 'notify' : `notify_${role}` });
  for (const g of config.vrrpSyncGroups)
    for (const [role, ref] of Object.entries(g.notify))
      if (ref) out.push({ ref, owner: `vrrp_sync_group ${g.name}`, role: role === 'notify' ? 'notify' : `notify_${role}` });
  for (const s of config.vrrpScripts) if (s.script) out.push({ ref: s.script, owner: `vrrp_script ${s.name}`, role: 'script' });
  return out;
}
