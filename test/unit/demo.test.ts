// The demo snapshots that ship with the package (recorded by test/lab/record-demo.test.ts from real
// keepalived runs) must still show what they are named after with today's checks.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { analyse } from '../../src/pipeline.js';
import { parseSnapshot } from '../../src/snapshot-file.js';

const DEMO = path.resolve(import.meta.dirname, '../../demo');
const EXPECT: Record<string, { code: string; role: string }> = {
  'ip-forward-off': { code: 'ip-forward-off', role: 'master' },
  'stale-conntrack': { code: 'vrrp-conntrack-nat', role: 'master' },
  'snat-on-backup': { code: 'snat-on-backup', role: 'backup' },
  'vrrp-blocked': { code: 'vrrp-input-blocked', role: 'master' },
  'config-error': { code: 'keepalived-config-invalid', role: 'backup' },
};

describe('shipped demo snapshots', () => {
  const files = readdirSync(DEMO).filter((f) => f.endsWith('.json'));
  it('are all known here', () => {
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(Object.keys(EXPECT).sort());
  });
  it.each(files)('%s shows its failure', (f) => {
    const name = f.replace(/\.json$/, '');
    const report = analyse(parseSnapshot(readFileSync(path.join(DEMO, f), 'utf8'), f));
    expect(report.findings.map((x) => x.code)).toContain(EXPECT[name]!.code);
    expect(report.role).toBe(EXPECT[name]!.role);
    expect(report.checks.filter((c) => c.status === 'error')).toEqual([]);
  });
});
