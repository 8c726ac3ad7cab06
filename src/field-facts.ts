// What the field-failure checks read about the host besides keepalived: the network manager and
// conntrackd files, the watched processes of this namespace. Pure: src/probes/field.ts collects them.
import type { ProbeRecord } from './types.js';
import { PROBE_FIELD_PROCESSES } from './probes/ids.js';

export const NETWORKD_CONF = '/etc/systemd/networkd.conf';
export const NETWORKD_CONF_DIR = '/etc/systemd/networkd.conf.d';
export const CONNTRACKD_CONF = '/etc/conntrackd/conntrackd.conf';
/** The user keepalived runs scripts as when no script_user is given (and it exists). */
export const DEFAULT_SCRIPT_USER = 'keepalived_script';

export interface WatchedProcess {
  pid: number;
  comm: string;
  ours: boolean;
}

export function watchedFrom(records: Readonly<Record<string, ProbeRecord>>): WatchedProcess[] | undefined {
  const r = records[PROBE_FIELD_PROCESSES];
  if (r?.status !== 'ok') return undefined;
  try {
    return JSON.parse(r.stdout) as WatchedProcess[];
  } catch {
    return undefined;
  }
}
