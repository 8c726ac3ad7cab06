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
import type { ProbeRecord } from '../../src/types.js';
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
    for (const v of verdicts) expect([v.name, captured.get(v.name)]).toEqual([v.name, v.code]);
  });

  for (const v of verdicts) {
    it(`${v.name} (${v.cls}): a verdict, no crash, and no error where keepalived accepts it`, () => {
      const t0 = performance.now();
      const report = analyse(configSnapshot(v.name), { source: 'corpus' });
      const ms = performance.now() - t0;
      // a verdict within 10 s (a hang guard, not a speed target: the bench measures speed)
      expect(ms).toBeLessThan(10_000);
      expect(report.checks.filter((c) => c.status === 'error')).toEqual([]);
      const configErrors = report.findings.filter((f) => f.code === 'keepalived-config-invalid' && (f.severity === 'error' || f.severity === 'critical'));
      const keepalivedSays = configErrors.filter((f) => f.evidence[0]?.probe === 'keepalived-configtest');
      if (v.cls === 'pass') {
        expect(report.findings.filter((f) => f.severity === 'error' || f.severity === 'critical').map((f) => `${f.code}: ${f.title}`)).toEqual([]);
      }
      if (v.cls === 'fail-environment-only') {
        // every message is about the host that ran it: graded environment, never a config error
        expect(keepalivedSays.map((f) => f.title)).toEqual([]);
        expect(report.findings.some((f) => f.code === 'keepalived-config-invalid' && f.title.startsWith('on this host'))).toBe(true);
      }
      if (v.cls === 'fail-security') expect(keepalivedSays.length).toBe(1);
      if (v.cls === 'timeout') expect(report.checks.find((c) => c.id === 'keepalived-config')?.status).toBe('skip');
    });
  }

  it('grades every captured message, and the unknown ones (errors) are real configuration problems', () => {
    const grades = { info: 0, warning: 0, environment: 0, error: 0 };
    for (const v of verdicts) {
      for (const m of gradeConfigtest(readFileSync(path.join(CAPTURED, `${v.name}.out`), 'utf8'))) grades[m.grade]++;
    }
    // every grade occurs in the corpus; environment messages are the most common after errors
    for (const g of Object.values(grades)) expect(g).toBeGreaterThan(0);
    expect(grades.environment).toBeGreaterThan(grades.warning);
  });
});

describe('corpus: iptables dumps', () => {
  const dir = path.join(CORPUS, 'iptables');
  const files = readdirSync(dir).filter((f) => !f.endsWith('.tsv'));
  it('has the 16 dumps', () => expect(files.length).toBe(16));
  for (const f of files) {
    it(`${f}: every table and every rule line accounted for`, () => {
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
  }
});

describe('corpus: keepalived logs and conntrack', () => {
  const dir = path.join(CORPUS, 'logs');
  const files = readdirSync(dir).filter((f) => !f.endsWith('.tsv'));
  it('has the 14 logs', () => expect(files.length).toBe(14));
  for (const f of files) {
    it(`${f}: every "Entering X STATE" line is a state event`, () => {
      const text = readFileSync(path.join(dir, f), 'utf8');
      const events = parseVrrpLog(text);
      const entering = text.split('\n').flatMap((l, i) => (/Entering (MASTER|BACKUP|FAULT) STATE/.test(l) ? [i + 1] : []));
      const stateLines = new Set(events.filter((e) => e.kind === 'state').map((e) => e.line));
      expect(entering.filter((n) => !stateLines.has(n))).toEqual([]);
      expect(events.length).toBeLessThanOrEqual(text.split('\n').length);
    });
  }
  it('the conntrack excerpt: its 3 entries', () => {
    const cdir = path.join(CORPUS, 'conntrack');
    for (const f of readdirSync(cdir).filter((x) => !x.endsWith('.tsv'))) {
      const text = readFileSync(path.join(cdir, f), 'utf8');
      expect(parseConntrack(text).length).toBe(text.split('\n').filter((l) => l.trim()).length);
    }
  });
});
