// ConfigSourceReader over the local disk (generate, tests). Checks read through the snapshot instead
// (src/keepalived/from-snapshot.ts).
import { readFileSync, readdirSync } from 'node:fs';
import type { ConfigSourceReader } from './model.js';

export function diskReader(): ConfigSourceReader {
  return {
    readFile(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    listDir(path) {
      try {
        return readdirSync(path);
      } catch {
        return undefined;
      }
    },
  };
}

/** A reader over an in-memory map of files (path -> content); directories are derived from the paths. */
export function memoryReader(files: Record<string, string>): ConfigSourceReader {
  return {
    readFile: (path) => (Object.hasOwn(files, path) ? files[path] : undefined),
    listDir(dir) {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      const names = Object.keys(files)
        .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
        .map((p) => p.slice(prefix.length));
      return names.length ? names : undefined;
    },
  };
}
