// The keepalived config as the snapshot recorded it: a reader over the kconf:/kconf-dir: probes.
import type { CheckContext } from '../context.js';
import type { ProbeRecord } from '../types.js';
import type { ParseResult } from './model.js';
import { snapshotReader } from './snapshot-reader.js';
import { parseKeepalivedConfig } from './parse.js';
import { chosenConfig, ourKeepalived, parseKeepalivedArgs, type ConfigSource } from '../probes/keepalived.js';
import { configFileProbeId } from './files.js';

export { snapshotReader };

export interface LoadedConfig {
  path: string;
  source: ConfigSource;
  /** the main file's probe (missing, denied...) */
  probe: ProbeRecord | undefined;
  /** undefined when the main file could not be read */
  result: ParseResult | undefined;
}

/** This node's keepalived config, parsed once per analysis. */
export function keepalivedConfig(ctx: CheckContext): LoadedConfig {
  return ctx.memo('keepalived-config', () => {
    const { path, source } = chosenConfig(ctx.snapshot.probes, ctx.snapshot.options.config);
    const probe = ctx.probe(configFileProbeId(path));
    // `@id` lines are read as keepalived reads them: its -i, else the host name
    const proc = ourKeepalived(ctx.snapshot.probes);
    const configId = (proc && parseKeepalivedArgs(proc.argv).configId) ?? ctx.snapshot.host.hostname;
    const result = probe?.status === 'ok' ? parseKeepalivedConfig(path, snapshotReader(ctx.snapshot.probes), { configId }) : undefined;
    return { path, source, probe, result };
  });
}

/** The peer's keepalived config (--peer-config), when given and readable. */
export function peerKeepalivedConfig(ctx: CheckContext): { path: string; result: ParseResult } | undefined {
  return ctx.memo('peer-keepalived-config', () => {
    const r = ctx.probe('peer-config');
    if (r?.status !== 'ok' || !r.path) return undefined;
    const text = r.stdout;
    const file = r.path;
    // the peer's includes are not collected: only its main file is read
    return { path: file, result: parseKeepalivedConfig(file, { readFile: (p) => (p === file ? text : undefined), listDir: () => undefined }) };
  });
}
