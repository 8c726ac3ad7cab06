// The triage screen's timeline: the last transitions with their causes, from the log the
// snapshot recorded. Pure (the snapshot is the only input).
import type { Snapshot } from '../../types.js';
import { CheckContext } from '../../context.js';
import { keepalivedLogText } from '../../state.js';
import { parseVrrpLog } from '../../vrrp/log.js';
import { buildTimeline, parseSince, type Timeline } from '../../vrrp/timeline.js';

export interface TriageTimeline {
  /** the log the lines came from, or why there is none */
  source: string;
  timeline?: Timeline;
}

export function triageTimeline(snapshot: Snapshot, since = '24h'): TriageTimeline {
  const ctx = new CheckContext(snapshot);
  const log = keepalivedLogText(ctx);
  if (!log) return { source: 'no keepalived log was collected (journal, syslog or console file)' };
  const now = Date.parse(snapshot.createdAt) || Date.now();
  const sinceMs = parseSince(snapshot.options.since ?? since, now);
  const events = parseVrrpLog(log.text, { ...(log.pids ? { pids: log.pids } : {}), ...(sinceMs !== undefined ? { since: sinceMs } : {}) });
  return { source: log.probe, timeline: buildTimeline(events, { now, ...(sinceMs !== undefined ? { since: sinceMs } : {}) }) };
}
