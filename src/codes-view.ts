// `hagw-doctor codes`, `hagw-doctor explain CODE` and docs/codes.md, all from the one registry
// (src/codes.ts) and the checks that declare each code (checks/index.ts).
import { ALL_CODES, codeInfo, isFindingCode, type FindingCode } from './codes.js';
import type { Check } from './check.js';

export interface CodeEntry {
  code: FindingCode;
  severity: string;
  meaning: string;
  detection: string;
  fix: string;
  /** ids of the checks that can report it in this build */
  checks: string[];
}

export function codeEntries(checks: readonly Check[]): CodeEntry[] {
  return ALL_CODES.map((code) => ({ code, ...codeInfo(code), checks: checks.filter((c) => c.codes.includes(code)).map((c) => c.id) }));
}

/** One line per code: "critical  ip-forward-off  net.ipv4.ip_forward is 0 on ..." wrapped at `width`. */
export function renderCodesText(entries: readonly CodeEntry[], width = 100): string {
  const w = Math.max(...entries.map((e) => e.code.length));
  const out: string[] = [];
  for (const e of entries) {
    const head = `${e.severity.padEnd(8)}  ${e.code.padEnd(w)}  `;
    out.push(...wrap(e.meaning, Math.max(30, width - head.length)).map((l, i) => (i === 0 ? head : ' '.repeat(head.length)) + l));
  }
  out.push('', `${entries.length} codes. \`hagw-doctor explain CODE\` says how each is detected and fixed.`);
  return out.join('\n') + '\n';
}

export function renderExplain(e: CodeEntry, width = 100): string {
  const w = Math.min(Math.max(width, 40), 100);
  const para = (label: string, text: string) => [`${label}:`, ...wrap(text, w - 2).map((l) => `  ${l}`)];
  return (
    [
      `${e.code} (${e.severity})`,
      '',
      ...para('What it means', e.meaning),
      '',
      ...para('How it is detected', e.detection),
      '',
      ...para('The fix', e.fix),
      '',
      ...para('Checked by', e.checks.length ? e.checks.join(', ') : 'no check of this build reports it yet'),
    ].join('\n') + '\n'
  );
}

/** docs/codes.md: generated (npm run docs:codes); a unit test fails when it drifts. */
export function renderCodesMarkdown(entries: readonly CodeEntry[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const out = [
    '# Finding codes',
    '',
    '<!-- generated from src/codes.ts by `npm run docs:codes`; do not edit by hand (test/unit/codes-doc.test.ts fails on drift) -->',
    '',
    `Every code the doctor can report (${entries.length}), with its default severity. A code never`,
    'changes meaning; new codes are additions. On a host, `hagw-doctor codes` lists them and',
    '`hagw-doctor explain CODE` prints one entry.',
    '',
    '| code | severity | meaning |',
    '|---|---|---|',
    ...entries.map((e) => `| [\`${e.code}\`](#${e.code}) | ${e.severity} | ${cell(e.meaning)} |`),
    '',
  ];
  for (const e of entries) {
    out.push(
      `## ${e.code}`,
      '',
      `Severity: **${e.severity}**. ${e.meaning}.`,
      '',
      `**How it is detected:** ${e.detection}.`,
      '',
      `**The fix:** ${e.fix}.`,
      '',
      `**Checked by:** ${e.checks.length ? e.checks.map((c) => `\`${c}\``).join(', ') : 'no check of this build reports it yet'}.`,
      '',
    );
  }
  return out.join('\n');
}

export function lookupCode(code: string): FindingCode | undefined {
  return isFindingCode(code) ? code : undefined;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
