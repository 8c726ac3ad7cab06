// Where `npm run release` puts its files, for the tests that use them (test/release, test/lab).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VERSION: string = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
export const RELEASE_DIR = path.join(REPO, 'release');
export const EXE = path.join(RELEASE_DIR, `hagw-doctor-${VERSION}-linux-x64`);
export const DEB = path.join(RELEASE_DIR, `hagw-doctor_${VERSION}_amd64.deb`);

/** The release must have been built (npm test and .ci/run build it first): fail, never skip. */
export function requireRelease(): void {
  for (const f of [EXE, DEB, path.join(RELEASE_DIR, 'SHA256SUMS')]) {
    if (!existsSync(f)) throw new Error(`${path.relative(REPO, f)} is missing: run npm run release first`);
  }
}
