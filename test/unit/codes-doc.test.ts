// docs/codes.md is generated from the registry: this fails when someone changes a code, its text or
// the checks that report it without running `npm run docs:codes`.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CHECKS } from '../../checks/index.js';
import { ALL_CODES, codeInfo } from '../../src/codes.js';
import { codeEntries, renderCodesMarkdown, renderExplain } from '../../src/codes-view.js';

const root = path.resolve(__dirname, '..', '..');

describe('the code registry and docs/codes.md', () => {
  it('docs/codes.md is what `npm run docs:codes` writes (run it after changing src/codes.ts)', () => {
    const onDisk = readFileSync(path.join(root, 'docs', 'codes.md'), 'utf8');
    expect(onDisk).toBe(renderCodesMarkdown(codeEntries(CHECKS)));
  });

  it.each(ALL_CODES)('%s has a meaning, a detection and a fix text', (code) => {
    const i = codeInfo(code);
    expect(i.meaning.length).toBeGreaterThan(10);
    expect(i.detection.length).toBeGreaterThan(10);
    expect(i.fix.length).toBeGreaterThan(10);
  });

  it('every code a check declares is in the registry, and explain names the check', () => {
    const declared = CHECKS.flatMap((c) => c.codes);
    expect(declared.length).toBeGreaterThan(30);
    expect(declared.filter((code) => !(ALL_CODES as readonly string[]).includes(code))).toEqual([]);
    const e = codeEntries(CHECKS).find((x) => x.code === 'ip-forward-off')!;
    const text = renderExplain(e);
    expect(text).toContain('How it is detected');
    expect(text).toContain('ip-forward');
    expect(text.split('\n').every((l) => l.length <= 100)).toBe(true);
  });

  it('docs/report.md points at docs/codes.md instead of listing codes', () => {
    const report = readFileSync(path.join(root, 'docs', 'report.md'), 'utf8');
    expect(report).toContain('codes.md');
  });
});
