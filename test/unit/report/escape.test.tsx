// Host text never drives the terminal: a hostname, an instance name, a finding title or an evidence
// excerpt carrying escape sequences reaches every view escaped (\x1b), and JUnit stays valid XML.
import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import type { Finding, Report } from '../../../src/types.js';
import { renderText } from '../../../src/report/text.js';
import { renderJson, renderJunit } from '../../../src/report/formats.js';
import { promLabel, visible, visibleLine, xmlText } from '../../../src/report/escape.js';
import { App } from '../../../src/app/app.js';
import { Session } from '../../../src/app/session.js';
import { fakeServices, report, waitFor } from '../app/helpers.js';

afterEach(() => cleanup());

const CLIPBOARD = '\u001b]52;c;ZWNobyBwd25lZA==\u0007';
const CLEAR = '\u001b[2J';
const HOSTILE_HOST = `gw1${CLIPBOARD}${CLEAR}\r\u009b31m\u202e`;
const HOSTILE_FINDING: Finding = {
  code: 'keepalived-config-invalid',
  severity: 'error',
  title: `keepalived rejects (VI_${CLEAR}) line 3`,
  detail: `instance ${CLIPBOARD} is odd\u0000`,
  evidence: [{ probe: 'keepalived-configtest', excerpt: `(VI${CLEAR}) Unknown keyword '\u001b[1;1H'` }],
  location: { file: `/etc/keepalived/${CLEAR}.conf`, line: 3 },
};

function hostile(): Report {
  return report([HOSTILE_FINDING], {
    host: { hostname: HOSTILE_HOST, kernel: '6.1', keepalived: '2.2.7', netns: 'net:[1]' },
    instances: [{ name: `VI${CLIPBOARD}`, state: 'MASTER', source: 'log', vips: ['10.0.0.1'], vipsHeld: ['10.0.0.1'] }],
  });
}

/** The raw control characters a terminal would act on (ESC, BEL, CR, NUL, C1, bidi overrides). */

const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('visible', () => {
  it('escapes C0/C1 controls and bidi overrides, keeps newlines, tabs and printable Unicode', () => {
    expect(visible(`a${CLEAR}b`)).toBe('a\\x1b[2Jb');
    expect(visible('x\u0007\u009by\u202ez')).toBe('x\\x07\\x9by\\u202ez');
    expect(visible('line1\nline2\tcol')).toBe('line1\nline2\tcol');
    expect(visibleLine('line1\nline2\r')).toBe('line1\\nline2\\r');
    expect(visible('Zürich – 機房 ✓')).toBe('Zürich – 機房 ✓');
  });

  it('makes a lone surrogate visible (no invalid UTF-16 reaches a view)', () => {
    expect(visible('a\ud800b')).toBe('a\\ud800b');
    expect(visible('😀')).toBe('😀');
  });
});

describe('views of a host whose names carry escape sequences', () => {
  it.each([false, true])('the text report shows them escaped (colour: %s)', (color) => {
    const text = renderText(hostile(), { color });
    expect(text).toContain('gw1\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\x1b[2J\\r\\x9b31m\\u202e');
    expect(text).toContain('VI\\x1b]52;c;');
    expect(text).toContain("Unknown keyword '\\x1b[1;1H'");
    expect(text).not.toContain(CLIPBOARD);
    expect(text).not.toContain(CLEAR);
    // without colour nothing raw at all; with colour only our own SGR sequences
    const withoutOurSgr = text.replace(/\u001b\[\d+m/g, '');
    expect(RAW.test(withoutOurSgr)).toBe(false);
  });

  it('JSON escapes them as JSON does (\\u001b), never raw', () => {
    const json = renderJson(hostile());
    expect(RAW.test(json.replace(/\n/g, ''))).toBe(false);
    expect(JSON.parse(json).host.hostname).toBe(HOSTILE_HOST);
  });

  it('JUnit is valid XML 1.0: no character outside the XML range, every & an entity, attributes closed', () => {
    const xml = renderJunit(hostile());
    // XML 1.0 Char production
    expect(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.test(xml)).toBe(false);
    expect(/&(?!(amp|lt|gt|quot|apos);)/.test(xml)).toBe(false);
    expect(xml).toContain('name="hagw-doctor gw1\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\x1b[2J\\r\\x9b31m\\u202e"');
    expect(xmlText('a"b<c>&\ufffe')).toBe('a&quot;b&lt;c&gt;&amp;');
    // every element that opens is closed, in order
    const stack: string[] = [];
    const closed: Array<[string | undefined, string]> = [];
    for (const m of xml.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
      if (m[3]) continue;
      if (m[1]) closed.push([stack.pop(), m[2]!]);
      else stack.push(m[2]!);
    }
    expect(closed.length).toBeGreaterThan(2);
    expect(closed.filter(([open, close]) => open !== close)).toEqual([]);
    expect(stack).toEqual([]);
  });

  it('a Prometheus label value is escaped for the text format', () => {
    expect(promLabel(`gw"1\\${CLEAR}\n`)).toBe('gw\\"1\\\\\\\\x1b[2J ');
  });

  it('the app shows them escaped: no raw ESC sequence from the host in any frame', async () => {
    const session = new Session(fakeServices({ reports: [hostile()] }));
    const r = render(<App session={session} color={false} onExit={() => undefined} />);
    void session.diagnose();
    const frame = await waitFor(r.lastFrame, '\\x1b]52');
    expect(frame).not.toContain(CLIPBOARD);
    expect(frame).not.toContain(CLEAR);
    expect(r.frames.length).toBeGreaterThan(0);
    expect(r.frames.filter((f) => f.includes('\u001b]52') || f.includes(CLEAR))).toEqual([]);
  });
});
