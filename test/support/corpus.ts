// Where the shared corpus is (real configs, dumps and logs other people wrote; never edited): beside
// the repository (../shared/corpus), one level further up from a git worktree, or /work/shared/corpus
// for a clone anywhere else on the project's machine. HAGW_CORPUS (or HAGW_CORPUS_DIR) overrides.
// Never skipped: a missing corpus fails the tests that read it, naming where it looked.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function corpusDir(): string {
  const candidates = [
    process.env.HAGW_CORPUS,
    process.env.HAGW_CORPUS_DIR,
    path.resolve(ROOT, '../shared/corpus'),
    path.resolve(ROOT, '../../shared/corpus'),
    '/work/shared/corpus',
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(path.join(p, 'keepalived/VERDICTS.tsv')) && existsSync(path.join(p, 'logs')));
  if (!found) throw new Error(`the shared corpus was not found (looked in ${candidates.join(', ')}); set HAGW_CORPUS`);
  return found;
}
