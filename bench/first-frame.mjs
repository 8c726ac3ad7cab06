// Bench (not a test): time from starting `hagw-doctor` on a terminal to its first frame (the home
// screen is visible), against a bare `node -e 0` start-up on the same machine. Target: at most 3x.
// The wizard runs in a real pseudo-terminal (node-pty, bench/frame.mjs) so that it takes the interactive path.
// Run: npm run build && node bench/first-frame.mjs [runs]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstFrame, fmt, median, p90 } from './frame.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'hagw-doctor');
const runs = Number(process.argv[2] ?? 15);
const TARGET = 3;

function bareNode() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - t0));
  });
}

const frameOf = (stateDir) => firstFrame([process.execPath, BIN], { stateDir, cwd: ROOT, timeoutMs: 30_000 });

const dir = mkdtempSync(path.join(os.tmpdir(), 'hagw-bench-frame-'));
try {
  // warm the file cache once each, then alternate so that machine noise hits both alike
  await bareNode();
  await frameOf(dir);
  const bare = [];
  const frame = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await bareNode());
    frame.push(await frameOf(dir));
  }
  const ratio = median(frame) / median(bare);
  const ok = ratio <= TARGET;
  process.stdout.write(
    [
      `Time to the wizard's first frame (home visible, 80x24 pty) against \`node -e 0\`, ${runs} runs each, alternating.`,
      '',
      '| | median | p90 |',
      '|---|---|---|',
      `| \`node -e 0\` (start to exit) | ${fmt(median(bare))} | ${fmt(p90(bare))} |`,
      `| \`hagw-doctor\` (start to first frame) | ${fmt(median(frame))} | ${fmt(p90(frame))} |`,
      '',
      `Ratio of medians: ${ratio.toFixed(2)}x (target <= ${TARGET}x): ${ok ? 'met' : 'MISSED'}.`,
      '',
    ].join('\n'),
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
