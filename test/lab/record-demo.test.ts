// Records the demo snapshots from real keepalived runs in the lab, and proves each one shows the
// failure it is named after. `npm run demo:refresh` (HAGW_RECORD_DEMO=1) copies them into demo/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createLab, requireRoot, REPO_ROOT, type Lab, type ScenarioName } from './harness.js';
import type { Report } from '../../src/types.js';

type Node = 'gw1' | 'gw2';
interface Demo {
  name: string;
  scenario: ScenarioName;
  node: Node;
  expect: string[];
}

// each demo: a lab pair broken one way, recorded on the node where the doctor must see it
const DEMOS: Demo[] = [
  { name: 'ip-forward-off', scenario: 'ip-forward-off', node: 'gw1', expect: ['ip-forward-off'] },
  { name: 'stale-conntrack', scenario: 'snat-catches-vrrp-mended', node: 'gw1', expect: ['vrrp-conntrack-nat'] },
  { name: 'snat-on-backup', scenario: 'snat-on-backup', node: 'gw2', expect: ['snat-on-backup'] },
  { name: 'vrrp-blocked', scenario: 'vrrp-dropped-on-backup', node: 'gw2', expect: ['vrrp-input-blocked'] },
  { name: 'config-error', scenario: 'vrid-out-of-range', node: 'gw2', expect: ['keepalived-config-invalid'] },
];

const record = process.env.HAGW_RECORD_DEMO === '1';

describe.each(DEMOS)('demo $name', (demo) => {
  let lab: Lab;
  beforeAll(async () => {
    requireRoot();
    lab = await createLab();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it(`is recorded from the lab and shows ${demo.expect.join(', ')}`, async () => {
    await lab.scenario(demo.scenario, demo.node);
    const out = path.join(lab.runDir, `${demo.name}.json`);
    const snap = await lab.doctor(demo.node, ['snapshot', '-o', out]);
    expect(snap.exitCode, snap.stderr).toBe(0);
    const check = await lab.doctor(demo.node, ['check', '--json', '--from', out]);
    const codes = ((check.json as Report).findings ?? []).map((f) => f.code);
    for (const code of demo.expect) expect(codes, `${demo.name}: ${codes.join(', ')}`).toContain(code);
    expect(JSON.parse(await readFile(out, 'utf8')).schema).toBe('hagw-doctor.snapshot/v1');
    if (record) {
      await mkdir(path.join(REPO_ROOT, 'demo'), { recursive: true });
      await copyFile(out, path.join(REPO_ROOT, 'demo', `${demo.name}.json`));
    }
  });
});
