// `generate --out` on a filesystem of its own (a tmpfs mounted at --out, as a USB stick or a
// separate /srv would be): files are installed in place (temporary name in the same directory,
// fsync, rename), never renamed across filesystems, so no raw EXDEV/EBUSY. The mount lives in a
// private mount namespace (unshare -m) that ends with the command: nothing is left mounted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, requireRoot } from './harness.js';

requireRoot();

describe('generate onto another filesystem', () => {
  let base = '';
  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'hdgen-fs-'));
  });
  afterAll(async () => {
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('writes the pair into a tmpfs mounted at --out, and refuses a second run without --force', async () => {
    const out = path.join(base, 'mnt');
    const gen = (extra: string) =>
      `"${process.execPath}" "${path.join(REPO_ROOT, 'bin', 'hagw-doctor')}" generate --role master --interface eth0 --vip 192.168.100.1/24 --self 192.168.100.2 --peer 192.168.100.3 --out "${out}" ${extra}`;
    const script = [
      `mkdir -p "${out}"`,
      'mount --make-rprivate /',
      `mount -t tmpfs hdgen "${out}"`,
      `${gen('')}; echo "first=$?"`,
      `${gen('')}; echo "second=$?"`,
      `${gen('--force')}; echo "forced=$?"`,
      `ls "${out}" "${out}/scripts"`,
      `stat -f -c %T "${out}"`,
    ].join('\n');
    const r = await execa('unshare', ['--mount', 'sh', '-c', script], { reject: false, env: { LC_ALL: 'C' } });
    const text = `${r.stdout}\n${r.stderr}`;
    expect(text).toContain('first=0');
    expect(text).toContain('second=3');
    expect(r.stderr).toContain('is not empty');
    expect(text).toContain('forced=0');
    expect(r.stdout).toContain('keepalived.conf');
    expect(r.stdout).toContain('notify_master.sh');
    expect(r.stdout).toMatch(/tmpfs/);
    expect(text).not.toMatch(/EXDEV|EBUSY|cross-device/);
  });
});
