// watch --peer HOST: the other node's own `hagw-doctor watch --format jsonl`, over SSH, merged into
// this stream. The hook is deliberately small: how to reach the peer (ssh argv) is the only thing a
// shared peer module may later replace (peerArgv). Every line from the peer is untrusted: parsed as
// JSON, checked field by field, bounded, and re-emitted with the node name the operator gave.
import { followCommand, type Follower } from './follow.js';
import { isoTime, type WatchEvent } from './events.js';
import { cleanLine, describeSshFailure, validPeerHost } from '../peer/ssh.js';

const KINDS = new Set(['state', 'vip', 'advert', 'finding', 'change', 'watch']);
const MAX_FIELD = 512;

/** ssh in batch mode (never a password prompt), the remote command as separate words; the host
 *  rule is the peer module's (src/peer/ssh.ts), so check --peer and watch --peer accept the same. */
export function peerArgv(host: string, remote: readonly string[], sshConfig?: string): string[] {
  if (!validPeerHost(host)) throw new Error(`--peer takes a host name or user@host, not ${JSON.stringify(host)}`);
  return [
    'ssh',
    ...(sshConfig ? ['-F', sshConfig] : []),
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    '-T',
    host,
    '--',
    ...remote,
  ];
}

/** One peer line made safe: a known kind, strings bounded, the node forced to `node`. Undefined when it is not an event. */
export function peerEvent(line: string, node: string): WatchEvent | undefined {
  if (line.length > 16 * 1024) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  if (typeof o.kind !== 'string' || !KINDS.has(o.kind)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (!/^[a-zA-Z]{1,32}$/.test(k)) continue;
    if (typeof v === 'string') out[k] = v.slice(0, MAX_FIELD);
    else if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    else if (typeof v === 'boolean' || v === null) out[k] = v;
  }
  if (typeof out.time !== 'string' || Number.isNaN(Date.parse(out.time))) out.time = isoTime();
  out.node = node;
  return out as unknown as WatchEvent;
}

export function followPeer(
  host: string,
  args: readonly string[],
  onEvent: (e: WatchEvent) => void,
  onEnd: (why: string) => void,
  sshConfig?: string,
): Follower {
  const argv = peerArgv(host, ['hagw-doctor', 'watch', '--format', 'jsonl', '--node', host, ...args], sshConfig);
  return followCommand(
    argv,
    (line) => {
      const e = peerEvent(line, host);
      if (e) onEvent(e);
    },
    {
      onExit: (code, err) =>
        onEnd(
          code === 255 ? describeSshFailure(host, err, false) : `the peer's watch over ssh ended (${code ?? 'not started'})${err ? `: ${cleanLine(err)}` : ''}`,
        ),
    },
  );
}
