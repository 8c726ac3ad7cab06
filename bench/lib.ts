// Small timing helpers for the benchmarks (not tests: they measure, they do not assert).
import { execa } from 'execa';

export interface Timing {
  label: string;
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export async function timeCommand(label: string, argv: string[], runs = 7, env: Record<string, string> = {}): Promise<Timing> {
  const samples: number[] = [];
  // one warm-up run so page cache and module cache are the same for every contender
  await execa(argv[0]!, argv.slice(1), { reject: false, env: { LC_ALL: 'C', ...env }, timeout: 120_000 });
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await execa(argv[0]!, argv.slice(1), { reject: false, env: { LC_ALL: 'C', ...env }, timeout: 120_000 });
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { label, runs, medianMs: samples[Math.floor(samples.length / 2)]!, minMs: samples[0]!, maxMs: samples.at(-1)! };
}

export const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

export function table(rows: Array<Record<string, string>>): string {
  if (!rows.length) return '';
  const cols = Object.keys(rows[0]!);
  return [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cols.map((c) => r[c] ?? '').join(' | ')} |`)].join('\n');
}

/** The shell form of the probes a snapshot recorded: each typed one after another. */
export function shellEquivalent(probes: Record<string, { kind: string; argv?: string[]; path?: string; status: string }>): string {
  const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const lines: string[] = [];
  for (const p of Object.values(probes)) {
    if (p.status === 'skipped') continue;
    if (p.kind === 'command' && p.argv) lines.push(`${p.argv.map(q).join(' ')} >/dev/null 2>&1`);
    else if (p.kind === 'file' && p.path) lines.push(`cat ${q(p.path)} >/dev/null 2>&1`);
    else if (p.kind === 'dir' && p.path) lines.push(`ls ${q(p.path)} >/dev/null 2>&1`);
    else if (p.kind === 'stat' && p.path) lines.push(`stat ${q(p.path)} >/dev/null 2>&1`);
    else if (p.kind === 'internal') lines.push('pgrep -a keepalived >/dev/null 2>&1');
  }
  return lines.join('\n') + '\n';
}
