// A vertical list: arrows or j/k move, Enter selects. Only the focused, enabled menu hears keys.
import React, { useRef, useState } from 'react';
import { Box } from 'ink';
import { useKeys } from './keys.js';
import { ToneText, type Tone } from './theme.js';

export interface MenuItem {
  id: string;
  label: string;
  hint?: string;
  tone?: Tone;
  /** a heading row: shown, never focused */
  heading?: boolean;
}

export interface MenuProps {
  items: MenuItem[];
  isFocused?: boolean;
  isDisabled?: boolean;
  initialId?: string;
  /** rows available; the list scrolls to keep the cursor visible */
  height?: number;
  onSelect(item: MenuItem): void;
  onHighlight?(item: MenuItem): void;
}

export function Menu({ items, isFocused = true, isDisabled = false, initialId, height, onSelect, onHighlight }: MenuProps) {
  const selectable = items.map((it, i) => (it.heading ? -1 : i)).filter((i) => i >= 0);
  const start = Math.max(
    0,
    items.findIndex((it) => it.id === initialId && !it.heading),
  );
  const [cursor, setCursorState] = useState(initialId !== undefined && items[start]?.id === initialId ? start : (selectable[0] ?? 0));
  // keys can arrive faster than frames: move from where the last key left the cursor
  const at = useRef(cursor);
  const setCursor = (i: number) => {
    at.current = i;
    setCursorState(i);
  };

  const move = (delta: number) => {
    const pos = selectable.indexOf(at.current);
    const next = selectable[Math.min(selectable.length - 1, Math.max(0, pos + delta))];
    if (next !== undefined && next !== at.current) {
      setCursor(next);
      onHighlight?.(items[next]!);
    }
  };

  useKeys(
    (input, key) => {
      if (key.upArrow || input === 'k') move(-1);
      else if (key.downArrow || input === 'j') move(1);
      else if (key.pageUp) move(-(height ?? 10));
      else if (key.pageDown) move(height ?? 10);
      else if (key.return) {
        const item = items[at.current];
        if (item && !item.heading) onSelect(item);
      }
    },
    { isActive: isFocused && !isDisabled },
  );

  const rows = height ?? items.length;
  const top = Math.min(Math.max(0, cursor - rows + 1), Math.max(0, items.length - rows), Math.max(0, cursor - Math.floor(rows / 2)));
  const first = Math.max(0, Math.min(top, cursor));
  const visible = items.slice(first, first + rows);
  return (
    <Box flexDirection="column">
      {visible.map((it, k) => {
        const i = first + k;
        if (it.heading) {
          return (
            <ToneText key={it.id} tone={it.tone ?? 'plain'} bold>
              {it.label}
            </ToneText>
          );
        }
        const on = i === cursor && !isDisabled;
        return (
          <Box key={it.id}>
            <Box flexShrink={0}>
              <ToneText tone={on ? 'accent' : 'plain'} bold={on}>
                {on ? '› ' : '  '}
              </ToneText>
              <ToneText tone={it.tone ?? 'plain'} bold={on} inverse={on && isFocused}>
                {it.label}
              </ToneText>
            </Box>
            {it.hint ? <ToneText tone="muted">{`  ${it.hint}`}</ToneText> : null}
          </Box>
        );
      })}
    </Box>
  );
}
