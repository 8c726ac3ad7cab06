// The CLI's words (issue 16): codes and explain from the registry, demo --help lists the scenarios,
// the summary names the worst severity it counts, unknown codes point at `hagw-doctor codes`.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import path from 'node:path';
import { ALL_CODES } from '../../src/codes.js';
import { capableTerm, ttyApp } from '../../src/cli.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/hagw-doctor');
const run = (args: string[]) => execa(process.execPath, [BIN, ...args], { reject: false, timeout: 30_000, env: { NO_COLOR: '1' }, stdin: 'ignore' });

describe('codes and explain', () => {
  it('codes lists every code of the registry; --json carries detection and fix', async () => {
    const text = await run(['codes']);
    expect(text.exitCode).toBe(0);
    for (const c of ALL_CODES) expect(text.stdout).toContain(c);
    const json = JSON.parse((await run(['codes', '--json'])).stdout) as Array<{ code: string; detection: string; fix: string; checks: string[] }>;
    expect(json.map((e) => e.code)).toEqual(ALL_CODES);
    expect(json.find((e) => e.code === 'vrrp-conntrack-nat')).toMatchObject({ checks: ['netfilter-vrrp-conntrack'] });
  });

  it('explain prints meaning, detection and fix; --only names an unknown code', async () => {
    const e = await run(['explain', 'ip-forward-off']);
    expect(e.exitCode).toBe(0);
    expect(e.stdout).toMatch(/What it means:[\s\S]*How it is detected:[\s\S]*The fix:[\s\S]*Checked by:\s+ip-forward/);
    const only = await run(['check', '--only', 'nope']);
    expect(only.stderr).toContain('--only: unknown code nope (see `hagw-doctor codes`)');
  });

  it.each([[['explain', 'no-such-code']], [['fix', 'no-such-code', '--dry-run']]])('%j: an unknown code says where to look, exit 3', async (args) => {
    const bad = await run(args);
    expect(bad.exitCode).toBe(3);
    expect(bad.stderr.trim()).toBe('hagw-doctor: unknown code no-such-code (see `hagw-doctor codes`)');
  });
});

describe('demo', () => {
  it('--help lists the scenarios; the summary names the worst severity it counts', async () => {
    const h = await run(['demo', '--help']);
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toMatch(/Scenarios \(default ip-forward-off\):\n(\s+[\w-]+\n)+/);
    expect(h.stdout).toContain('  config-error');
    const d = await run(['demo', 'config-error']);
    // the recorded lab pair SNATs without periodic GARP: garp-refresh-missing (warning) on both instances
    expect(d.stdout).toMatch(/^ERROR: 1 error, 2 warning, 1 info {2}\(/m);
    expect(d.stdout).not.toMatch(/CRITICAL: 0 critical/);
  });
});

describe('JSON times', () => {
  it("instances carry sinceIso (ISO 8601 with a zone) beside the log's own since", async () => {
    const r = JSON.parse((await run(['demo', 'snat-on-backup', '--json'])).stdout) as { instances: Array<{ since?: string; sinceIso?: string }> };
    const i = r.instances.find((x) => x.since)!;
    expect(i.since).toMatch(/^\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}$/);
    expect(i.sinceIso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
    expect(Date.parse(i.sinceIso!)).toBe(new Date(i.since!).getTime());
  });
});

describe('which terminal gets the app', () => {
  it.each([
    ['xterm-256color', true],
    ['screen.xterm-256color', true],
    ['tmux-256color', true],
    ['linux', true],
    ['vt100', true],
    ['alacritty', true],
    [undefined, false],
    ['', false],
    ['dumb', false],
    ['unknown', false],
    ['emacs', false],
    ['foo-unknown', false],
  ] as const)('TERM=%j can draw the app: %s', (term, capable) => {
    expect(capableTerm(term)).toBe(capable);
  });

  it.each([
    ['xterm', true, true, true],
    ['xterm', true, false, false],
    ['dumb', true, true, false],
  ] as const)('TERM=%s, stdin a TTY: %s, stdout a TTY: %s: the app: %s (else the text report)', (TERM, stdin, stdout, app) => {
    expect(ttyApp({ TERM }, { isTTY: stdin }, { isTTY: stdout })).toBe(app);
  });
});
