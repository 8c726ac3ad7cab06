// The keepalived config as the snapshot recorded it: a reader over the kconf:/kconf-dir: probes.
import type { CheckContext } from '../context.js';
import type { ProbeRecord, Snapshot } from '../types.js';
import { embeddedSnapshot } from '../types.js';
import type { ParseResult } from './model.js';
import { snapshotReader } from './snapshot-reader.js';
import { parseKeepalivedConfig } from './parse.js';
import { chosenConfig, parsedConfigFromRecords, PEER_SNAPSHOT_PROBE, type ConfigSource } from '../probes/keepalived.js';
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
    const result = parsedConfigFromRecords(ctx.snapshot.probes, ctx.snapshot.options.config)?.result;
    return { path, source, probe, result };
  });
}

/** The other node's snapshot (--peer-snapshot), when given and readable as one. */
export function peerSnapshot(ctx: CheckContext): Snapshot | undefined {
  return ctx.memo('peer-snapshot', () => embeddedSnapshot(ctx.output(PEER_SNAPSHOT_PROBE)));
}

/** The peer's keepalived config: --peer-config, else the config in --peer-snapshot. */
export function peerKeepalivedConfig(ctx: CheckContext): { path: string; result: ParseResult } | undefined {
  return ctx.memo('peer-keepalived-config', () => {
    const r = ctx.probe('peer-config');
    if (r?.status !== 'ok' || !r.path) {
      const peer = peerSnapshot(ctx);
      return peer ? parsedConfigFromRecords(peer.probes, peer.options?.config) : undefined;
    }
    const text = r.stdout;
    const file = r.path;
    // the peer's includes are not collected: only its main file is read
    return { path: file, result: parseKeepalivedConfig(file, { readFile: (p) => (p === file ? text : undefined), listDir: () => undefined }) };
  });
}
