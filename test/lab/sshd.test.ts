// The lab's sshd (test/lab/sshd.ts): real logins by key from the client and between gateways,
// strict host keys, nothing of the host's /run or ~/.ssh touched, nothing left after destroy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { createLab, labLeftovers, requireRoot, ADDR, type Lab } from './harness.js';
import { startLabSsh, type LabSsh } from './sshd.js';

let lab: Lab | undefined;
let ssh: LabSsh;
const hostRunSshd = existsSync('/run/sshd');

beforeAll(async () => {
  requireRoot();
  lab = await createLab({ start: false });
  ssh = await startLabSsh(lab);
});
afterAll(async () => {
  await lab?.destroy();
});

describe('lab sshd', () => {
  it('logs in by key from the client namespace and from one gateway to the other', async () => {
    const fromClient = await ssh.ssh('client', 'gw1', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    expect(fromClient.exitCode, fromClient.stderr).toBe(0);
    expect(fromClient.stdout).toContain(ADDR.gw1.lan);
    const across = await ssh.ssh('gw1', 'gw2', ['sh', '-c', 'id -u; printf %s "$HAGW_DOCTOR_STATE_DIR"']);
    expect(across.exitCode, across.stderr).toBe(0);
    expect(across.stdout.split('\n')[0]).toBe('0');
    expect(across.stdout).toContain(`${lab!.runDir}/doctor/gw2/state`);
    // arguments arrive as given, quoting included
    const echo = await ssh.ssh('gw2', 'gw1', ['printf', '%s|', "it's", 'a b', '$HOME', '`x`']);
    expect(echo.stdout).toBe("it's|a b|$HOME|`x`|");
    // the node's own passwd: root logs in to /bin/sh, never the host root's shell and rc files
    expect((await ssh.ssh('gw1', 'gw2', ['getent', 'passwd', 'root'])).stdout.trim()).toMatch(/:\/bin\/sh$/);
    // an unprivileged login
    const nobody = await lab!.exec('gw1', ['ssh', '-F', ssh.configPath, 'nobody@gw2', 'id', '-u']);
    expect(nobody.stdout.trim(), nobody.stderr).toBe('65534');
  });

  it("installDoctor puts this checkout's hagw-doctor on the session PATH of one node only", async () => {
    await ssh.installDoctor('gw2');
    const there = await ssh.ssh('gw1', 'gw2', ['hagw-doctor', '--version']);
    expect(there.exitCode, there.stderr).toBe(0);
    expect(there.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const none = await ssh.ssh('gw2', 'gw1', ['sh', '-c', 'command -v hagw-doctor || echo none']);
    expect(none.stdout.trim()).toBe('none');
    await ssh.uninstallDoctor('gw2');
    expect((await ssh.ssh('gw1', 'gw2', ['sh', '-c', 'command -v hagw-doctor || echo none'])).stdout.trim()).toBe('none');
  });

  it('listens on the lab addresses only, and a changed host key is refused', async () => {
    const listen = await lab!.exec('gw1', ['ss', '-Htln']);
    const ports = listen.stdout
      .split('\n')
      .filter((l) => /:22\b/.test(l))
      .map((l) => l.split(/\s+/)[3])
      .sort();
    expect(ports).toEqual([`${ADDR.gw1.lan}:22`, `${ADDR.gw1.wan}:22`].sort());
    // gw2's address under gw1's name: the key does not match known_hosts
    const r = await lab!.exec('client', ['ssh', '-F', ssh.configPath, '-o', `HostName=${ADDR.gw2.lan}`, '-o', 'HostKeyAlias=' + ADDR.gw1.lan, 'gw1', 'true']);
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it('stop() ends the server: a new login is refused', async () => {
    await ssh.stop('gw2');
    const r = await ssh.ssh('gw1', 'gw2', ['true'], { timeoutMs: 20_000 });
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toMatch(/Connection refused/);
    await ssh.start('gw2');
    expect((await ssh.ssh('gw1', 'gw2', ['true'])).exitCode).toBe(0);
  });

  it("the host's /run is untouched and destroy leaves nothing behind", async () => {
    expect(existsSync('/run/sshd')).toBe(hostRunSshd);
    const id = lab!.id;
    await lab!.destroy();
    expect(labLeftovers(id)).toEqual([]);
    lab = undefined;
  });
});
