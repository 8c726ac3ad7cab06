// Issue 5's target: a lab gateway with 150,000 real conntrack entries (UDP from the client through
// the master, SNATed) against the same node with an empty table. Target: <= 1.3x.
import path from 'node:path';
import { createLab, REPO_ROOT, requireRoot } from '../test/lab/harness.js';
import { table, timeCommand, fmt } from './lib.js';

const ENTRIES = 150_000;

// runs inside the client namespace: one UDP socket per 50k destination ports, each send a new flow
const FILL = `
const dgram = require('node:dgram');
const [host, total] = [process.argv[1], Number(process.argv[2])];
const perSocket = 50000;
(async () => {
  for (let s = 0; s * perSocket < total; s++) {
    const sock = dgram.createSocket('udp4');
    await new Promise((r) => sock.bind(0, r));
    const n = Math.min(perSocket, total - s * perSocket);
    for (let p = 1; p <= n; p++) {
      await new Promise((r) => sock.send('x', 1024 + p, host, r));
    }
    sock.close();
  }
})();
`;

export async function conntrackScale(): Promise<string> {
  requireRoot();
  const lab = await createLab();
  try {
    const bin = path.join(REPO_ROOT, 'bin', 'hagw-doctor');
    // unreplied UDP entries expire after 30 s by default: keep them for the whole measurement
    await lab.execOk('gw1', ['sysctl', '-qw', 'net.netfilter.nf_conntrack_udp_timeout=600']);
    await lab.execOk('client', [process.execPath, '-e', FILL, lab.addr.upstream, String(ENTRIES)]);
    const count = await lab.waitFor(
      async () => {
        const n = Number((await lab.exec('gw1', ['cat', '/proc/sys/net/netfilter/nf_conntrack_count'])).stdout.trim());
        return n >= ENTRIES * 0.95 ? n : undefined;
      },
      { what: `${ENTRIES} conntrack entries on gw1`, timeoutMs: 120_000 },
    );
    const argv = ['ip', 'netns', 'exec', lab.nodes.gw1, process.execPath, bin, 'check', '--json'];
    const env = { HAGW_DOCTOR_STATE_DIR: path.join(lab.runDir, 'bench-state'), NO_COLOR: '1' };
    const full = await timeCommand(`check --json, ${count} entries`, argv, 5, env);
    await lab.execOk('gw1', ['conntrack', '-F']);
    const emptyCount = Number((await lab.exec('gw1', ['cat', '/proc/sys/net/netfilter/nf_conntrack_count'])).stdout.trim());
    const empty = await timeCommand(`check --json, ${emptyCount} entries`, argv, 5, env);
    return [
      '### check --json with a full conntrack table (lab master gw1)',
      '',
      table([full, empty].map((t) => ({ what: t.label, median: fmt(t.medianMs), min: fmt(t.minMs), max: fmt(t.maxMs) }))),
      '',
      `Ratio full / empty: **${(full.medianMs / empty.medianMs).toFixed(2)}x** (target <= 1.3x: VRRP entries are looked up by tuple, the table is never walked).`,
    ].join('\n');
  } finally {
    await lab.destroy();
  }
}
