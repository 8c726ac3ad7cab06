// --peer, --ssh-config and fix --on-peer as an operator meets them: bad input is one line and
// exit 3, and nothing reaches ssh (the built CLI; unreachable peers are in test/lab/peer.test.ts,
// which sends nothing outside the lab's namespaces).
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/hagw-doctor');

function run(args: string[]) {
  if (!existsSync(path.join(ROOT, 'dist/src/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  return execa(process.execPath, [BIN, ...args], { reject: false, timeout: 60_000, env: { NO_COLOR: '1' }, stdin: 'ignore' });
}

function oneLine(r: { exitCode?: number; stderr: string }, re: RegExp) {
  expect(r.exitCode).toBe(3);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(re);
}

describe('--peer usage', () => {
  it('refuses a host that is an option or shell text, before any ssh runs', async () => {
    // an option-looking value never becomes a host: commander refuses it as a missing argument
    oneLine(await run(['check', '--peer', '-oProxyCommand=touch /tmp/x']), /^hagw-doctor: option '--peer <\[user@\]host>' argument missing/);
    oneLine(await run(['check', '--peer', 'gw2;id']), /^hagw-doctor: --peer takes \[USER@\]HOST/);
    oneLine(await run(['fix', '--on-peer', '$(id)', 'ip-forward-off']), /^hagw-doctor: --on-peer takes \[USER@\]HOST/);
  });

  it('says which options do not go together', async () => {
    oneLine(await run(['check', '--peer', 'gw2', '--peer-snapshot', BIN]), /--peer and --peer-snapshot both name the other node/);
    oneLine(await run(['check', '--ssh-config', BIN]), /--ssh-config goes with --peer HOST/);
    oneLine(await run(['check', '--peer', 'gw2', '--ssh-config', '/nonexistent/ssh_config']), /--ssh-config \/nonexistent\/ssh_config: no such file/);
    oneLine(await run(['check', '--from', BIN, '--peer', 'gw2']), /with --from, give its snapshot with --peer-snapshot FILE/);
    oneLine(await run(['fix', '--on-peer', 'gw2', 'no-such-code']), /unknown code no-such-code \(see `hagw-doctor codes`\)/);
  });
});

describe('the early connection (`check --peer HOST` starts its SSH handshake before the arguments are parsed)', () => {
  it('is taken only from a command line collectLive would accept', async () => {
    const { peerOnCommandLine } = await import('../../../src/cli.js');
    expect(peerOnCommandLine(['check', '--json', '--peer', 'root@gw2'])).toEqual({ host: 'root@gw2' });
    expect(peerOnCommandLine(['snapshot', '--peer=gw2', '--ssh-config', BIN])).toEqual({ host: 'gw2', sshConfig: BIN });
    for (const argv of [
      ['check', '--peer', '-oProxyCommand=touch /tmp/x'],
      ['check', '--peer', 'gw2;id'],
      ['check', '--peer', 'gw2', '--ssh-config', '/nonexistent/ssh_config'],
      ['check', '--from', BIN, '--peer', 'gw2'],
      ['check', '--peer', 'gw2', '--peer-snapshot', BIN],
      ['check', '--peer', 'gw2', '--help'],
      ['watch', '--peer', 'gw2'],
      ['check', '--json'],
    ])
      expect(peerOnCommandLine(argv), argv.join(' ')).toBeUndefined();
  });
});
