import { describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FixPlan } from '../../../src/types.js';
import { planPreview, renderPreview } from '../../../src/change/preview.js';
import { changePaths } from '../../../src/change/paths.js';

const plan: FixPlan = {
  summary: 'delete the stale VRRP conntrack binding and NOTRACK VRRP',
  risk: 'disruptive',
  steps: [
    { argv: ['conntrack', '-D', '-p', '112'], optional: true, why: 'the NAT binding outlives the rule' },
    {
      argv: ['iptables', '-t', 'raw', '-I', 'PREROUTING', '-p', 'vrrp', '-j', 'CT', '--notrack'],
      undo: [['iptables', '-t', 'raw', '-D', 'PREROUTING', '-p', 'vrrp', '-j', 'CT', '--notrack']],
    },
    { argv: ['sh', '-c', "echo 'a b'"] },
    { write: { path: '/etc/iptables/rules.v4', content: '*raw\n-A PREROUTING -p vrrp -j CT --notrack\nCOMMIT\n' } },
    { remove: { path: '/etc/old' } },
  ],
  touches: { iptables: ['raw'], conntrack: true, files: ['/etc/iptables/rules.v4'] },
  persistence: { persistent: true, how: 'added to /etc/iptables/rules.v4' },
  verifies: ['vrrp-conntrack-nat'],
};

describe('planPreview', () => {
  it('shows exact commands, undos, diffs, backups and what cannot be undone', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'hdchg-prev-'));
    try {
      await mkdir(path.join(root, 'etc/iptables'), { recursive: true });
      await writeFile(path.join(root, 'etc/iptables/rules.v4'), '*raw\nCOMMIT\n', { mode: 0o600 });
      const paths = changePaths({ HAGW_DOCTOR_ROOT: root });
      const m = planPreview(plan, { paths });
      expect(m.confirmWord).toBe('apply');
      expect(m.irreversible).toEqual([expect.stringContaining('conntrack')]);
      expect(m.backup).toEqual([
        'iptables table raw (iptables-save -t raw)',
        'file /etc/iptables/rules.v4 (content, mode, owner)',
        'file /etc/old (content, mode, owner)',
      ]);
      expect(m.steps[2]!.label).toBe(`sh -c 'echo '\\''a b'\\'''`);
      expect(m.steps[3]).toMatchObject({
        kind: 'write',
        mode: '0600',
        fileIsNew: false,
        diff: '--- a/etc/iptables/rules.v4\n+++ b/etc/iptables/rules.v4\n@@ -1,2 +1,3 @@\n *raw\n+-A PREROUTING -p vrrp -j CT --notrack\n COMMIT\n',
      });
      expect(m.steps[4]).toMatchObject({ kind: 'remove', fileIsNew: true, diff: '' });
      const text = renderPreview(m);
      expect(text).toContain('Risk: disruptive');
      expect(text).toContain('1. conntrack -D -p 112   (optional: a failure is tolerated)');
      expect(text).toContain('undo: iptables -t raw -D PREROUTING -p vrrp -j CT --notrack');
      expect(text).toContain('3. sh -c');
      expect(text).toMatch(/3\. .*\n {5}undo: none of its own/);
      expect(text).toContain('Cannot be undone:');
      expect(text).toContain('remove /etc/old (already absent)');
      expect(text).not.toContain('\x1b[');
      expect(renderPreview(m, { color: true })).toContain('\x1b[');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
