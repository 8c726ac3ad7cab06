// Shared by bench/first-frame.mjs and bench/release.mjs: the time from starting the doctor on a
// terminal (a real 80x24 pseudo-terminal, node-pty, so it takes the interactive path) to its first
// frame (the home screen is visible), and the medians and percentiles of the samples.
import path from 'node:path';
import pty from 'node-pty';

/** The home screen's question: once it is on the terminal, the first frame is there. */
export const READY = 'What do you want to do?';

/** The environment a measured run gets: the change engine's state, lock and log inside stateDir. */
export function doctorEnv(stateDir) {
  return {
    ...process.env,
    NO_COLOR: '1',
    HAGW_DOCTOR_STATE_DIR: path.join(stateDir, 'state'),
    HAGW_DOCTOR_LOCK: path.join(stateDir, 'lock'),
    HAGW_DOCTOR_LOG: path.join(stateDir, 'log'),
  };
}

/** Milliseconds from spawning argv in the pty to READY on it; then `q` quits. */
export function firstFrame([file, ...args], { stateDir, cwd, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let out = '';
    let ms;
    const p = pty.spawn(file, args, { name: 'xterm-256color', cols: 80, rows: 24, cwd, env: doctorEnv(stateDir) });
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`no first frame within ${timeoutMs / 1000} s; output: ${JSON.stringify(out.slice(-300))}`));
    }, timeoutMs);
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

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.9) - 1)];
export const fmt = (n) => `${n.toFixed(0)} ms`;
