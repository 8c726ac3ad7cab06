import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { embedded } from './embedded.js';

export const TOOL_NAME = 'hagw-doctor';

function findPackage(): { root: string; version: string } {
  // src/ (tests) or dist/src/ (built): walk up to our own package.json
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === TOOL_NAME) return { root: dir, version: pkg.version ?? '0.0.0' };
    } catch {
      // not here: go up
    }
    dir = path.dirname(dir);
  }
  return { root: process.cwd(), version: '0.0.0' };
}

// the single executable has no package directory: its start-up script says the version
const emb = embedded();
const pkg = emb ? { root: path.dirname(process.execPath), version: emb.version } : findPackage();
/** The package's root directory (holds demo/, docs/). */
export const PACKAGE_ROOT: string = pkg.root;
export const TOOL_VERSION: string = pkg.version;
