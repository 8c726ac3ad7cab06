// Lab proof of the VRRP wire view and timeline: real keepalived pair in network namespaces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDR, createLab, requireRoot, type Lab } from './harness.js';
import type { Report } from '../../src/types.js';

requireRoot();

const codes = (json: unknown) => ((json as Report).findings ?? []).map((f) => f.code);
const findingsOf = (json: unknown, code: string) => ((json as Report).findings ?? []).filter((f) => f.code === code);

describe("VRRP dropped in the backup's INPUT", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab();
    await lab.scenario('vrrp-dropped-on-backup');
  });
  afterAll(() => lab?.destroy());

  it('the backup reports vrrp-input-blocked naming the rule, and vrrp-split-brain with wire proof', async () => {
    const r = await lab.doctor('gw2', ['check', '--json', '--wire']);
    expect(r.json, r.stderr).toBeDefined();
    const blocked = findingsOf(r.json, 'vrrp-input-blocked');
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked.flatMap((f) => f.evidence.map((e) => e.excerpt)).join('\n')).toContain('-A INPUT -p vrrp -j DROP');
    const split = findingsOf(r.json, 'vrrp-split-brain');
    expect(split.length).toBeGreaterThan(0);
    // the wire saw the master's adverts that netfilter then dropped
    expect(split[0]!.evidence.map((e) => e.excerpt).join('\n')).toContain(`${ADDR.gw1.lan}`);
    expect(JSON.stringify(r.json)).not.toMatch(/auth "(?!\*\*\*)/);
  });
});

describe('master stopped', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab();
    await lab.scenario('stop-master');
  });
  afterAll(() => lab?.destroy());

  it("the backup's timeline shows BACKUP -> MASTER caused by the master's priority 0", async () => {
    // text output: src/cli.ts's root program also defines --json/--from/--config, so `timeline --json` does not reach timelineCommand yet
    const text = await lab.doctor('gw2', ['timeline']);
    expect(text.exitCode, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    const at = lines.findIndex((l) => / BACKUP -> MASTER$/.test(l));
    expect(at, text.stdout).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 4).join('\n')).toMatch(/because: the master sent priority 0/);
  });
});

describe('a third node with the same VRID and another VIP', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab();
    await lab.scenario('third-node-same-vrid');
  });
  afterAll(() => lab?.destroy());

  it('is reported as a VRID collision', async () => {
    const r = await lab.doctor('gw1', ['check', '--json', '--wire']);
    expect(codes(r.json), r.stderr).toContain('vrid-collision');
    const f = findingsOf(r.json, 'vrid-collision');
    expect(f.map((x) => `${x.title}\n${x.evidence.map((e) => e.excerpt).join('\n')}`).join('\n')).toContain(ADDR.gw3Vip);
  });
});
