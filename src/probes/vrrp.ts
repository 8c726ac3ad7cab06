// Probes of the vrrp area: with --wire, listen for VRRP adverts (protocol 112) on the VRRP
// interfaces for a few advert intervals. The packet socket sees adverts before netfilter, so a
// capture shows what reaches the host even when the firewall drops it afterwards.
import type { ProbeProvider, ProbeRecord, ProbeSpec } from '../types.js';
import { chosenConfig, configFromRecords } from '../keepalived/records.js';
import { configFileProbeId, WIRE_PROBE_PREFIX, wireProbeId } from './ids.js';

export { WIRE_PROBE_PREFIX, wireProbeId };
/** default window: this many advert intervals */
export const WIRE_INTERVALS = 3;
/** the window never exceeds this, whatever --wire-seconds or advert_int say */
export const MAX_WIRE_SECONDS = 15;
export const MIN_WIRE_SECONDS = 1;
/** packets: a bound on output for a busy segment */
export const MAX_WIRE_PACKETS = 500;

/** Seconds to listen: --wire-seconds when given, else 3 advert intervals of the slowest instance; clamped. */
export function wireWindow(advertInts: readonly number[], requested?: number): number {
  const base = requested !== undefined && requested > 0 ? requested : WIRE_INTERVALS * Math.max(1, ...advertInts.filter((n) => n > 0));
  return Math.min(MAX_WIRE_SECONDS, Math.max(MIN_WIRE_SECONDS, Math.ceil(base)));
}

/** `timeout` ends tcpdump at the window; tcpdump then prints its counters and exits, keeping what it saw.
 *  -e prints the source MAC (our own adverts carry our MAC even when SNAT rewrote their source). */
export function wireArgv(iface: string, seconds: number): string[] {
  return ['timeout', String(seconds), 'tcpdump', '-nn', '-l', '-v', '-e', '-i', iface, '-c', String(MAX_WIRE_PACKETS), 'ip proto 112'];
}

function configuredInterfaces(
  records: Readonly<Record<string, ProbeRecord>>,
  override: string | undefined,
): { ifaces: string[]; advertInts: number[] } | undefined {
  const { path } = chosenConfig(records, override);
  const rec = records[configFileProbeId(path)];
  if (!rec) return undefined;
  if (rec.status !== 'ok') return { ifaces: [], advertInts: [] };
  try {
    const config = configFromRecords(records, override)!;
    return {
      ifaces: [...new Set(config.vrrpInstances.map((i) => i.interface).filter((i): i is string => !!i))],
      advertInts: config.vrrpInstances.map((i) => i.advertInt ?? 1),
    };
  } catch {
    return { ifaces: [], advertInts: [] };
  }
}

export const wireProvider: ProbeProvider = {
  name: 'vrrp-wire',
  probes: ({ round, records, options }) => {
    if (!options.wire) return [];
    const cfg = configuredInterfaces(records, options.config);
    // wait for the config (read in round 1) unless it never comes
    if (!cfg && round < 3) return [];
    const ifaces = cfg?.ifaces.length ? cfg.ifaces : ['any'];
    const seconds = wireWindow(cfg?.advertInts ?? [], options.wireSeconds);
    return ifaces.map((iface): ProbeSpec => ({
      id: wireProbeId(iface),
      kind: 'command',
      argv: wireArgv(iface, seconds),
      timeoutMs: seconds * 1000 + 3000,
      needsRoot: true,
      maxBytes: 1024 * 1024,
    }));
  },
};

export const vrrpProviders: ProbeProvider[] = [wireProvider];
