// Bench (not a test): time from starting `hagw-doctor` on a terminal to its first frame (the home
// screen is visible), against a bare `node -e 0` start-up on the same machine. Target: at most 3x.
// The wizard runs in a real pseudo-terminal (node-pty) so that it takes the interactive path.
// Run: npm run build && node bench/first-frame.mjs [runs]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pty from 'node-pty';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'hagw-doctor');
const runs = Number(process.argv[2] ?? 15);
const TARGET = 3;
const READY = 'What do you want to do?';

function bareNode() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - t0));
  });
}

function firstFrame(stateDir) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let out = '';
    let ms;
    const p = pty.spawn(process.execPath, [BIN], {
      name: 'xterm-256color',
      cols: 80,
      rows: 24,
      cwd: ROOT,
      env: {
        ...process.env,
        NO_COLOR: '1',
        HAGW_DOCTOR_STATE_DIR: path.join(stateDir, 'state'),
        HAGW_DOCTOR_LOCK: path.join(stateDir, 'lock'),
        HAGW_DOCTOR_LOG: path.join(stateDir, 'log'),
      },
    });
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`no first frame within 30 s; output: ${JSON.stringify(out.slice(-300))}`));
    }, 30_000);
    p.onData((d) => {
      out += d;
      if (ms === undefined && out.includes(READY)) {
        ms = performance.now() - t0;
        p.write('q');
      }
    });
    p.onExit(() => {
      clearTimeout(timer);
      if (ms === undefined) reject(new Error(`exited before the first frame; output: ${JSON.stringify(out.slice(-300))}`));
      else resolve(ms);
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.9) - 1)];
const fmt = (n) => `${n.toFixed(0)} ms`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'hagw-bench-frame-'));
try {
  // warm the file cache once each, then alternate so that machine noise hits both alike
  await bareNode();
  await firstFrame(dir);
  const bare = [];
  const frame = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await bareNode());
    frame.push(await firstFrame(dir));
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
