// Snapshot fixtures for the routing area's checks, built from probe records.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeRecord, Snapshot } from '../../../src/types.js';
import { CheckContext } from '../../../src/context.js';
import { runCheck, type Check, type CheckOutcome } from '../../../src/check.js';
import { commandRecord } from '../../support/snapshot.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const fixture = (area: 'routing' | 'ipvs', name: string) => readFileSync(path.join(ROOT, 'test', 'fixtures', area, name), 'utf8');

export const CONF = '/etc/keepalived/keepalived.conf';

export const cmd = commandRecord;
export const file = (id: string, stdout: string, p = id.replace(/^(file|sysctl):/, '')): ProbeRecord => ({
  id,
  kind: 'file',
  path: p,
  status: 'ok',
  stdout,
  stderr: '',
  ms: 1,
});
export const missing = (id: string, kind: ProbeRecord['kind'] = 'file'): ProbeRecord => ({
  id,
  kind,
  status: 'missing',
  stdout: '',
  stderr: '',
  ms: 1,
  reason: 'does not exist',
});
export const dir = (p: string, entries: string[]): ProbeRecord => ({
  id: `dir:${p}`,
  kind: 'dir',
  path: p,
  status: 'ok',
  stdout: JSON.stringify(entries),
  stderr: '',
  ms: 1,
});
export const sysctl = (key: string, value: number | string): ProbeRecord => ({
  id: `sysctl:${key}`,
  kind: 'file',
  path: `/proc/sys/${key}`,
  status: 'ok',
  stdout: `${value}\n`,
  stderr: '',
  ms: 1,
});

export const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
export const ROCKY = 'NAME="Rocky Linux"\nVERSION="8.9 (Green Obsidian)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n';

/** keepalived process list: running in this namespace or not */
export const keepalivedRunning = (running: boolean): ProbeRecord =>
  cmd('keepalived-processes', JSON.stringify(running ? [{ pid: 100, ppid: 1, argv: ['keepalived', '-f', CONF], netns: 'net:[1]', ours: true }] : []), {
    kind: 'internal',
  });

export function snapshot(records: ProbeRecord[], uid = 0): Snapshot {
  const probes: Record<string, ProbeRecord> = {};
  for (const r of [cmd('uid', String(uid), { kind: 'internal' }), ...records]) probes[r.id] = r;
  return {
    schema: 'hagw-doctor.snapshot/v1',
    createdAt: '2026-01-01T00:00:00.000Z',
    tool: { name: 'hagw-doctor', version: 'test' },
    options: {},
    host: { hostname: 'h', kernel: '6.1.0', os: 'Debian', keepalived: '2.2.7', netns: 'net:[1]', uid },
    probes,
  };
}

export function run(check: Check, records: ProbeRecord[]): CheckOutcome {
  return runCheck(check, new CheckContext(snapshot(records)));
}
