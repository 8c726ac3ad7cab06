// Host text never drives the terminal: every view passes what it read from the host (hostnames,
// instance names, config lines, log lines, rule dumps, the peer's output) through these helpers.
// Control characters become visible escapes (ESC shows as \x1b), so `ESC ]52;…` (clipboard
// write), `ESC [2J` (clear screen) or a carriage return that overwrites a line reach the operator
// as text, never as a command to their terminal. No I/O here.

// C0 controls (but tab and newline), DEL, C1 controls, and the Unicode bidirectional overrides
// and isolates (they reorder what the operator sees), line/paragraph separators, and lone surrogates.
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// the same, newline and tab included: for one-line fields (titles, excerpts, names)
const UNSAFE_LINE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Host text made safe for a terminal: control characters shown as \xNN (newlines and tabs kept). */
export function visible(s: string): string {
  return s.replace(UNSAFE, escapeChar);
}

/** The same for a one-line field: newlines and tabs are escaped too. */
export function visibleLine(s: string): string {
  return s.replace(UNSAFE_LINE, escapeChar);
}

/** A copy of a value with every string in it passed through visible(). For whole reports: a view
 *  renders the copy, so no field (new ones included) can carry a raw control character. */
export function visibleDeep<T>(value: T): T {
  return mapStrings(value, visible);
}

function mapStrings<T>(value: T, fn: (s: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapStrings(v, fn);
    return out as T;
  }
  return value;
}

// XML 1.0 allows #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
/** Text for an XML attribute or element: made visible first (so nothing invalid is left but
 *  U+FFFE/U+FFFF, which are dropped), then entity-escaped. */
export function xmlText(s: string): string {
  return visibleLine(s)
    .replace(/[\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The same for element content, where newlines are kept as they are. */
export function xmlBody(s: string): string {
  return visible(s)
    .replace(/[\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A Prometheus label value: backslash, double quote and newline escaped as the text format
 *  demands, and control characters made visible. (The Prometheus renderer owns the format.) */
export function promLabel(s: string): string {
  return visibleLine(s.replace(/\n/g, ' ')).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/** JSON.stringify, with the characters it leaves raw but a terminal may act on (DEL, C1 controls,
 *  bidi overrides, line separators, lone surrogates) written as \uXXXX: the same value, parsed. */
export function safeJson(value: unknown, indent = 2): string {
  // JSON.stringify already escapes C0 controls and lone surrogates (well-formed JSON.stringify)
  return JSON.stringify(value, null, indent).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
