// Bench (not a test): the single executable (npm run release) against the npm install
// (node bin/hagw-doctor) on the same machine: its size, and its start-up to the wizard's first frame
// (80x24 pty), to `check --json` on this host, and to `--version`. Runs alternate so that machine
// noise hits both alike. No target: the figures are reported next to each other.
// Run: npm run release && node bench/release.mjs [runs]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { doctorEnv, firstFrame, fmt, median } from './frame.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
const EXE = path.join(ROOT, 'release', `hagw-doctor-${VERSION}-linux-x64`);
const DEB = path.join(ROOT, 'release', `hagw-doctor_${VERSION}_amd64.deb`);
const runs = Number(process.argv[2] ?? 9);

const variants = {
  'npm install (node bin/hagw-doctor)': [process.execPath, path.join(ROOT, 'bin', 'hagw-doctor')],
  'single executable': [EXE],
};

function timed([file, ...args], extra, stateDir) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, [...args, ...extra], { stdio: 'ignore', env: doctorEnv(stateDir) });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - t0));
  });
}

const mb = (f) => `${(statSync(f).size / 1e6).toFixed(1)} MB`;

/** What the npm install occupies: the package's files, its production dependencies, and Node. */
function npmInstallBytes() {
  const du = (p) => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]);
  const own = ['bin', 'dist', 'demo', 'docs'].reduce((n, d) => n + du(path.join(ROOT, d)), 0);
  const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((p) => p && p !== ROOT)
    .sort();
  // a package nested inside another listed one is counted with it
  const outer = listed.filter((p, i) => !listed.slice(0, i).some((q) => p.startsWith(q + '/')));
  const deps = outer.reduce((n, d) => n + du(d), 0);
  return { own, deps, node: statSync(process.execPath).size };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'hagw-bench-release-'));
try {
  statSync(EXE);
  const measures = {
    'first frame': (v) => firstFrame(v, { stateDir: dir, cwd: ROOT, timeoutMs: 60_000 }),
    'check --json (this host)': (v) => timed(v, ['check', '--json'], dir),
    '--version': (v) => timed(v, ['--version'], dir),
  };
  const results = {};
  for (const [m, fn] of Object.entries(measures)) {
    results[m] = {};
    for (const [name, v] of Object.entries(variants)) {
      await fn(v); // warm the page cache once
      results[m][name] = [];
    }
    for (let i = 0; i < runs; i++) for (const [name, v] of Object.entries(variants)) results[m][name].push(await fn(v));
  }
  const names = Object.keys(variants);
  const sizes = npmInstallBytes();
  process.stdout.write(
    [
      `The single executable against the npm install, ${runs} runs each, alternating (medians).`,
      '',
      `| | ${names.join(' | ')} |`,
      `|---|${names.map(() => '---').join('|')}|`,
      ...Object.entries(results).map(([m, r]) => `| ${m} | ${names.map((n) => fmt(median(r[n]))).join(' | ')} |`),
      `| size on disk | ${sizes.own / 1e6 < 10 ? (sizes.own / 1e6).toFixed(1) : (sizes.own / 1e6).toFixed(0)} MB package + ${(sizes.deps / 1e6).toFixed(1)} MB production node_modules + ${(sizes.node / 1e6).toFixed(1)} MB Node.js | ${mb(EXE)} (the .deb: ${mb(DEB)}) |`,
      '',
    ].join('\n'),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
