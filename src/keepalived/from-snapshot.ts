// The keepalived config as the snapshot recorded it: a reader over the kconf:/kconf-dir: probes.
import type { CheckContext } from '../context.js';
import type { ProbeRecord, Snapshot } from '../types.js';
import { embeddedSnapshot } from '../types.js';
import type { ParseResult } from './model.js';
import { snapshotReader } from './snapshot-reader.js';
import { parseKeepalivedConfig } from './parse.js';
import { chosenConfig, parsedConfigFromRecords, PEER_SNAPSHOT_PROBE, type ConfigSource } from '../probes/keepalived.js';
import { configFileProbeId } from './files.js';
import { PROBE_PEER_CONFIG } from '../probes/ids.js';

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

/** A VIP of our configuration (virtual_ipaddress of every vrrp_instance), IPv4 and IPv6. */
export interface OurVip {
  address: string;
  prefix: number;
  instance: string;
  /** the interface it is added to: its dev, else the instance's interface */
  dev?: string;
}

/** Our VIPs, IPv4 and IPv6, in config order (none when the config is not readable). */
export function ourVips(ctx: CheckContext): OurVip[] {
  return ctx.memo('our-vips', () =>
    (keepalivedConfig(ctx).result?.config.vrrpInstances ?? []).flatMap((inst) =>
      inst.virtualIpaddresses.map((v) => ({
        address: v.address,
        prefix: v.prefix,
        instance: inst.name,
        ...((v.dev ?? inst.interface) ? { dev: (v.dev ?? inst.interface)! } : {}),
      })),
    ),
  );
}

/** The other node's snapshot (--peer-snapshot), when given and readable as one. */
export function peerSnapshot(ctx: CheckContext): Snapshot | undefined {
  return ctx.memo('peer-snapshot', () => embeddedSnapshot(ctx.output(PEER_SNAPSHOT_PROBE)));
}

/** The peer's keepalived config: --peer-config, else the config in --peer-snapshot. */
export function peerKeepalivedConfig(ctx: CheckContext): { path: string; result: ParseResult } | undefined {
  return ctx.memo('peer-keepalived-config', () => {
    const r = ctx.probe(PROBE_PEER_CONFIG);
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
