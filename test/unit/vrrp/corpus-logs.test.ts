// Every log in ../shared/corpus/logs/ (keepalived logs other people posted, 1.x and 2.x): the timeline
// reads each state-change line; no line that names a VRRP state change is left unknown.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseVrrpLog, parseVrrpLogLine } from '../../../src/vrrp/log.js';
import { buildTimeline } from '../../../src/vrrp/timeline.js';
import { corpusDir } from '../../support/corpus.js';

const DIR = path.join(corpusDir(), 'logs');
const logs = readdirSync(DIR).filter((f) => f.endsWith('.txt'));

/** A line that says an instance or group changes (or is in) a VRRP state. */
const STATE_WORDS = /\b(MASTER|BACKUP|FAULT|INIT|STOP)\b/;
const CHANGE_WORDS = /\b(Entering|entering|Transition to|Now in|Syncing|Leaving|leaving|changing to)\b/;

describe('../shared/corpus/logs through the timeline', () => {
  it('holds logs to read', () => {
    expect(logs.length).toBeGreaterThanOrEqual(10);
  });

  const NOW = Date.parse('2027-01-01T00:00:00Z');
  const timelineOf = (name: string) => {
    const text = readFileSync(path.join(DIR, name), 'utf8');
    const events = parseVrrpLog(text, { now: NOW });
    return { text, events, tl: buildTimeline(events, { now: NOW }) };
  };

  it.each(logs)('%s: every state-change line is understood', (name) => {
    const { text, events, tl } = timelineOf(name);
    const unknown = text.split('\n').filter((l) => STATE_WORDS.test(l) && CHANGE_WORDS.test(l) && parseVrrpLogLine(l) === null);
    expect(unknown).toEqual([]);
    // every state line became an event, and every transition has at least one cause line (or says none was logged)
    const stateLines = text.split('\n').filter((l) => parseVrrpLogLine(l)?.kind === 'state').length;
    expect(events.filter((e) => e.kind === 'state').length).toBe(stateLines);
    expect(tl.transitions.filter((t) => t.causes.length === 0)).toEqual([]);
  });

  it('the logs hold transitions to explain (the cases above are not empty)', () => {
    expect(logs.reduce((n, name) => n + timelineOf(name).tl.transitions.length, 0)).toBeGreaterThan(10);
  });
});
