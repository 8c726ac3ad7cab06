// `hagw-doctor timeline [--since 24h] [--json] [--config FILE] [--from SNAPSHOT]`: keepalived's
// state transitions and their likely causes, from its log.
import { safeJson, visible } from '../report/escape.js';
import { withIsoTimes } from '../time.js';
import { CheckContext } from '../context.js';
import type { CollectOptions, Snapshot } from '../types.js';
import { collectSnapshot } from '../probes/collect.js';
import { hostProvider } from '../probes/host.js';
import { keepalivedProvider } from '../probes/keepalived.js';
import { netProvider } from '../probes/net.js';
import { keepalivedLogText } from '../state.js';
import { parseVrrpLog } from './log.js';
import { readLogWindow } from './tail.js';
import { buildTimeline, parseSince, renderTimeline, type Timeline } from './timeline.js';

export interface TimelineCommandOptions {
  since?: string;
  json?: boolean;
  config?: string;
  from?: string;
  color?: boolean;
}

export interface TimelineResult {
  timeline: Timeline;
  /** the probe (or file) the log came from */
  source: string;
}

/** The timeline of a snapshot's log (pure: no I/O). */
export function timelineFromSnapshot(snapshot: Snapshot, since: string): TimelineResult | undefined {
  const ctx = new CheckContext(snapshot);
  const log = keepalivedLogText(ctx);
  if (!log) return undefined;
  const now = Date.parse(snapshot.createdAt) || Date.now();
  const from = parseSince(since, now);
  const events = parseVrrpLog(log.text, { now, ...(from !== undefined ? { since: from } : {}), ...(log.pids ? { pids: log.pids } : {}) });
  return { timeline: buildTimeline(events, { now, ...(from !== undefined ? { since: from } : {}) }), source: log.probe };
}

export async function timelineCommand(opts: TimelineCommandOptions): Promise<number> {
  const since = opts.since ?? '24h';
  let result: TimelineResult | undefined;
  if (opts.from) {
    let snapshot: Snapshot;
    const { readSnapshot, SnapshotError } = await import('../snapshot-file.js');
    try {
      snapshot = await readSnapshot(opts.from);
    } catch (err) {
      if (!(err instanceof SnapshotError)) throw err;
      process.stderr.write(`hagw-doctor: ${visible(err.message)}\n`);
      return 3;
    }
    result = timelineFromSnapshot(snapshot, since);
  } else {
    const options: CollectOptions = { since, ...(opts.config ? { config: opts.config } : {}) };
    const snapshot = await collectSnapshot([hostProvider, netProvider, keepalivedProvider], options);
    result = timelineFromSnapshot(snapshot, since);
    // a log file is re-read from its end for exactly the window: the probe keeps only its last 8 MB
    const rec = result ? snapshot.probes[result.source] : undefined;
    if (result && rec?.kind === 'file' && rec.path && rec.truncated) {
      const now = Date.parse(snapshot.createdAt);
      const from = parseSince(since, now);
      const pids = keepalivedLogText(new CheckContext(snapshot))?.pids;
      try {
        const tail = await readLogWindow(rec.path, {
          now,
          ...(from !== undefined ? { since: from } : {}),
          ...(pids ? { pids } : {}),
          maxBytes: 512 * 1024 * 1024,
        });
        result = { timeline: buildTimeline(tail.events, { now, ...(from !== undefined ? { since: from } : {}) }), source: rec.path };
      } catch {
        // keep the probe's 8 MB view
      }
    }
  }
  if (!result) {
    process.stderr.write(
      "hagw-doctor: keepalived's log was not found (no -l/-g log file, journal entries, /var/log/syslog or /var/log/messages with Keepalived lines; reading them may need root)\n",
    );
    return 3;
  }
  // ISO 8601 times beside the log's own (timeIso next to ts, nowIso, sinceIso): additive to v1
  if (opts.json) process.stdout.write(safeJson(withIsoTimes({ schema: 'hagw-doctor.timeline/v1', source: result.source, ...result.timeline })) + '\n');
  else process.stdout.write(visible(`log: ${result.source}\n${renderTimeline(result.timeline)}`));
  return 0;
}

export { renderTimeline, buildTimeline };
