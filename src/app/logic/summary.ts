// The summary's headline, as the text report writes it. Pure.

/** "ERROR: 1 error, 1 info": the worst severity it counts, never "CRITICAL: 0 critical, 1 error". */
export function summaryHead(s: { status: string; critical: number; error: number; warning: number; info: number }): string {
  const worst = s.critical ? 'critical' : s.error ? 'error' : s.warning ? 'warning' : s.status;
  const found = (
    [
      ['critical', s.critical],
      ['error', s.error],
      ['warning', s.warning],
      ['info', s.info],
    ] as const
  )
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return `${worst.toUpperCase()}: ${found.join(', ') || 'no findings'}`;
}
