// One keyboard listener for the whole app, and handlers that register synchronously (layout
// effect). Ink's useInput subscribes in a passive effect, so a key typed right after a frame could
// reach the previous screen's handler, or no handler at all.
import React, { createContext, useContext, useLayoutEffect, useMemo, useRef } from 'react';
import { useInput, type Key } from 'ink';

export type KeyHandler = (input: string, key: Key) => void;

interface Entry {
  fn: KeyHandler;
  active: boolean;
}

class KeyBus {
  private readonly entries = new Set<Entry>();
  add(e: Entry): () => void {
    this.entries.add(e);
    return () => this.entries.delete(e);
  }
  dispatch(input: string, key: Key): void {
    for (const e of [...this.entries]) {
      // a handler may unmount another one (a screen change): skip the ones gone meanwhile
      if (this.entries.has(e) && e.active) e.fn(input, key);
    }
  }
}

const KeyBusContext = createContext<KeyBus | null>(null);

export function KeyBusProvider({ children }: { children: React.ReactNode }) {
  const bus = useMemo(() => new KeyBus(), []);
  useInput((input, key) => {
    for (const [i, k] of splitBurst(input, key)) bus.dispatch(i, k);
  });
  return <KeyBusContext.Provider value={bus}>{children}</KeyBusContext.Provider>;
}

/** Keys for this component while isActive (the isFocused && !isDisabled of an input). */
export function useKeys(handler: KeyHandler, opts: { isActive: boolean }): void {
  const bus = useContext(KeyBusContext);
  const entry = useRef<Entry>({ fn: handler, active: opts.isActive });
  // the latest handler and focus after every commit, before any key can arrive (layout effects run synchronously)
  useLayoutEffect(() => {
    entry.current.fn = handler;
    entry.current.active = opts.isActive;
  });
  useLayoutEffect(() => (bus ? bus.add(entry.current) : undefined), [bus]);
  // outside the app's provider (a component on its own) fall back to Ink's own listener
  useInput((input, key) => entry.current.fn(input, key), { isActive: !bus && opts.isActive });
}

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/**
 * Ink hands over everything one read() returned between escape sequences as ONE input: over a
 * laggy SSH link or a paste that is "abc\r" (text and Enter), "\x7f\x7f\x7f" (three Backspaces) or
 * "jj" (two moves). Each is split here into the keys that were typed, in order; a handler that
 * changes the screen is committed before the next key (Ink's legacy root renders synchronously and
 * handlers register in layout effects), so the rest of a burst reaches the new screen.
 */
export function splitBurst(input: string, key: Key): Array<[string, Key]> {
  // a single key, or one Ink already recognised (arrows, Esc, Enter...): as it is
  if (
    [...input].length <= 1 ||
    input.startsWith('\u001b') ||
    key.upArrow ||
    key.downArrow ||
    key.leftArrow ||
    key.rightArrow ||
    key.pageUp ||
    key.pageDown ||
    key.meta
  ) {
    return [[input, key]];
  }
  const out: Array<[string, Key]> = [];
  for (const ch of input) {
    const c = ch.codePointAt(0)!;
    if (ch === '\r' || ch === '\n') out.push(['', { ...NO_KEY, return: true }]);
    else if (ch === '\t') out.push(['', { ...NO_KEY, tab: true }]);
    else if (ch === '\u007f' || ch === '\b') out.push(['', { ...NO_KEY, backspace: true }]);
    else if (c === 0x1b) out.push(['', { ...NO_KEY, escape: true, meta: true }]);
    else if (c >= 1 && c <= 26) out.push([String.fromCharCode(c + 96), { ...NO_KEY, ctrl: true }]);
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0))
      continue; // other control characters: no key
    else out.push([ch, { ...NO_KEY, shift: ch !== ch.toLowerCase() }]);
  }
  return out;
}
