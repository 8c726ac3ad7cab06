import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unifiedDiff } from '../../../src/change/diff.js';
import { shellJoin, shellQuote } from '../../../src/change/quote.js';

/** Applies a unified diff produced by unifiedDiff to its "before" text. */
function applyPatch(before: string, diff: string): string {
  const src = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let pos = 0;
  const lines = diff.replace(/\n$/, '').split('\n').slice(2);
  for (const l of lines) {
    const h = /^@@ -(\d+),(\d+) \+\d+,\d+ @@$/.exec(l);
    if (h) {
      const start = Number(h[2]) === 0 ? Number(h[1]) : Number(h[1]) - 1;
      while (pos < start) out.push(src[pos++]!);
      continue;
    }
    if (l.startsWith('\\')) continue;
    if (l[0] === ' ') {
      expect(src[pos]).toBe(l.slice(1));
      out.push(src[pos++]!);
    } else if (l[0] === '-') {
      expect(src[pos]).toBe(l.slice(1));
      pos++;
    } else if (l[0] === '+') out.push(l.slice(1));
  }
  while (pos < src.length) out.push(src[pos++]!);
  return out.length ? out.join('\n') + '\n' : '';
}

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', { fromLabel: 'a', toLabel: 'b' })).toBe('');
  });

  it('matches GNU diff -u on a sysctl drop-in edit', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hdchg-diff-'));
    try {
      const before =
        '# header\nnet.ipv4.ip_forward = 0\nnet.ipv4.conf.all.rp_filter = 2\nvm.swappiness = 10\nkernel.panic = 5\nfs.file-max = 100000\nx = 1\ny = 2\nz = 3\n';
      const after =
        '# header\nnet.ipv4.ip_forward = 1\nnet.ipv4.conf.all.rp_filter = 2\nvm.swappiness = 10\nkernel.panic = 5\nfs.file-max = 100000\nx = 1\ny = 2\nz = 3\nnew = 4\n';
      await writeFile(path.join(dir, 'a'), before);
      await writeFile(path.join(dir, 'b'), after);
      const gnu = await execa('diff', ['-u', 'a', 'b'], { cwd: dir, reject: false });
      const ours = unifiedDiff(before, after, { fromLabel: 'a', toLabel: 'b' });
      const body = (s: string) =>
        s
          .split('\n')
          .filter((l) => !l.startsWith('---') && !l.startsWith('+++'))
          .join('\n')
          .trim();
      expect(body(ours)).toBe(body(gnu.stdout));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shows a new file against /dev/null', () => {
    expect(unifiedDiff('', 'one\ntwo\n', { fromLabel: '/dev/null', toLabel: 'b/etc/x' })).toBe('--- /dev/null\n+++ b/etc/x\n@@ -0,0 +1,2 @@\n+one\n+two\n');
  });

  it('a patch built from the diff turns before into after (property)', () => {
    const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd', '', 'x y'), { maxLength: 25 }).map((ls) => (ls.length ? ls.join('\n') + '\n' : ''));
    fc.assert(
      fc.property(text, text, (before, after) => {
        const d = unifiedDiff(before, after, { fromLabel: 'a', toLabel: 'b', context: 2 });
        expect(d === '' ? before : applyPatch(before, d)).toBe(after);
      }),
      { numRuns: 300 },
    );
  });
});

describe('shellQuote (display only)', () => {
  it('leaves plain words alone and quotes the rest', () => {
    expect(shellJoin(['iptables', '-t', 'raw', '-A', 'PREROUTING', '-p', 'vrrp', '-j', 'CT', '--notrack'])).toBe(
      'iptables -t raw -A PREROUTING -p vrrp -j CT --notrack',
    );
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
  });

  it('a real shell reads the quoted line back as the same argv (property)', async () => {
    const samples = fc.sample(fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 12 }), { minLength: 1, maxLength: 5 }), 40);
    for (const argv of samples) {
      const r = await execa('sh', ['-c', `for a in ${shellJoin(argv)}; do printf '%s\\0' "$a"; done`]);
      expect(r.stdout.split('\0').slice(0, -1)).toEqual(argv);
    }
  });
});
