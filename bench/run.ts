// `npm run bench`: every benchmark, figures printed and written into docs/performance.md.
// Benchmarks measure; they never fail a build on a number (that is what the targets in the doc are for).
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from '../test/lab/harness.js';
import { checkSpeed } from './check-speed.js';
import { conntrackScale } from './conntrack-scale.js';
import { peerSpeed } from './peer-speed.js';
import { watchBench } from './watch.js';

const sections: string[] = [];
const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

async function section(name: string, fn: () => Promise<string>) {
  if (!want(name)) return;
  process.stderr.write(`bench: ${name}...\n`);
  try {
    const s = await fn();
    sections.push(s);
    process.stdout.write(s + '\n\n');
  } catch (err) {
    const s = `### ${name}\n\nnot measured: ${(err as Error).message}`;
    sections.push(s);
    process.stdout.write(s + '\n\n');
  }
}

// benchmarks written as plain scripts by each area (they print markdown on stdout)
async function script(name: string, file: string) {
  await section(name, async () => {
    if (!existsSync(path.join(REPO_ROOT, file))) throw new Error(`${file} is missing`);
    const r = await execa(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, file)], { reject: false, timeout: 600_000, cwd: REPO_ROOT });
    if (!r.stdout.trim()) throw new Error(`${file} exited ${r.exitCode}: ${r.stderr.trim().split('\n').at(-1)}`);
    // a script that missed its own target still reports its figures
    return `### ${name}\n\n${r.stdout.trim()}${r.exitCode !== 0 ? `\n\n(${file} exited ${r.exitCode}: its target was missed in this run)` : ''}`;
  });
}

await section('check-speed', checkSpeed);
await section('conntrack-scale', conntrackScale);
await section('peer-speed', peerSpeed);
await script('netfilter-parse', 'bench/netfilter.mjs');
await script('timeline', 'bench/timeline.mjs');
await script('first-frame', 'bench/first-frame.mjs');
await script('hostile-host', 'bench/hostile.mjs');
await section('watch', () => watchBench());
await script('release', 'bench/release.mjs');

const docPath = path.join(REPO_ROOT, 'docs', 'performance.md');
const doc = await readFile(docPath, 'utf8');
const marker = '<!-- bench:results -->';
const head = doc.includes(marker) ? doc.slice(0, doc.indexOf(marker) + marker.length) : `${doc.trimEnd()}\n\n${marker}`;
const stamp = `\n\nLast run: ${new Date().toISOString()} on ${(await execa('uname', ['-r'])).stdout.trim()}, ${(await import('node:os')).cpus().length} CPUs, Node ${process.version}.\n\n`;
if (only.length === 0) await writeFile(docPath, `${head}${stamp}${sections.join('\n\n')}\n`);
