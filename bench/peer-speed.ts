// Issue 15's speed target: `check --peer HOST` (the other node probed over real SSH, nothing
// installed there) within 2x of `check` alone, on the lab pair (gw1 checking gw2).
import path from 'node:path';
import { createLab, REPO_ROOT, requireRoot } from '../test/lab/harness.js';
import { startLabSsh } from '../test/lab/sshd.js';
import { table, timeCommand, fmt } from './lib.js';

export async function peerSpeed(): Promise<string> {
  requireRoot();
  const lab = await createLab();
  try {
    const ssh = await startLabSsh(lab);
    const ns = lab.nodes.gw1;
    const bin = path.join(REPO_ROOT, 'bin', 'hagw-doctor');
    const env = { HAGW_DOCTOR_STATE_DIR: path.join(lab.runDir, 'bench-state'), NO_COLOR: '1' };
    const alone = await timeCommand('hagw-doctor check --json (this node)', ['ip', 'netns', 'exec', ns, process.execPath, bin, 'check', '--json'], 7, env);
    const peer = await timeCommand(
      'hagw-doctor check --json --peer gw2 (its sh over ssh)',
      ['ip', 'netns', 'exec', ns, process.execPath, bin, 'check', '--json', '--peer', 'gw2', '--ssh-config', ssh.configPath],
      7,
      env,
    );
    await ssh.installDoctor('gw2');
    const viaDoctor = await timeCommand(
      'the same, hagw-doctor installed on gw2',
      ['ip', 'netns', 'exec', ns, process.execPath, bin, 'check', '--json', '--peer', 'gw2', '--ssh-config', ssh.configPath],
      7,
      env,
    );
    const ratio = peer.medianMs / alone.medianMs;
    return [
      '### check --peer over SSH against check alone (lab pair, gw1 checking gw2)',
      '',
      table([alone, peer, viaDoctor].map((t) => ({ what: t.label, median: fmt(t.medianMs), min: fmt(t.minMs), max: fmt(t.maxMs) }))),
      '',
      `Ratio --peer / alone: **${ratio.toFixed(2)}x** (target <= 2x); with the peer's own hagw-doctor: ${(viaDoctor.medianMs / alone.medianMs).toFixed(2)}x.`,
    ].join('\n');
  } finally {
    await lab.destroy();
  }
}
