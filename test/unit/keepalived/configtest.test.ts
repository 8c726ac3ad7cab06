// keepalived -t's messages graded by meaning (src/keepalived/configtest.ts) and the
// keepalived-config check built on them: the exit status alone never makes an error.
import { describe, expect, it } from 'vitest';
import { CheckContext } from '../../../src/context.js';
import { runCheck } from '../../../src/check.js';
import { keepalivedChecks } from '../../../checks/keepalived.js';
import { gradeConfigtest } from '../../../src/keepalived/configtest.js';
import { cmd, file, keepalivedProcess, makeSnapshot } from '../../support/snapshot.js';

const CONF = '/etc/keepalived/keepalived.conf';
const TEXT =
  'vrrp_instance VI_LAN {\n  state MASTER\n  interface eth0\n  track_interface {\n    eth0\n  }\n  virtual_router_id 51\n  priority 150\n  auth_pass 123456789\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n';
const check = keepalivedChecks.find((c) => c.id === 'keepalived-config')!;

function run(out: string, code: number, opts: { live?: boolean } = {}) {
  const records = [file(`kconf:${CONF}`, CONF, TEXT), cmd('keepalived-configtest', ['keepalived', '-t', '-f', CONF], '', code, out)];
  if (opts.live) records.push(keepalivedProcess());
  return runCheck(check, new CheckContext(makeSnapshot(records, {}, opts.live ? {} : { config: CONF })));
}

describe('gradeConfigtest', () => {
  it('grades by meaning, whatever keepalived tagged the message', () => {
    const g = gradeConfigtest(
      [
        '(VI_LAN) Ignoring track_interface eth0 since own interface',
        `(${CONF}: Line 9) Truncating auth_pass to 8 characters`,
        `(${CONF}: Line 3) WARNING - interface eth9 for vrrp_instance VI_LAN doesn't exist`,
        'Non-existent interface specified in configuration',
        `(${CONF}: Line 8) Unknown keyword 'prioirty'`,
        '(Line 2) Something keepalived never documented',
        `(${CONF}: Line 11) (VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.`,
        `(${CONF}: Line 11)         Please use global lvs_sync_daemon`,
      ].join('\n'),
      CONF,
    );
    expect(g.map((m) => [m.grade, m.rule, m.file ?? '', m.line_no ?? 0])).toEqual([
      ['info', 'track-own-interface', '', 0],
      ['warning', 'auth-pass-truncated', CONF, 9],
      ['environment', 'interface-missing', CONF, 3],
      ['environment', 'bad-interface', '', 0],
      ['error', 'unknown', CONF, 8],
      ['error', 'unknown', CONF, 2],
      ['warning', 'deprecated', CONF, 11],
    ]);
    // a continuation line belongs to the message before it
    expect(g.at(-1)!.message).toBe('(VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon');
  });

  it('a track script removed for a reason about this host: the "not found" after it is the same cause', () => {
    const g = gradeConfigtest(
      'Unable to set default user for vrrp script chk - removing\n(VI_1) track script chk not found, ignoring...\n(VI_1) track script other not found, ignoring...\n',
    );
    expect(g.map((m) => m.grade)).toEqual(['environment', 'environment', 'error']);
  });
});

describe('keepalived-config', () => {
  it('exit 5 with only a benign note: one info finding, located at the instance, nothing above info', () => {
    const r = run('(VI_LAN) Ignoring track_interface eth0 since own interface\n', 5);
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([['keepalived-config-invalid', 'info']]);
    expect(r.findings[0]!.evidence.map((e) => e.excerpt)).toEqual([
      `keepalived -t -f ${CONF}: exit status 5; 1 info`,
      `${CONF}:1: (VI_LAN) Ignoring track_interface eth0 since own interface`,
    ]);
    expect(r.findings[0]!.location).toEqual({ file: CONF, line: 1 });
  });

  it('one finding per grade, each quoting FILE:LINE; unknown messages stay errors', () => {
    const r = run(
      `(${CONF}: Line 9) Truncating auth_pass to 8 characters\n(${CONF}: Line 3) WARNING - interface eth9 for vrrp_instance VI_LAN doesn't exist\n(${CONF}: Line 8) Unknown keyword 'prioirty'\n`,
      5,
    );
    expect(r.findings.map((f) => [f.severity, f.title])).toEqual([
      ['error', `keepalived rejects ${CONF} line 8: Unknown keyword 'prioirty'`],
      ['warning', `on this host, keepalived lacks what ${CONF} line 3 names: WARNING - interface eth9 for vrrp_instance VI_LAN doesn't exist`],
      ['warning', `keepalived warns about ${CONF} line 9: Truncating auth_pass to 8 characters`],
    ]);
    expect(r.findings[0]!.evidence[1]!.excerpt).toBe(`${CONF}:8: Unknown keyword 'prioirty'`);
  });

  it("environment messages about the running keepalived's own config are errors on this host", () => {
    const r = run(`(${CONF}: Line 3) WARNING - interface eth9 for vrrp_instance VI_LAN doesn't exist\n`, 5, { live: true });
    expect(r.findings.map((f) => f.severity)).toEqual(['error']);
  });

  it('exit status alone: 0 with no message is clean; non-zero with no message is an error', () => {
    expect(run('', 0).findings).toEqual([]);
    expect(run('', 5).findings.map((f) => [f.severity, f.title])).toEqual([['error', `keepalived -t fails on ${CONF} (exit 5) without a message`]]);
  });
});
