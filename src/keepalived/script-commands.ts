// Which programs a notify/track shell script runs by bare name (looked up in PATH), and whether it
// sets PATH itself. A heuristic reader of sh: it never runs the script. Good enough to name
// commands such as `kubectl`, `killall`, `ip`; it skips builtins, keywords and the script's own functions.

const KEYWORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'while',
  'until',
  'for',
  'in',
  'case',
  'esac',
  'function',
  'select',
  '!',
  '{',
  '}',
  '[[',
  ']]',
  '((',
  '))',
]);
const BUILTINS = new Set([
  'echo',
  'printf',
  'test',
  '[',
  'true',
  'false',
  'exit',
  'return',
  'set',
  'local',
  'export',
  'read',
  'cd',
  'shift',
  'eval',
  'source',
  '.',
  'trap',
  'wait',
  'kill',
  'type',
  'command',
  'ulimit',
  'umask',
  'getopts',
  'break',
  'continue',
  'unset',
  'readonly',
  'declare',
  'typeset',
  'let',
  'alias',
  'unalias',
  'hash',
  'pwd',
  'times',
  'exec',
  'builtin',
  'caller',
  'disown',
  'enable',
  'help',
  'history',
  'jobs',
  'logout',
  'mapfile',
  'readarray',
  'popd',
  'pushd',
  'dirs',
  'shopt',
  'suspend',
  'bg',
  'fg',
  ':',
  'time',
  'nohup',
  'sudo',
  'env',
  'xargs',
]);
/** Wrappers whose first non-option argument is the program that really runs. */
const WRAPPERS = new Set(['nohup', 'sudo', 'env', 'exec', 'command', 'time', 'timeout', 'nice', 'ionice', 'setsid', 'stdbuf', 'xargs']);

export interface ScriptCommands {
  /** bare program names, in first-use order */
  names: string[];
  /** the PATH the script sets (literal directories; $PATH expansions dropped), or undefined */
  setsPath?: string[];
  /** whether the script sets PATH by extending the inherited one ($PATH / ${PATH} in the value) */
  extendsPath: boolean;
}

function stripComment(line: string): string {
  let q: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === q) q = undefined;
      continue;
    }
    if (c === '"' || c === "'") q = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** The program names a shell script runs without a path, and the PATH it sets. */
export function commandNames(text: string): ScriptCommands {
  const lines = text.split('\n').slice(0, 5000);
  // a script in another language: nothing to say
  const shebang = lines[0] ?? '';
  if (shebang.startsWith('#!') && !/\b(sh|bash|dash|ash|ksh|zsh)\b/.test(shebang)) return { names: [], extendsPath: false };
  const functions = new Set<string>();
  for (const l of lines) {
    const m = /^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\s*\)/.exec(l) ?? /^\s*function\s+([A-Za-z_][\w-]*)/.exec(l);
    if (m) functions.add(m[1]!);
  }
  const names: string[] = [];
  const seen = new Set<string>();
  let setsPath: string[] | undefined;
  let extendsPath = false;
  let inHeredoc: string | undefined;
  for (const raw of lines) {
    if (inHeredoc !== undefined) {
      if (raw.trim() === inHeredoc) inHeredoc = undefined;
      continue;
    }
    // a `case` branch pattern ("master)", "*)") is not a command
    const line = stripComment(raw).replace(/^\s*\(?[\w|*"'$.,-]+\)/, '');
    const hd = /<<-?\s*['"]?(\w+)['"]?/.exec(line);
    if (hd) inHeredoc = hd[1];
    const pathSet = /^\s*(?:export\s+)?PATH=("([^"]*)"|'([^']*)'|(\S*))/.exec(line);
    if (pathSet) {
      const value = pathSet[2] ?? pathSet[3] ?? pathSet[4] ?? '';
      extendsPath = /\$\{?PATH\}?/.test(value);
      setsPath = value.split(':').filter((d) => d.startsWith('/'));
    }
    // quoted text is data (its $(...) is not read: a rare loss), then split into simple commands
    const unquoted = line.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, ' "" ');
    for (const part of unquoted.split(/;|&&|\|\||\||&|\$\(|`|\(|\)/)) {
      const words = part.trim().split(/\s+/).filter(Boolean);
      // `for VAR in ...` / `select VAR in ...` run nothing themselves
      if (words[0] === 'for' || words[0] === 'select') continue;
      let i = 0;
      while (i < words.length) {
        const w = words[i]!;
        if (KEYWORDS.has(w) || /^[A-Za-z_]\w*=/.test(w)) {
          i++;
          continue;
        }
        if (WRAPPERS.has(w)) {
          i++;
          while (i < words.length && (words[i]!.startsWith('-') || /^\d+[smhd]?$/.test(words[i]!) || /^[A-Za-z_]\w*=/.test(words[i]!))) i++;
          continue;
        }
        break;
      }
      const cmd = words[i];
      if (!cmd || cmd.includes('/') || cmd.includes('$') || /^[<>0-9]/.test(cmd) || !/^[A-Za-z_][\w.+-]*$/.test(cmd)) continue;
      if (BUILTINS.has(cmd) || KEYWORDS.has(cmd) || functions.has(cmd)) continue;
      if (!seen.has(cmd)) {
        seen.add(cmd);
        names.push(cmd);
      }
    }
  }
  return { names, ...(setsPath ? { setsPath } : {}), extendsPath };
}
