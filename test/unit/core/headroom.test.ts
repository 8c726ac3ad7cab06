import { describe, expect, it } from 'vitest';
import { kernelChecks } from '../../../checks/kernel.js';
import { runCheck } from '../../../src/check.js';
import { CheckContext } from '../../../src/context.js';
import { PROBE_CONNTRACK_COUNT, PROBE_CONNTRACK_MAX } from '../../../src/probes/ids.js';
import { file, makeSnapshot } from '../../support/snapshot.js';

const check = kernelChecks.find((c) => c.id === 'conntrack-headroom')!;
const run = (count: string, max: string) =>
  runCheck(check, new CheckContext(makeSnapshot([file(PROBE_CONNTRACK_COUNT, '/proc/sys/net/netfilter/nf_conntrack_count', count), file(PROBE_CONNTRACK_MAX, '/proc/sys/net/netfilter/nf_conntrack_max', max)])));

describe('conntrack-headroom', () => {
  it('finds a nearly full table', () => expect(run('95', '100').findings.map((f) => f.code)).toEqual(['conntrack-headroom']));
  it('is silent with headroom', () => expect(run('10', '100').findings).toEqual([]));
  it('skips without the count', () =>
    expect(runCheck(check, new CheckContext(makeSnapshot([]))).run.status).toBe('skip'));
});
