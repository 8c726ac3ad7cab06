import { describe, expect, it } from 'vitest';
import type { FixPlan } from '../../../src/types.js';
import { sharedFilePlan } from '../../../src/netfilter/fixes.js';

const plan = (peer: string, content: string): FixPlan => ({
  summary: `accept VRRP from ${peer}`,
  risk: 'disruptive',
  steps: [
    { argv: ['ufw', 'status'], undo: [['ufw', 'reload']], why: 'ufw answers' },
    { write: { path: '/etc/ufw/before.rules', content, mode: 0o640 }, why: 'ufw rebuilds from it' },
    { argv: ['ufw', 'reload'], undo: [], why: 'ufw applies it' },
  ],
  touches: { files: ['/etc/ufw/before.rules'], iptables: ['filter'] },
  persistence: { persistent: true, how: '/etc/ufw/before.rules' },
  verifies: ['vrrp-input-blocked'],
});

describe('sharedFilePlan', () => {
  it('keeps each step once, in order, and one write per file: the last, which holds every edit', () => {
    const shared = sharedFilePlan([plan('10.0.0.2', 'A\n'), plan('10.0.0.3', 'A\nB\n')]);
    expect(shared.steps.map((s) => ('write' in s ? `write ${s.write.content}` : 'argv' in s ? s.argv.join(' ') : ''))).toEqual([
      'ufw status',
      'write A\nB\n',
      'ufw reload',
    ]);
    expect(shared.summary).toBe('accept VRRP from 10.0.0.2; accept VRRP from 10.0.0.3');
    expect(shared.touches).toEqual({ iptables: ['filter'], files: ['/etc/ufw/before.rules'] });
    expect(shared.verifies).toEqual(['vrrp-input-blocked']);
    expect(shared.risk).toBe('disruptive');
  });
});
