// Colour is the only thing NO_COLOR / --no-color turns off: bold, dim and inverse stay.
import React, { createContext, useContext } from 'react';
import { Text } from 'ink';
import type { Severity } from '../../types.js';
import { visible } from '../../report/escape.js';

export type Tone = Severity | 'ok' | 'accent' | 'add' | 'remove' | 'muted' | 'plain';

const COLORS: Record<Tone, string | undefined> = {
  critical: 'red',
  error: 'red',
  warning: 'yellow',
  info: 'cyan',
  ok: 'green',
  accent: 'cyan',
  add: 'green',
  remove: 'red',
  muted: undefined,
  plain: undefined,
};

export const ColorContext = createContext(true);

export function useColor(): boolean {
  return useContext(ColorContext);
}

export interface ToneTextProps {
  tone?: Tone;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
  wrap?: 'wrap' | 'truncate-end';
  children?: React.ReactNode;
}

/** Text in a tone: coloured when colour is on, plain (bold for critical) when it is off. */
export function ToneText({ tone = 'plain', bold, dim, inverse, wrap, children }: ToneTextProps) {
  const color = useColor() ? COLORS[tone] : undefined;
  return (
    <Text
      {...(color ? { color } : {})}
      bold={bold ?? tone === 'critical'}
      dimColor={dim ?? tone === 'muted'}
      inverse={inverse ?? false}
      wrap={wrap ?? 'truncate-end'}
    >
      {safeChildren(children)}
    </Text>
  );
}

/** Host text never drives the terminal: every string shown through ToneText has its control
 *  characters made visible (ESC as \x1b). */
function safeChildren(children: React.ReactNode): React.ReactNode {
  if (typeof children === 'string') return visible(children);
  if (Array.isArray(children)) return children.map((c) => (typeof c === 'string' ? visible(c) : c));
  return children;
}

export const SEVERITY_LABEL: Record<Severity, string> = { critical: 'CRITICAL', error: 'ERROR', warning: 'WARNING', info: 'INFO' };
