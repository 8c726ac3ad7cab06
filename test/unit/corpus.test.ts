// The corpus (../shared/corpus, real files written by other people, with keepalived -t's verdicts):
// the doctor's config analysis runs on every keepalived.conf there, and its iptables and log
// parsers on every dump and log. keepalived -t's output for each config was captured the way the
// corpus README says the verdicts were made (test/fixtures/corpus-configtest/capture.sh) and
// agrees with VERDICTS.tsv exit code for exit code (asserted below).
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyse } from '../../src/pipeline.js';
import { gradeConfigtest } from '../../src/keepalived/configtest.js';
import { parseIptablesSave } from '../../src/netfilter/iptables-save.js';
import { parseVrrpLog } from '../../src/vrrp/log.js';
import { parseConntrack } from '../../src/netfilter/conntrack.js';
import type { ProbeRecord, Report } from '../../src/types.js';
import { cmd, file, makeSnapshot } from '../support/snapshot.js';
import { corpusDir } from '../support/corpus.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CAPTURED = path.join(ROOT, 'test/fixtures/corpus-configtest');

const CORPUS = corpusDir();
const verdicts = readFileSync(path.join(CORPUS, 'keepalived/VERDICTS.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'))
  .map(([name, code, , , , , cls]) => ({ name: name!, code: Number(code), cls: cls! }));
const captured = new Map(
  readFileSync(path.join(CAPTURED, 'EXIT.tsv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'))
    .map(([n, c]) => [n!, Number(c)] as const),
);

function configSnapshot(name: string) {
  const conf = path.join(CORPUS, 'keepalived', name);
  const code = captured.get(name)!;
  const out = readFileSync(path.join(CAPTURED, `${name}.out`), 'utf8').replaceAll('@CORPUS@', path.join(CORPUS, 'keepalived'));
  const argv = ['keepalived', '-t', '-f', conf];
  const test: ProbeRecord =
    code === 124
      ? {
          id: 'keepalived-configtest',
          kind: 'command',
          argv,
          status: 'timeout',
          exitCode: null,
          stdout: '',
          stderr: out,
          ms: 5000,
          reason: 'keepalived did not finish within 5000 ms',
        }
      : cmd('keepalived-configtest', argv, '', code, out);
  return makeSnapshot(
    [file(`kconf:${conf}`, conf, readFileSync(conf, 'utf8')), test, cmd('hostname', ['hostname'], 'vm\n')],
    { hostname: 'vm' },
    { config: conf },
  );
}

describe('corpus: keepalived configs', () => {
  it('has every config, and the captured keepalived -t agrees with VERDICTS.tsv', () => {
    const files = readdirSync(path.join(CORPUS, 'keepalived')).filter((f) => !f.endsWith('.tsv'));
    expect(files.length).toBe(79);
    expect(verdicts.map((v) => v.name).sort()).toEqual(files.sort());
    expect(verdicts.map((v) => [v.name, captured.get(v.name)])).toEqual(verdicts.map((v) => [v.name, v.code]));
  });

  const seriousOf = (report: Report) => report.findings.filter((f) => f.severity === 'error' || f.severity === 'critical');
  /** keepalived -t's own errors about the config (graded config errors, evidence from the configtest) */
  const keepalivedSays = (report: Report) =>
    seriousOf(report).filter((f) => f.code === 'keepalived-config-invalid' && f.evidence[0]?.probe === 'keepalived-configtest');
  const ofClass = (cls: string) => verdicts.filter((v) => v.cls === cls);

  it('holds configs of every class the cases below take', () => {
    expect(Object.fromEntries(['pass', 'fail-environment-only', 'fail-security', 'timeout'].map((c) => [c, ofClass(c).length > 0]))).toEqual({
      pass: true,
      'fail-environment-only': true,
      'fail-security': true,
      timeout: true,
    });
  });

  it.each(verdicts)('$name ($cls): a verdict, no crash, no check in error', (v) => {
    const t0 = performance.now();
    const report = analyse(configSnapshot(v.name), { source: 'corpus' });
    // a verdict within 10 s (a hang guard, not a speed target: the bench measures speed)
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(report.checks.filter((c) => c.status === 'error')).toEqual([]);
  });

  it.each(ofClass('pass'))('$name: keepalived accepts it, so no error or critical finding', (v) => {
    const report = analyse(configSnapshot(v.name), { source: 'corpus' });
    expect(seriousOf(report).map((f) => `${f.code}: ${f.title}`)).toEqual([]);
  });

  it.each(ofClass('fail-environment-only'))(
    '$name: every keepalived -t message is about the host that ran it, graded environment, never a config error',
    (v) => {
      const report = analyse(configSnapshot(v.name), { source: 'corpus' });
      expect(keepalivedSays(report).map((f) => f.title)).toEqual([]);
      expect(report.findings.some((f) => f.code === 'keepalived-config-invalid' && f.title.startsWith('on this host'))).toBe(true);
    },
  );

  it.each(ofClass('fail-security'))('$name: the security refusal is one config error from keepalived -t', (v) => {
    expect(keepalivedSays(analyse(configSnapshot(v.name), { source: 'corpus' }))).toHaveLength(1);
  });

  it.each(ofClass('timeout'))('$name: keepalived -t timed out, so the config check is skipped, not judged', (v) => {
    const report = analyse(configSnapshot(v.name), { source: 'corpus' });
    expect(report.checks.find((c) => c.id === 'keepalived-config')?.status).toBe('skip');
  });

  it('grades every captured message, and the unknown ones (errors) are real configuration problems', () => {
    const grades = { info: 0, warning: 0, environment: 0, error: 0 };
    for (const v of verdicts) {
      for (const m of gradeConfigtest(readFileSync(path.join(CAPTURED, `${v.name}.out`), 'utf8'))) grades[m.grade]++;
    }
    // every grade occurs in the corpus; environment messages are the most common after errors
    expect(Object.entries(grades).filter(([, n]) => n === 0)).toEqual([]);
    expect(grades.environment).toBeGreaterThan(grades.warning);
  });
});

describe('corpus: iptables dumps', () => {
  const dir = path.join(CORPUS, 'iptables');
  const files = readdirSync(dir).filter((f) => !f.endsWith('.tsv'));
  it('has the 16 dumps', () => expect(files.length).toBe(16));
  it.each(files)('%s: every table and every rule line accounted for', (f) => {
    const text = readFileSync(path.join(dir, f), 'utf8');
    const dump = parseIptablesSave(text);
    const lines = text.split('\n');
    const tables = new Set(lines.filter((l) => /^\s*\*\w+/.test(l)).map((l) => l.trim().slice(1).trim()));
    expect(Object.keys(dump.tables).sort()).toEqual([...tables].sort());
    const ruleLines = lines.filter((l) => /^\s*(\[\d+:\d+\]\s*)?-[AI]\s/.test(l)).length;
    const rules = Object.values(dump.tables).reduce((n, t) => n + Object.values(t.chains).reduce((m, c) => m + c.rules.length, 0), 0);
    // a rule line is parsed or reported as a problem, never lost
    expect(rules + dump.problems.length).toBe(ruleLines);
    expect(rules).toBeGreaterThan(0);
  });
});

describe('corpus: keepalived logs and conntrack', () => {
  const dir = path.join(CORPUS, 'logs');
  const files = readdirSync(dir).filter((f) => !f.endsWith('.tsv'));
  it('has the 14 logs', () => expect(files.length).toBe(14));
  it.each(files)('%s: every "Entering X STATE" line is a state event', (f) => {
    const text = readFileSync(path.join(dir, f), 'utf8');
    const events = parseVrrpLog(text);
    const entering = text.split('\n').flatMap((l, i) => (/Entering (MASTER|BACKUP|FAULT) STATE/.test(l) ? [i + 1] : []));
    const stateLines = new Set(events.filter((e) => e.kind === 'state').map((e) => e.line));
    expect(entering.filter((n) => !stateLines.has(n))).toEqual([]);
    expect(events.length).toBeLessThanOrEqual(text.split('\n').length);
  });
  it('the conntrack excerpt: its 3 entries', () => {
    const cdir = path.join(CORPUS, 'conntrack');
    const files = readdirSync(cdir).filter((x) => !x.endsWith('.tsv'));
    const counts = files.map((f) => {
      const text = readFileSync(path.join(cdir, f), 'utf8');
      return { f, parsed: parseConntrack(text).length, lines: text.split('\n').filter((l) => l.trim()).length };
    });
    expect(counts.map((c) => c.parsed)).toEqual(counts.map((c) => c.lines));
    expect(counts.reduce((n, c) => n + c.parsed, 0)).toBe(3);
  });
});
