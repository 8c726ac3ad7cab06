// Long content in a fixed height: arrows or j/k scroll a line, PgUp/PgDn/space a page, g/G the ends.
import React, { useContext, useMemo, useState } from 'react';
import { AppContext } from '../context.js';
import { wrapLines } from '../logic/wrap.js';
import { Box } from 'ink';
import { useKeys } from './keys.js';
import { ToneText, type Tone } from './theme.js';

export interface Line {
  text: string;
  tone?: Tone;
  bold?: boolean;
}

export interface ScrollViewProps {
  lines: Line[];
  height: number;
  isFocused?: boolean;
  isDisabled?: boolean;
}

export function ScrollView({ lines: given, height, isFocused = true, isDisabled = false }: ScrollViewProps) {
  // every line shown whole: wrapped to the terminal's width (a row is kept free for the cursor column)
  const columns = useContext(AppContext)?.columns ?? 80;
  const lines = useMemo(() => wrapLines(given, Math.max(20, columns - 1)), [given, columns]);
  const body = Math.max(1, lines.length > height ? height - 1 : height);
  const maxTop = Math.max(0, lines.length - body);
  // the content may shrink under the scroll position: the top shown is clamped, never a blank page
  const [wanted, setTop] = useState(0);
  const top = Math.min(wanted, maxTop);

  useKeys(
    (input, key) => {
      if (key.upArrow || input === 'k') setTop((t) => Math.max(0, Math.min(t, maxTop) - 1));
      else if (key.downArrow || input === 'j') setTop((t) => Math.min(maxTop, t + 1));
      else if (key.pageUp || input === 'b') setTop((t) => Math.max(0, Math.min(t, maxTop) - body));
      else if (key.pageDown || input === ' ') setTop((t) => Math.min(maxTop, t + body));
      else if (input === 'g') setTop(0);
      else if (input === 'G') setTop(maxTop);
    },
    { isActive: isFocused && !isDisabled && lines.length > body },
  );

  const shown = lines.slice(top, top + body);
  return (
    <Box flexDirection="column">
      {shown.map((l, i) => (
        <ToneText key={top + i} tone={l.tone ?? 'plain'} {...(l.bold !== undefined ? { bold: l.bold } : {})}>
          {l.text === '' ? ' ' : l.text}
        </ToneText>
      ))}
      {lines.length > body ? (
        <ToneText tone="muted">{`── lines ${top + 1}-${Math.min(lines.length, top + body)} of ${lines.length} · j/k ↑↓ scroll, space/b page ──`}</ToneText>
      ) : null}
    </Box>
  );
}
