// keepalived.conf syntax: lines -> tokens (with includes spliced in) -> a tree of statements.
// Follows keepalived 2.2.7's reader, checked with `keepalived -t` runs: `!`/`#` start a comment
// anywhere outside quotes (also mid-word: `10.0.0.1#x` is `10.0.0.1`); `{` and `}` are tokens of
// their own (`authentication{`, `{ 10.0.0.1/24 }`, `} vrrp_instance B {` all work); a block may open
// on the next line; a trailing backslash is NOT a line continuation (2.2.7 reports
// `Unknown keyword 'virtual_router_id\'`) except inside `$NAME=` definitions.
import path from 'node:path';
import { expandIncludePattern } from './files.js';
import type { ConfigSourceReader, Diagnostic, Loc, ParseOptions, UnknownKeyword } from './model.js';

export interface Arg {
  text: string;
  quoted: boolean;
}

export interface Statement {
  keyword: string;
  args: Arg[];
  /** present when the statement opened a `{ }` block */
  children?: Statement[];
  loc: Loc;
}

type Token = { kind: 'word'; text: string; quoted: boolean; loc: Loc } | { kind: 'open' | 'close' | 'eol'; loc: Loc };

/** Limits that keep hostile input bounded: include fan-out and depth. */
const MAX_FILES = 256;
const MAX_INCLUDE_DEPTH = 16;

export interface SyntaxResult {
  statements: Statement[];
  files: string[];
  diagnostics: Diagnostic[];
  unknown: UnknownKeyword[];
}

export function readSyntax(mainPath: string, reader: ConfigSourceReader, opts: ParseOptions = {}): SyntaxResult {
  const lexer = new Lexer(reader, opts);
  lexer.readFile(mainPath, [], { file: mainPath, line: 0 }, true);
  const statements = buildTree(lexer.tokens, lexer.diagnostics);
  return { statements, files: lexer.files, diagnostics: lexer.diagnostics, unknown: lexer.unknown };
}

/** at most this many bytes added by $NAME expansion over the whole configuration */
export const MAX_MACRO_EXPANSION = 4 * 1024 * 1024;

class Lexer {
  tokens: Token[] = [];
  files: string[] = [];
  diagnostics: Diagnostic[] = [];
  unknown: UnknownKeyword[] = [];
  private defs = new Map<string, string>();

  constructor(
    private readonly reader: ConfigSourceReader,
    private readonly opts: ParseOptions,
  ) {}

  readFile(file: string, stack: string[], from: Loc, main: boolean): void {
    if (stack.includes(file)) {
      this.diagnostics.push({ severity: 'error', message: `include loop: ${[...stack, file].join(' -> ')}`, loc: from });
      return;
    }
    if (stack.length >= MAX_INCLUDE_DEPTH || this.files.length >= MAX_FILES) {
      this.diagnostics.push({ severity: 'error', message: `too many nested or included files at ${file}`, loc: from });
      return;
    }
    let text: string | undefined;
    try {
      text = this.reader.readFile(file);
    } catch {
      text = undefined;
    }
    if (text === undefined) {
      this.diagnostics.push({
        severity: main ? 'error' : 'warning',
        message: (() => {
          const why = this.reader.why?.(file);
          if (why) return main ? `cannot read the configuration file: ${why}` : `included file not read: ${why}`;
          return main ? `cannot read the configuration file ${file}` : `included file ${file} is missing or unreadable`;
        })(),
        loc: from,
      });
      return;
    }
    this.files.push(file);
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const loc: Loc = { file, line: i + 1 };
      let line = lines[i]!.replace(/\r$/, '');
      // $NAME=value definitions; a trailing backslash continues them (the only continuation keepalived has)
      const def = /^\s*\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (def) {
        let value = def[2]!;
        while (value.endsWith('\\') && i + 1 < lines.length) value = value.slice(0, -1) + '\n' + lines[++i]!.replace(/\r$/, '');
        this.defs.set(def[1]!, value.trim());
        continue;
      }
      const at = /^\s*@(\^?)(\S*)\s*(.*)$/.exec(line);
      if (at) {
        const [, negate, id, rest] = at;
        if (this.opts.configId === undefined) {
          this.unknown.push({ keyword: `@${negate}${id}`, context: 'config-id line, skipped: config id not known', loc });
          continue;
        }
        const matches = id === this.opts.configId;
        if (negate ? matches : !matches) continue;
        line = rest!;
      }
      if (this.defs.size && line.includes('$')) line = this.substitute(line, loc);
      for (const sub of line.split('\n')) this.lexLine(sub, loc, stack, file);
    }
  }

  /** bytes macro expansion has added so far; capped so a 10 KB macro used 10,000 times cannot take gigabytes */
  private expanded = 0;
  private expansionCapped = false;

  private substitute(line: string, loc?: Loc): string {
    if (this.expansionCapped) return line;
    let grown = 0;
    const out = line.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, a: string | undefined, b: string | undefined) => {
      const v = this.defs.get(a ?? b ?? '');
      if (v === undefined || grown > MAX_MACRO_EXPANSION) return m;
      grown += v.length - m.length;
      return v;
    });
    if (this.expanded + grown > MAX_MACRO_EXPANSION) {
      this.expansionCapped = true;
      this.diagnostics.push({
        severity: 'warning',
        message: `macro expansion grows the configuration by more than ${MAX_MACRO_EXPANSION / 1024 / 1024} MB: the doctor stops expanding $NAME here and reads the rest as written`,
        loc: loc ?? { file: this.files.at(-1) ?? '', line: 0 },
      });
      return line;
    }
    this.expanded += grown;
    return out;
  }

  private lexLine(line: string, loc: Loc, stack: string[], file: string): void {
    // keepalived 2.2.7 glues a trailing backslash to the word before it and does not continue the line
    // (`priority 100 \` -> "invalid number '100\'")
    line = line.replace(/\s+\\\s*$/, '\\');
    const words: Token[] = [];
    let i = 0;
    const n = line.length;
    while (i < n) {
      const c = line[i]!;
      if (c === ' ' || c === '\t' || c === '\v' || c === '\f') {
        i++;
        continue;
      }
      if (c === '!' || c === '#') break;
      if (c === '{' || c === '}') {
        words.push({ kind: c === '{' ? 'open' : 'close', loc });
        i++;
        continue;
      }
      let text = '';
      let quoted = false;
      // a word runs to whitespace, a brace or a comment; quoted parts may hold any of them
      while (i < n) {
        const d = line[i]!;
        if (d === '"') {
          quoted = true;
          i++;
          while (i < n && line[i] !== '"') {
            if (line[i] === '\\' && i + 1 < n && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
            text += line[i];
            i++;
          }
          if (i >= n) this.diagnostics.push({ severity: 'warning', message: 'unterminated quoted string', loc });
          i++;
          continue;
        }
        if (d === ' ' || d === '\t' || d === '\v' || d === '\f' || d === '{' || d === '}' || d === '!' || d === '#') break;
        // the unquoted run, taken as one slice (char-by-char concatenation is slow on long words)
        const start = i;
        while (i < n) {
          const e = line[i]!;
          if (e === '"' || e === ' ' || e === '\t' || e === '\v' || e === '\f' || e === '{' || e === '}' || e === '!' || e === '#') break;
          i++;
        }
        text += line.slice(start, i);
      }
      words.push({ kind: 'word', text, quoted, loc });
      if (i < n && (line[i] === '!' || line[i] === '#')) break;
    }
    const first = words[0];
    if (first?.kind === 'word' && !first.quoted && first.text === 'include') {
      const target = words[1];
      if (target?.kind !== 'word' || !target.text) {
        this.diagnostics.push({ severity: 'error', message: 'include without a file name', loc });
        return;
      }
      this.include(target.text, loc, [...stack, file]);
      return;
    }
    for (const w of words) this.tokens.push(w);
    this.tokens.push({ kind: 'eol', loc });
  }

  private include(target: string, loc: Loc, stack: string[]): void {
    const pattern = path.isAbsolute(target) ? path.normalize(target) : path.resolve(path.dirname(loc.file), target);
    const glob = expandIncludePattern(pattern);
    if (glob.dir === null) {
      this.readFile(pattern, stack, loc, false);
      return;
    }
    let names: string[] | undefined;
    try {
      names = this.reader.listDir(glob.dir);
    } catch {
      names = undefined;
    }
    // glob(3) sorts its matches; keepalived reads them in that order. No match is not an error.
    const matched = (names ?? []).filter((n) => glob.matches(n)).sort();
    if (names === undefined) this.diagnostics.push({ severity: 'warning', message: `include directory ${glob.dir} is missing or unreadable`, loc });
    for (const name of matched) this.readFile(path.join(glob.dir, name), stack, loc, false);
  }
}

/** Tokens -> statements. Iterative (an explicit stack), so `{{{{...` of any depth cannot overflow. */
function buildTree(tokens: Token[], diagnostics: Diagnostic[]): Statement[] {
  const root: Statement[] = [];
  const stack: Array<{ list: Statement[]; opener: Loc }> = [];
  let list = root;
  let i = 0;
  const peekPastEol = (j: number) => {
    while (j < tokens.length && tokens[j]!.kind === 'eol') j++;
    return j;
  };
  while (i < tokens.length) {
    const tok = tokens[i]!;
    if (tok.kind === 'eol') {
      i++;
      continue;
    }
    if (tok.kind === 'close') {
      i++;
      const top = stack.pop();
      if (top) list = top.list;
      else diagnostics.push({ severity: 'error', message: "extra '}' found", loc: tok.loc });
      continue;
    }
    if (tok.kind === 'open') {
      // a block with no keyword before it: read it so the braces stay balanced, keep nothing
      diagnostics.push({ severity: 'error', message: "'{' without a keyword", loc: tok.loc });
      const orphan: Statement = { keyword: '{', args: [], children: [], loc: tok.loc };
      stack.push({ list, opener: tok.loc });
      list = orphan.children!;
      i++;
      continue;
    }
    if (tok.kind !== 'word') break;
    const stmt: Statement = { keyword: tok.text, args: [], loc: tok.loc };
    i++;
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (t.kind !== 'word') break;
      stmt.args.push({ text: t.text, quoted: t.quoted });
      i++;
    }
    list.push(stmt);
    let j = i;
    if (tokens[j]?.kind === 'eol') j = peekPastEol(j);
    if (tokens[j]?.kind === 'open') {
      stmt.children = [];
      stack.push({ list, opener: stmt.loc });
      list = stmt.children;
      i = j + 1;
    }
  }
  for (const open of stack) diagnostics.push({ severity: 'error', message: "missing '}': this block is never closed", loc: open.opener });
  return root;
}
