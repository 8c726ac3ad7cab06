// `hagw-doctor watch`: the event stream of this node (and the peer's with --peer) until
// interrupted or --for seconds have passed.
import { Watcher } from './watcher.js';
import { isoTime, toJsonLine, toTextLine, type WatchEvent } from './events.js';
import { followPeer } from './peer.js';
import type { CollectOptions } from '../types.js';

export interface WatchFlags {
  format: 'text' | 'jsonl';
  for?: number;
  peer?: string;
  sshConfig?: string;
  wire?: boolean;
  log?: string;
  node?: string;
  checkEvery?: number;
  collect: CollectOptions;
}

export async function watchCommand(flags: WatchFlags, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const write = (e: WatchEvent) => {
    out.write(`${flags.format === 'jsonl' ? toJsonLine(e) : toTextLine(e)}\n`);
  };
  const w = new Watcher({
    ...(flags.node ? { node: flags.node } : {}),
    collect: flags.collect,
    ...(flags.checkEvery !== undefined ? { checkEvery: flags.checkEvery } : {}),
    ...(flags.wire ? { wire: true } : {}),
    ...(flags.log ? { log: flags.log } : {}),
  });
  w.on(write);
  let peer: { stop(): void } | undefined;
  const done = new Promise<void>((resolve) => {
    const finish = () => resolve();
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, finish);
    // the reader went away (watch | head): stop quietly
    out.on('error', finish);
    if (flags.for !== undefined) setTimeout(finish, flags.for * 1000);
  });
  await Promise.race([w.start(), done]);
  if (flags.peer) {
    const extra = [...(flags.wire ? ['--wire'] : []), ...(flags.for !== undefined ? ['--for', String(flags.for)] : [])];
    peer = followPeer(
      flags.peer,
      extra,
      write,
      (why) => write({ time: isoTime(), node: flags.peer!, kind: 'watch', level: 'warning', message: why }),
      flags.sshConfig,
    );
  }
  await done;
  peer?.stop();
  w.stop();
  return 0;
}
