// The parser never throws and never hangs, whatever it is given.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseKeepalivedConfig } from '../../../src/keepalived/parse.js';
import { memoryReader } from '../../../src/keepalived/reader.js';

const FIX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/keepalived');
const REAL = readdirSync(FIX)
  .filter((f) => f.endsWith('.conf'))
  .map((f) => readFileSync(path.join(FIX, f), 'utf8'));
const MAIN = '/etc/keepalived/keepalived.conf';

const piece = fc.constantFrom(
  '{',
  '}',
  ' ',
  '\n',
  '\t',
  '"',
  '!',
  '#',
  '\\',
  '$',
  '@',
  '@^',
  '=',
  '/',
  'vrrp_instance',
  'VI_1',
  'virtual_router_id',
  '352',
  '51',
  'priority',
  'state',
  'MASTER',
  'interface',
  'eth0',
  'virtual_ipaddress',
  '10.0.0.1/24',
  'unicast_peer',
  'include',
  '*.conf',
  'a.conf',
  'virtual_server',
  'real_server',
  'TCP_CHECK',
  'url',
  'notify_master',
  'authentication',
  'auth_pass',
  'vrrp_sync_group',
  'group',
  'track_script',
  'weight',
  '-300',
  '$X=',
  '${X}',
  'local_address_group',
  'dev',
  'global_defs',
  '0.0.0.0',
  '::1',
  'vrrp_script',
  'script',
);
const configish = fc.array(piece, { maxLength: 300 }).map((a) => a.join(''));

function check(text: string, extra: Record<string, string> = {}) {
  const r = parseKeepalivedConfig(MAIN, memoryReader({ [MAIN]: text, ...extra }));
  expect(Array.isArray(r.diagnostics)).toBe(true);
  expect(r.diagnostics.filter((d) => /internal parser error/.test(d.message))).toEqual([]);
  expect(r.config.vrrpInstances.filter((vi) => vi.virtualRouterId !== undefined && !(vi.virtualRouterId >= 1))).toEqual([]);
}

describe('parser fuzz', () => {
  it('random unicode text', () =>
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (t) => check(t)),
      { numRuns: 300 },
    ));
  it('config-shaped token soup', () =>
    fc.assert(
      fc.property(configish, (t) => check(t)),
      { numRuns: 500 },
    ));
  it('real configs truncated anywhere', () =>
    fc.assert(
      fc.property(fc.constantFrom(...REAL), fc.nat(), (t, cut) => check(t.slice(0, cut % (t.length + 1)))),
      { numRuns: 300 },
    ));
  it('real configs with random characters spliced in', () =>
    fc.assert(
      fc.property(fc.constantFrom(...REAL), fc.nat(), configish, (t, at, junk) => {
        const i = at % (t.length + 1);
        check(t.slice(0, i) + junk + t.slice(i));
      }),
      { numRuns: 300 },
    ));
  it('files that include each other at random', () =>
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom('keepalived.conf', 'a.conf', 'b.conf', '*.conf', '{a,b}.conf', 'x/../a.conf'), { maxLength: 4 }), {
          minLength: 3,
          maxLength: 3,
        }),
        (incs) => {
          const [m, a, b] = incs.map((list) => list.map((f) => `include ${f}\nvrrp_instance V {\n}\n`).join(''));
          check(m!, { '/etc/keepalived/a.conf': a!, '/etc/keepalived/b.conf': b! });
        },
      ),
      { numRuns: 200 },
    ));
  // how fast is measured by `npm run bench` (hostile-host), never by a timed test: here, that the
  // parser survives pathological input with a diagnosis and never an internal error
  it('deep nesting and long lines are parsed, unbalanced braces diagnosed', () => {
    const open = parseKeepalivedConfig(MAIN, memoryReader({ [MAIN]: '{'.repeat(200_000) }));
    expect(open.diagnostics.length).toBeGreaterThan(0);
    check('}'.repeat(200_000));
    check('vrrp_instance A {\n' + 'x '.repeat(200_000) + '\n}');
    check('$A=$A$A\n$B=$A$A$A$A\n' + 'interface $B\n'.repeat(1000));
  });
});
