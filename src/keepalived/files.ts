// Where keepalived's configuration lives and how `include` pulls in more files.
import path from 'node:path';

export const DEFAULT_CONFIG = '/etc/keepalived/keepalived.conf';

/** Snapshot probe ids: keepalived config files (the main one and its includes) are kconf:PATH,
 *  the directories an include glob lists kconf-dir:DIR, notify scripts script:PATH. */
export { CONFIG_PREFIX, configFileProbeId, configDirProbeId, scriptProbeId } from '../probes/ids.js';

/** The include patterns a config file names, made absolute against the including file's directory
 *  (keepalived resolves relative includes that way). Comments (! and #) are ignored. */
export function configIncludes(text: string, file: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = stripComment(raw).trim();
    const m = /^include\s+(?:"([^"]+)"|(\S+))/.exec(line);
    const target = m?.[1] ?? m?.[2];
    if (target) out.push(path.isAbsolute(target) ? path.normalize(target) : path.resolve(path.dirname(file), target));
  }
  return out;
}

function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '!' || c === '#')) return line.slice(0, i);
  }
  return line;
}

export interface IncludeGlob {
  /** null: a plain path; otherwise the directory to list */
  dir: string | null;
  matches(name: string): boolean;
}

/** glob(3) with GLOB_BRACE, as keepalived uses it, for wildcards in the last path component. */
export function expandIncludePattern(pattern: string): IncludeGlob {
  const base = path.basename(pattern);
  if (!/[*?[{]/.test(base)) return { dir: null, matches: (n) => n === base };
  const alternatives = expandBraces(base).map(globToRegExp);
  return { dir: path.dirname(pattern), matches: (n) => !n.startsWith('.') && alternatives.some((re) => re.test(n)) };
}

function expandBraces(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1]!.split(',').flatMap((alt) => expandBraces(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
