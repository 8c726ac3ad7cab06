// Issue 2's speed target: `check --json` in a lab node against the same raw probes typed one
// after another in a shell, in the same node. Target: within 3x (Node's own start-up is ~1x).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLab, REPO_ROOT, requireRoot } from '../test/lab/harness.js';
import { shellEquivalent, table, timeCommand, fmt } from './lib.js';

export async function checkSpeed(): Promise<string> {
  requireRoot();
  const lab = await createLab();
  try {
    const ns = lab.nodes.gw1;
    const bin = path.join(REPO_ROOT, 'bin', 'hagw-doctor');
    const snapFile = path.join(lab.runDir, 'bench-snapshot.json');
    await lab.doctor('gw1', ['snapshot', '-o', snapFile]);
    const snapshot = JSON.parse(await (await import('node:fs/promises')).readFile(snapFile, 'utf8'));
    const script = path.join(lab.runDir, 'probes.sh');
    await writeFile(script, shellEquivalent(snapshot.probes));
    const env = { HAGW_DOCTOR_STATE_DIR: path.join(lab.runDir, 'bench-state'), NO_COLOR: '1' };
    const doctor = await timeCommand('hagw-doctor check --json', ['ip', 'netns', 'exec', ns, process.execPath, bin, 'check', '--json'], 7, env);
    const shell = await timeCommand(`the same ${Object.keys(snapshot.probes).length} probes typed in sh`, ['ip', 'netns', 'exec', ns, 'sh', script], 7);
    const node = await timeCommand('bare node start-up (node -e 0)', ['ip', 'netns', 'exec', ns, process.execPath, '-e', '0'], 7);
    const ratio = doctor.medianMs / shell.medianMs;
    return [
      '### check --json against the raw probes in a shell (lab node gw1, healthy master)',
      '',
      table([doctor, shell, node].map((t) => ({ what: t.label, median: fmt(t.medianMs), min: fmt(t.minMs), max: fmt(t.maxMs) }))),
      '',
      `Ratio doctor / shell: **${ratio.toFixed(2)}x** (target <= 3x). Node start-up alone is ${(node.medianMs / shell.medianMs).toFixed(2)}x the shell.`,
    ].join('\n');
  } finally {
    await lab.destroy();
  }
}
