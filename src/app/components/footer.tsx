// The keys of the current screen, always on the last line.
import React from 'react';
import { Box } from 'ink';
import { ToneText } from './theme.js';

export type KeyHint = [key: string, what: string];

export const GLOBAL_KEYS: KeyHint[] = [
  ['?', 'help'],
  ['h', 'home'],
  ['q', 'quit'],
];

export function Footer({ keys, typing = false }: { keys: KeyHint[]; typing?: boolean }) {
  const all = typing ? [...keys, ['Ctrl+C', 'quit'] as KeyHint] : [...keys, ...GLOBAL_KEYS];
  return (
    <Box>
      <ToneText tone="muted">{all.map(([k, w]) => `${k} ${w}`).join(' · ')}</ToneText>
    </Box>
  );
}
