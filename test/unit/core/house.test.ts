// The house rules of checks/ (docs/ARCHITECTURE.md, "Adding a check"): checks read the snapshot
// through pure modules only, name probes by symbol, and checks/index.ts lists every area.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../../checks/index.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const checkFiles = readdirSync(path.join(ROOT, 'checks')).filter((f) => f.endsWith('.ts'));
const source = (f: string) => readFileSync(path.join(ROOT, 'checks', f), 'utf8');
const imports = (text: string) => [...text.matchAll(/^import [^;]*? from '([^']+)';/gms)].map((m) => m[1]!);

// the probe modules that collect (I/O) and the change engine; src/probes/ids.ts is the registry, pure.
const IO_MODULE = /^\.\.\/src\/(probes\/(?!ids\.js$)|change\/)/;

describe('checks/', () => {
  it.each(checkFiles)('%s imports no module that does I/O (probes, change engine)', (f) => {
    expect(imports(source(f)).filter((m) => IO_MODULE.test(m))).toEqual([]);
  });

  it.each(checkFiles)('%s names probes by symbol, not by a loose string', (f) => {
    const loose = source(f)
      .split('\n')
      .filter(
        (l) =>
          /ctx\.(probe|output|require|answer)\(\s*['`]/.test(l) ||
          /\bprobe: ['`](file|dir|stat|sysctl|kconf|kconf-dir|script|pidfile|which|ethtool-k):/.test(l),
      );
    expect(loose).toEqual([]);
  });

  it('checks/index.ts imports every area file that exports checks', () => {
    const index = source('index.ts');
    const areas = checkFiles.filter((f) => f !== 'index.ts' && /^export const \w+: (readonly )?Check\[\]/m.test(source(f)));
    for (const f of areas) expect(index, f).toContain(`from './${f.replace(/\.ts$/, '.js')}'`);
  });

  it('every check is listed once', () => {
    const ids = CHECKS.map((c) => c.id);
    expect(ids.length).toBe(new Set(ids).size);
  });
});
