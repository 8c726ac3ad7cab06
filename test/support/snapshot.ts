// Builds Snapshot fixtures for check tests: real captured output goes in, no execa mocks.
import type { HostFacts, ProbeRecord, Snapshot } from '../../src/types.js';
import { SNAPSHOT_SCHEMA } from '../../src/types.js';

export function cmd(id: string, argv: string[], stdout: string, exitCode = 0, stderr = ''): ProbeRecord {
  return { id, kind: 'command', argv, status: 'ok', exitCode, stdout, stderr, ms: 1 };
}

/** A command's record by id alone, for checks that only read its output. */
export const commandRecord = (id: string, stdout: string, extra: Partial<ProbeRecord> = {}): ProbeRecord => ({
  id,
  kind: 'command',
  status: 'ok',
  exitCode: 0,
  stdout,
  stderr: '',
  ms: 1,
  ...extra,
});

export function file(id: string, path: string, content: string): ProbeRecord {
  return { id, kind: 'file', path, status: 'ok', stdout: content, stderr: '', ms: 0 };
}

export function missing(id: string, path: string): ProbeRecord {
  return { id, kind: 'file', path, status: 'missing', stdout: '', stderr: '', ms: 0, reason: 'does not exist' };
}

export function internal(id: string, stdout: string): ProbeRecord {
  return { id, kind: 'internal', status: 'ok', stdout, stderr: '', ms: 0 };
}

export function dir(id: string, path: string, entries: string[]): ProbeRecord {
  return { id, kind: 'dir', path, status: 'ok', stdout: JSON.stringify(entries), stderr: '', ms: 0 };
}

export function makeSnapshot(records: ProbeRecord[], host: Partial<HostFacts> = {}, options: Snapshot['options'] = {}): Snapshot {
  return {
    schema: SNAPSHOT_SCHEMA,
    createdAt: '2026-11-22T03:00:00.000Z',
    tool: { name: 'hagw-doctor', version: 'test' },
    options,
    host: { hostname: 'gw1', kernel: '6.1.0', os: 'Debian GNU/Linux 12 (bookworm)', keepalived: '2.2.7', netns: 'net:[4026532000]', uid: 0, ...host },
    probes: Object.fromEntries(records.map((r) => [r.id, r])),
  };
}

/** `ip -j addr show` output for interfaces with IPv4 addresses. */
export function ipAddrJson(ifaces: Record<string, string[]>): string {
  return JSON.stringify(
    Object.entries(ifaces).map(([ifname, addrs], i) => ({
      ifindex: i + 1,
      ifname,
      flags: ['UP'],
      addr_info: addrs.map((a) => {
        const [local, prefix] = a.split('/');
        return { family: 'inet', local, prefixlen: Number(prefix ?? 32), scope: 'global' };
      }),
    })),
  );
}

/** A running keepalived in our namespace, as the keepalived-processes probe records it. */
export function keepalivedProcess(argv = ['keepalived', '-n', '-l', '-D', '-f', '/etc/keepalived/keepalived.conf'], pid = 4242): ProbeRecord {
  return internal('keepalived-processes', JSON.stringify([{ pid, ppid: 1, argv, netns: 'net:[4026532000]', ours: true }]));
}
