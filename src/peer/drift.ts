// "Written but not loaded": a keepalived.conf changed after the running keepalived read it (its
// start, or its last reload in the log). Between two nodes this decides whose side a config
// disagreement is on: the node whose file moved since its daemon loaded it.
import type { ProbeProvider, Snapshot } from '../types.js';
import { CheckContext } from '../context.js';
import { chosenConfig, ourKeepalived } from '../probes/keepalived.js';
import { keepalivedLogText } from '../state.js';
import { lineTimestamp } from '../vrrp/log.js';

import { KEEPALIVED_PROC_STAT_PROBE, PROC_STAT_PROBE, statProbeId } from '../probes/ids.js';
export { KEEPALIVED_PROC_STAT_PROBE, PROC_STAT_PROBE };
const statId = statProbeId;

/** The config file's stat and the running keepalived's start time (for drift); cheap, read-only. */
export const driftProvider: ProbeProvider = {
  name: 'config-drift',
  probes: ({ round, records, options }) => {
    if (round === 0) return [];
    const { path } = chosenConfig(records, options.config);
    const proc = ourKeepalived(records);
    return [
      { id: statId(path), kind: 'stat', path },
      ...(proc
        ? [
            { id: PROC_STAT_PROBE, kind: 'file' as const, path: '/proc/stat', maxBytes: 64 * 1024 },
            { id: KEEPALIVED_PROC_STAT_PROBE, kind: 'file' as const, path: `/proc/${Math.trunc(proc.pid)}/stat`, maxBytes: 4096 },
          ]
        : []),
    ];
  },
};

export interface Drift {
  file: string;
  /** ms since the epoch */
  changedAt: number;
  loadedAt: number;
  /** what loadedAt is: the daemon's start or a reload line */
  loadedBy: string;
}

/** When the running keepalived last read its config: the later of its start and its last "Reloading" line. */
function loadedAt(snapshot: Snapshot, ctx: CheckContext): { at: number; by: string } | undefined {
  let best: { at: number; by: string } | undefined;
  const btime = /^btime (\d+)$/m.exec(ctx.output(PROC_STAT_PROBE) ?? '')?.[1];
  const stat = ctx.output(KEEPALIVED_PROC_STAT_PROBE);
  if (btime && stat) {
    // field 22 (starttime, clock ticks since boot) counted after the ")" that ends comm; USER_HZ is 100 on Linux
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    if (Number.isFinite(ticks)) best = { at: Number(btime) * 1000 + ticks * 10, by: 'keepalived started' };
  }
  const log = keepalivedLogText(ctx)?.text ?? '';
  const at = log.lastIndexOf('Reloading');
  if (at >= 0) {
    const line = log.slice(log.lastIndexOf('\n', at) + 1, (log.indexOf('\n', at) + 1 || log.length + 1) - 1);
    const t = lineTimestamp(line, { now: Date.parse(snapshot.createdAt) });
    if (t?.ts !== undefined && (!best || t.ts > best.at)) best = { at: t.ts, by: `reloaded at ${t.time}` };
  }
  return best;
}

/** The node's config drift, when its file is newer than what its keepalived loaded. */
export function configDrift(snapshot: Snapshot): Drift | undefined {
  const ctx = new CheckContext(snapshot);
  if (!ourKeepalived(snapshot.probes)) return undefined;
  const { path } = chosenConfig(snapshot.probes, snapshot.options.config);
  const st = ctx.output(statId(path));
  if (!st) return undefined;
  let mtime: number;
  try {
    mtime = Number((JSON.parse(st) as { mtimeMs?: unknown }).mtimeMs);
  } catch {
    return undefined;
  }
  const loaded = loadedAt(snapshot, ctx);
  // a second of slack: the start time is in clock ticks, the mtime in whole seconds over ssh
  if (!loaded || !Number.isFinite(mtime) || mtime <= loaded.at + 1000) return undefined;
  return { file: path, changedAt: mtime, loadedAt: loaded.at, loadedBy: loaded.by };
}
