// Long lines cut into rows at spaces, never cut off: commands, diffs, evidence and errors are
// shown whole at any width (80 and 60 columns included).
import type { Line } from '../components/scroll-view.js';

/** A line cut into rows of `width` at spaces (a word longer than the row is split, never dropped). */
export function wrapLine(line: Line, width: number): Line[] {
  const w = Math.max(10, width);
  if (line.text.length <= w) return [line];
  const indent = /^\s*/.exec(line.text)![0].slice(0, Math.floor(w / 2));
  const cont = `${indent}  `;
  const rows: string[] = [];
  let cur = '';
  for (const word of line.text.trimStart().split(/(\s+)/)) {
    if (!word) continue;
    const prefix = rows.length === 0 ? indent : cont;
    if ((prefix + cur + word).length <= w) {
      cur += word;
      continue;
    }
    if (cur.trim()) rows.push(prefix + cur.trimEnd());
    cur = /^\s+$/.test(word) ? '' : word;
    // a token longer than a row: split it
    while ((cont + cur).length > w) {
      rows.push(cont + cur.slice(0, w - cont.length));
      cur = cur.slice(w - cont.length);
    }
  }
  if (cur.trim()) rows.push((rows.length === 0 ? indent : cont) + cur.trimEnd());
  return rows.map((text) => ({ ...line, text }));
}

export function wrapLines(lines: readonly Line[], width: number): Line[] {
  return lines.flatMap((l) => wrapLine(l, width));
}
