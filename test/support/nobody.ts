// Running the built doctor as a user who is not root (`nobody`), from a clone in any directory:
// the checkout may sit where only root can enter (a clone under /root), so the built package
// (package.json, bin/, dist/ and demo/, as `npm pack` ships them) is copied where `nobody` can
// read it. Its node_modules is a link to the checkout's: the self-contained bundle needs none, but
// root's change engine runs its rollback timer from dist/src, which imports its dependencies.
import { chmod, cp, mkdtemp, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** setpriv's argv prefix that runs a command as nobody (uid/gid 65534, no groups). */
export const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

/** A copy of the built package under `parent` (a new temp dir by default) that nobody can read;
 *  the caller removes `dir` (a lab's run dir goes with the lab). */
export async function packageForNobody(parent = tmpdir()): Promise<{ dir: string; bin: string }> {
  if (!existsSync(path.join(ROOT, 'dist/bundle/cli.mjs'))) throw new Error('dist/bundle/ is missing: run `npm run build` first (npm test does)');
  const pkg = await mkdtemp(path.join(parent, 'hagw-pkg-'));
  await chmod(pkg, 0o755);
  await cp(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  await cp(path.join(ROOT, 'bin'), path.join(pkg, 'bin'), { recursive: true });
  await cp(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  await cp(path.join(ROOT, 'demo'), path.join(pkg, 'demo'), { recursive: true });
  await symlink(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
  for (const d of ['bin', 'dist', 'dist/bundle', 'demo']) await chmod(path.join(pkg, d), 0o755);
  return { dir: pkg, bin: path.join(pkg, 'bin/hagw-doctor') };
}
