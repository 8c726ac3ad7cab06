// Bundles the built CLI into a few files (dist/bundle/): resolving and loading hundreds of small
// ES modules is most of the doctor's start-up; a bundle loads in a fraction of that.
// The Ink app stays a separate chunk, loaded only on a TTY.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';

// chunk names carry a hash: start clean so old chunks do not pile up
await rm('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: { cli: 'dist/src/cli.js' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  // native addon, and a package that reads its own files at run time
  external: ['node-pty', 'systeminformation', 'react-devtools-core'],
  // some CommonJS dependencies call require(); give the ESM bundle one
  banner: { js: "import { createRequire as __hagwCreateRequire } from 'node:module'; const require = __hagwCreateRequire(import.meta.url);" },
  // React's production build only: the app runs it anyway, and the development build doubles the parse
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  legalComments: 'none',
  minify: true,
  sourcemap: false,
});
