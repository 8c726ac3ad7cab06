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
  useInput((input, key) => bus.dispatch(input, key));
  return <KeyBusContext.Provider value={bus}>{children}</KeyBusContext.Provider>;
}

/** Keys for this component while isActive (the isFocused && !isDisabled of an input). */
export function useKeys(handler: KeyHandler, opts: { isActive: boolean }): void {
  const bus = useContext(KeyBusContext);
  const entry = useRef<Entry>({ fn: handler, active: opts.isActive });
  entry.current.fn = handler;
  entry.current.active = opts.isActive;
  useLayoutEffect(() => (bus ? bus.add(entry.current) : undefined), [bus]);
  // outside the app's provider (a component on its own) fall back to Ink's own listener
  useInput((input, key) => entry.current.fn(input, key), { isActive: !bus && opts.isActive });
}
