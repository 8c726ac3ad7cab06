// One finished check: ✓ pass, ✗/! fail (by its worst finding), - skipped, ✗ the check itself failed.
import React from 'react';
import { Box } from 'ink';
import { ToneText, type Tone } from './theme.js';
import { failMark } from '../logic/findings.js';
import type { CheckRow } from '../session.js';

export function rowTone(row: CheckRow): Tone {
  if (row.status === 'pass') return 'ok';
  if (row.status === 'error') return 'error';
  if (row.status === 'skip') return 'muted';
  return row.findings.some((f) => f.severity === 'critical' || f.severity === 'error') ? 'error' : 'warning';
}

export function rowMark(row: CheckRow): string {
  if (row.status === 'pass') return '✓';
  if (row.status === 'fail') return failMark(row.findings);
  if (row.status === 'error') return '✗';
  return '-';
}

export function CheckRowLine({ row }: { row: CheckRow }) {
  const note =
    row.status === 'error'
      ? `  check failed: ${row.reason ?? 'unknown error'}`
      : row.status === 'skip'
        ? `  skipped: ${row.reason ?? ''}`
        : row.status === 'fail'
          ? `  ${row.findings.map((f) => f.code).join(', ')}`
          : '';
  return (
    <Box>
      <ToneText tone={rowTone(row)}>{`${rowMark(row)} `}</ToneText>
      <ToneText>{row.title}</ToneText>
      <ToneText tone={row.status === 'error' ? 'error' : 'muted'}>{note}</ToneText>
    </Box>
  );
}
