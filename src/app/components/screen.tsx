// A screen: its title, its body (the caller keeps it within bodyHeight) and the footer of keys.
import React from 'react';
import { Box } from 'ink';
import { ToneText } from './theme.js';
import { Footer, type KeyHint } from './footer.js';
import { useAppContext } from '../context.js';

export function Screen({ title, keys, typing = false, children }: { title: string; keys: KeyHint[]; typing?: boolean; children?: React.ReactNode }) {
  const { bodyHeight } = useAppContext();
  return (
    <Box flexDirection="column">
      <ToneText bold tone="accent">
        {title}
      </ToneText>
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {children}
      </Box>
      <Footer keys={keys} typing={typing} />
    </Box>
  );
}
