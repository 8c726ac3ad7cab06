import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile, mkdir, chmod, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runProbe } from '../../../src/probes/run.js';
import { collectRecords } from '../../../src/probes/collect.js';
import type { FileStat, ProbeProvider } from '../../../src/types.js';
import { recordId } from '../../../src/probes/ids.js';

describe('runProbe', () => {
  it('records stdout, stderr and exit status of a real command', async () => {
    const r = await runProbe({ id: recordId('x'), kind: 'command', argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }, true);
    expect(r).toMatchObject({ status: 'ok', exitCode: 3, stdout: 'out\n', stderr: 'err\n', argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    expect(r.ms).toBeGreaterThanOrEqual(0);
  });

  it('runs commands in the C locale', async () => {
    const r = await runProbe({ id: recordId('x'), kind: 'command', argv: ['sh', '-c', 'echo $LC_ALL'] }, true);
    expect(r.stdout.trim()).toBe('C');
  });

  it('says a binary is missing instead of throwing', async () => {
    const r = await runProbe({ id: recordId('x'), kind: 'command', argv: ['no-such-binary-hagw'] }, true);
    expect(r.status).toBe('missing');
    expect(r.reason).toContain('not installed');
  });

  it('stops a hung command at its timeout', async () => {
    const r = await runProbe({ id: recordId('x'), kind: 'command', argv: ['sleep', '30'], timeoutMs: 200 }, true);
    expect(r.status).toBe('timeout');
    expect(r.ms).toBeLessThan(5000);
  });

  it('skips a root-only probe when not root, with the reason', async () => {
    const r = await runProbe({ id: recordId('x'), kind: 'command', argv: ['true'], needsRoot: true }, false);
    expect(r).toMatchObject({ status: 'skipped', reason: 'needs root' });
  });

  it('reads files, their tail, directories and stats', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hagw-probe-'));
    try {
      const f = path.join(dir, 'log');
      await writeFile(f, Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n') + '\n');
      const whole = await runProbe({ id: recordId('f'), kind: 'file', path: f }, true);
      expect(whole.stdout.split('\n')).toHaveLength(1001);
      const tail = await runProbe({ id: recordId('t'), kind: 'file', path: f, tail: true, maxBytes: 100 }, true);
      expect(tail.truncated).toBe(true);
      expect(tail.stdout.endsWith('line 999\n')).toBe(true);
      expect(tail.stdout.startsWith('line ')).toBe(true); // the partial first line is dropped
      const gone = await runProbe({ id: recordId('g'), kind: 'file', path: path.join(dir, 'nope') }, true);
      expect(gone.status).toBe('missing');
      await mkdir(path.join(dir, 'd'));
      await writeFile(path.join(dir, 'd', 'b.conf'), '');
      await writeFile(path.join(dir, 'd', 'a.conf'), '');
      const ls = await runProbe({ id: recordId('d'), kind: 'dir', path: path.join(dir, 'd') }, true);
      expect(JSON.parse(ls.stdout)).toEqual(['a.conf', 'b.conf']);
      await chmod(path.join(dir, 'd', 'a.conf'), 0o754);
      const st = JSON.parse((await runProbe({ id: recordId('s'), kind: 'stat', path: path.join(dir, 'd', 'a.conf') }, true)).stdout) as FileStat;
      expect(st).toMatchObject({ exists: true, isFile: true, mode: 0o754 });
      expect(st.parents[0]!.path).toBe(path.join(dir, 'd'));
      expect(st.parents.at(-1)!.path).toBe('/');
      const none = JSON.parse((await runProbe({ id: recordId('s2'), kind: 'stat', path: path.join(dir, 'zz') }, true)).stdout) as FileStat;
      expect(none.exists).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bounds an internal probe by its timeout', async () => {
    const r = await runProbe({ id: recordId('i'), kind: 'internal', run: () => new Promise(() => {}), timeoutMs: 50 }, true);
    expect(r.status).toBe('timeout');
  });
});

describe('collectRecords', () => {
  it('asks providers in rounds so a probe can depend on an earlier one', async () => {
    const provider: ProbeProvider = {
      name: 'two-step',
      probes: ({ records }) => {
        const first = records['first'];
        if (!first) return [{ id: recordId('first'), kind: 'command', argv: ['echo', 'second-arg'] }];
        return [{ id: recordId('second'), kind: 'command', argv: ['echo', first.stdout.trim()] }];
      },
    };
    const records = await collectRecords([provider], {}, true);
    expect(records['second']?.stdout).toBe('second-arg\n');
  });

  it('records a provider that throws instead of failing the collection', async () => {
    const bad: ProbeProvider = {
      name: 'bad',
      probes: () => {
        throw new Error('boom');
      },
    };
    const good: ProbeProvider = { name: 'good', probes: () => [{ id: recordId('ok'), kind: 'command', argv: ['true'] }] };
    const records = await collectRecords([bad, good], {}, true);
    expect(records['provider-error:bad']?.reason).toBe('boom');
    expect(records['ok']?.exitCode).toBe(0);
  });
});
