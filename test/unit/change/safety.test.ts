// Small pieces of the change engine's safety, without a host: shell-safe values for network
// configuration files, corrupt manifests, empty undo ids, node identity.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { unsafeArgs, unsafeInterface } from '../../../src/routing/values.js';
import { addIfupdownHooks, appendLines } from '../../../src/routing/fix.js';
import { changesCommand, undoCommand } from '../../../src/change/cli.js';
import { changePaths, type ChangePaths } from '../../../src/change/paths.js';
import { sameNode, type NodeId } from '../../../src/change/node.js';

describe('values written into files a shell reads', () => {
  it('refuses interface names and words a shell would interpret, with the reason', () => {
    expect(unsafeInterface('eth0')).toBeNull();
    expect(unsafeInterface('bond0.100')).toBeNull();
    expect(unsafeInterface('e`id>x`')).toMatch(/cannot hold safely|shell/);
    expect(unsafeInterface('a$(reboot)')).not.toBeNull();
    expect(unsafeInterface('waytoolonginterface')).toContain('1 to 15 characters');
    expect(unsafeArgs(['from', '10.0.0.11', 'lookup', 'lvs_nat', 'priority', '100'])).toBeNull();
    expect(unsafeArgs(['10.8.0.0/16', 'dev', 'e;x', 'table', '100'])).toContain('e;x');
    expect(unsafeArgs(['default', 'via', '10.0.0.1', 'table', 'x y'])).not.toBeNull();
  });
  it('the file editors refuse a hostile word instead of writing it', () => {
    const ifaces = 'auto eth0\niface eth0 inet manual\n';
    expect(addIfupdownHooks(ifaces, 'eth0', ['ip route add 10.8.0.0/16 dev eth0 table 100'])).toContain('up ip route add 10.8.0.0/16 dev eth0 table 100');
    expect(() => addIfupdownHooks(ifaces, 'eth0', ['ip route add 10.8.0.0/16 dev e`id>x` table 100'])).toThrow(/refusing/);
    expect(() => appendLines('', ['10.8.0.0/16 dev $(id) table 100'])).toThrow(/refusing/);
  });
});

describe('changes on disk', () => {
  let base: string;
  let paths: ChangePaths;
  beforeEach(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'hdchg-safety-'));
    paths = changePaths({
      HAGW_DOCTOR_STATE_DIR: path.join(base, 'state'),
      HAGW_DOCTOR_LOCK: path.join(base, 'lock'),
      HAGW_DOCTOR_LOG: path.join(base, 'log'),
      HAGW_DOCTOR_ROOT: path.join(base, 'root'),
    });
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('a corrupt manifest is one line on `changes` and on `undo ID`, never a crash', async () => {
    await mkdir(path.join(paths.changesDir, '20250101-000000.000-abcd'), { recursive: true });
    await writeFile(path.join(paths.changesDir, '20250101-000000.000-abcd', 'manifest.json'), '{"schema": "hagw-doctor.change/v1", "id": 5');
    const out: string[] = [];
    const err: string[] = [];
    expect(
      await changesCommand(
        { json: false },
        paths,
        (t) => out.push(t),
        (t) => err.push(t),
      ),
    ).toBe(0);
    expect(err.join('').trim().split('\n')).toHaveLength(1);
    expect(err.join('')).toContain('not a valid hagw-doctor change manifest (not JSON)');
    const u: string[] = [];
    expect(await undoCommand('20250101-000000.000-abcd', { yes: true }, { ask: null, out: (t) => u.push(t), err: (t) => u.push(t), paths })).toBe(3);
    expect(u.join('').trim().split('\n')).toHaveLength(1);
    expect(u.join('')).toContain('not a valid hagw-doctor change manifest');
  });

  it('`undo ""` is an error, not "the latest"', async () => {
    const e: string[] = [];
    expect(await undoCommand('', { yes: true }, { ask: null, out: () => undefined, err: (t) => e.push(t), paths })).toBe(3);
    expect(e.join('')).toContain('empty change id');
  });

  it('undo without --yes and without a terminal refuses, naming --yes', async () => {
    const e: string[] = [];
    // no change: nothing to ask about, refused by the engine with its own line
    expect(await undoCommand(undefined, {}, { ask: null, out: () => undefined, err: (t) => e.push(t), paths })).toBe(3);
    expect(e.join('')).toContain('no applied change of this node');
  });
});

describe('node identity', () => {
  const gw1: NodeId = { netnsInode: 4026532300, netnsDev: 4, netnsName: 'gw1', hostname: 'h', bootId: 'b1' };
  it('same boot: the namespace inode decides; after a reboot: the name and the host', () => {
    expect(sameNode(gw1, { ...gw1 })).toBe(true);
    expect(sameNode(gw1, { ...gw1, netnsInode: 4026532400, netnsName: 'gw2' })).toBe(false);
    expect(sameNode(gw1, { ...gw1, hostname: 'other' })).toBe(false);
    expect(sameNode(gw1, { ...gw1, bootId: 'b2', netnsInode: 1 })).toBe(true);
    expect(sameNode(gw1, { ...gw1, bootId: 'b2', netnsName: 'gw2' })).toBe(false);
  });
});
