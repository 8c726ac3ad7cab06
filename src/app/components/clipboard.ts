// The copy key: the exact command on the operator's clipboard through the terminal (OSC 52), so it
// works over SSH without X forwarding. Terminals that do not allow it ignore the sequence; tmux
// needs it wrapped (and `set -g set-clipboard on`). Nothing is copied unless the operator asks.
import { useState } from 'react';
import { useKeys } from './keys.js';

const MAX_COPY = 64 * 1024;

export function osc52(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const seq = `\u001b]52;c;${Buffer.from(text.slice(0, MAX_COPY), 'utf8').toString('base64')}\u0007`;
  // inside tmux: a DCS passthrough, its ESCs doubled
  // eslint-disable-next-line no-control-regex -- ESC is what tmux needs doubled
  return env.TMUX ? `\u001bPtmux;${seq.replace(/\u001b/g, '\u001b\u001b')}\u001b\\` : seq;
}

/** `y` copies `text` (when there is one); returns the note to show after a copy. */
export function useCopyKey(text: string | undefined, isActive: boolean, out: { write(s: string): unknown } = process.stdout): string | undefined {
  const [note, setNote] = useState<string | undefined>();
  useKeys(
    (input) => {
      if (input !== 'y' || !text) return;
      out.write(osc52(text));
      const lines = text.split('\n').length;
      setNote(`copied ${lines === 1 ? 'the command' : `${lines} commands`} to the clipboard (OSC 52; some terminals need it allowed)`);
    },
    { isActive: isActive && Boolean(text) },
  );
  return note;
}
