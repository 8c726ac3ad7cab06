// generate --install-peer: the other member's options mirror this one's; the peer-side
// install-generated takes only known keys of bounded JSON; what the peer prints is cleaned and its
// plan fingerprint read strictly; and the CLI refuses bad combinations in one line.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { validateGenerateInput } from '../../../src/generate/validate.js';
import { peerMemberSpec, planOf, cleanPeerText } from '../../../src/generate/peer.js';
import { parseMemberSpec, planFingerprint, MAX_SPEC_BYTES } from '../../../src/generate/install.js';
import type { FixPlan } from '../../../src/types.js';

const base = {
  role: 'master',
  interface: 'eth0',
  vip: '192.168.100.1/24',
  self: '192.168.100.2',
  peer: '192.168.100.3',
  wanInterface: 'eth1',
  wanVip: '198.51.100.10/24',
  authPass: 'labpass',
  out: '/tmp/x',
};

function input(raw: Record<string, unknown>) {
  const v = validateGenerateInput(raw);
  if (!v.ok) throw new Error(v.error);
  return v.value;
}

describe('peerMemberSpec', () => {
  it('mirrors role, addresses and priorities, and renders a member the peer validates as its own', () => {
    const spec = peerMemberSpec(input({ ...base, priority: '200' }), { ...base, priority: '200' });
    expect(spec).toMatchObject({
      role: 'backup',
      self: '192.168.100.3',
      peer: '192.168.100.2',
      priority: '100',
      peerPriority: '200',
      interface: 'eth0',
      wanInterface: 'eth1',
      authPass: 'labpass',
    });
    const theirs = validateGenerateInput({ ...spec, out: '/tmp/y' });
    expect(theirs.ok).toBe(true);
    if (theirs.ok)
      expect(theirs.value).toMatchObject({ role: 'backup', self: '192.168.100.3', priority: 100, vrid: 51, wanVip: { address: '198.51.100.10', prefix: 24 } });
  });

  it('takes the peer interface names and IPv6 addresses mirrored', () => {
    const raw = { ...base, role: 'backup', peerInterface: 'ens3', peerWanInterface: 'ens4', vip6: 'fd00::1/64', self6: 'fd00::2', peer6: 'fd00::3' };
    const spec = peerMemberSpec(input(raw), raw);
    expect(spec).toMatchObject({
      role: 'master',
      interface: 'ens3',
      wanInterface: 'ens4',
      self6: 'fd00::3',
      peer6: 'fd00::2',
      priority: '150',
      peerPriority: '100',
    });
  });
});

describe('install-generated input', () => {
  it('takes an object of known keys with string or boolean values, nothing else', () => {
    expect(parseMemberSpec(JSON.stringify({ role: 'backup', multicast: false }))).toEqual({ ok: true, spec: { role: 'backup', multicast: false } });
    expect(parseMemberSpec('not json')).toMatchObject({ ok: false, error: expect.stringMatching(/not JSON/) });
    expect(parseMemberSpec('[1]')).toMatchObject({ ok: false, error: expect.stringMatching(/not a JSON object/) });
    expect(parseMemberSpec(JSON.stringify({ out: '/etc' }))).toMatchObject({ ok: false, error: expect.stringMatching(/unknown key "out"/) });
    expect(parseMemberSpec(JSON.stringify({ __proto__x: 1 }))).toMatchObject({ ok: false });
    expect(parseMemberSpec(JSON.stringify({ role: { x: 1 } }))).toMatchObject({ ok: false, error: expect.stringMatching(/role is not a string/) });
    expect(parseMemberSpec(JSON.stringify({ role: 'x'.repeat(MAX_SPEC_BYTES) }))).toMatchObject({ ok: false, error: expect.stringMatching(/larger than/) });
  });

  it('fingerprints the plan and the files as shown: another file content is another plan', () => {
    const plan: FixPlan = {
      summary: 's',
      risk: 'disruptive',
      steps: [{ argv: ['true'] }],
      touches: {},
      persistence: { persistent: true, how: '' },
      verifies: [],
    };
    const a = planFingerprint(plan, { '/etc/keepalived/keepalived.conf': 'aa' });
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(planFingerprint(plan, { '/etc/keepalived/keepalived.conf': 'bb' })).not.toBe(a);
    expect(planFingerprint({ ...plan, steps: [{ argv: ['false'] }] }, { '/etc/keepalived/keepalived.conf': 'aa' })).not.toBe(a);
  });
});

describe("the peer's output", () => {
  it('is cleaned of terminal escapes and control characters; exactly one plan line counts', () => {
    expect(cleanPeerText('ok\x1b[2J\x1b]0;title\x07 done\r\n')).toBe('ok]0;title done\n');
    const p = `sha256:${'a'.repeat(64)}`;
    expect(planOf(`Plan: x\n\nplan ${p}\n`)).toBe(p);
    expect(planOf(`plan ${p}\nplan ${p}\n`)).toBeUndefined();
    expect(planOf(`  plan ${p}\n`)).toBeUndefined();
    expect(planOf('plan sha256:xyz\n')).toBeUndefined();
  });
});

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/hagw-doctor');
const run = (args: string[], input?: string) => {
  if (!existsSync(path.join(ROOT, 'dist/src/cli.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  return execa(process.execPath, [BIN, ...args], {
    reject: false,
    timeout: 60_000,
    env: { NO_COLOR: '1' },
    ...(input !== undefined ? { input } : { stdin: 'ignore' }),
  });
};
const gen = [
  'generate',
  '--role',
  'master',
  '--interface',
  'eth0',
  '--vip',
  '192.168.100.1/24',
  '--self',
  '192.168.100.2',
  '--peer',
  '192.168.100.3',
  '--out',
  '/nonexistent/out',
];

describe('CLI', () => {
  it('refuses --install-peer shell text and its options without it, in one line, before anything is written or ssh runs', async () => {
    for (const [args, re] of [
      [[...gen, '--install-peer', 'gw2;id'], /^hagw-doctor: --install-peer takes \[USER@\]HOST/],
      [[...gen, '--yes'], /^hagw-doctor: --yes goes with --install-peer HOST/],
      [[...gen, '--peer-interface', 'ens3'], /^hagw-doctor: --peer-interface goes with --install-peer HOST/],
      [[...gen, '--install-peer', 'gw2', '--ssh-config', '/nonexistent/cfg'], /^hagw-doctor: --ssh-config \/nonexistent\/cfg: no such file/],
      [[...gen, '--install-peer', 'gw2', '--confirm-timeout', '5'], /^hagw-doctor: --confirm-timeout takes whole seconds from 10 to 86400/],
    ] as const) {
      const r = await run([...args]);
      expect(r.exitCode).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
  });

  it('install-generated: a spec for another machine, or bad JSON, is refused with one line and nothing changed', async () => {
    const other = await run(
      ['install-generated', '--dry-run'],
      JSON.stringify({ role: 'backup', interface: 'eth0', vip: '192.0.2.1/24', self: '192.0.2.77', peer: '192.0.2.78' }),
    );
    expect(other.exitCode).toBe(3);
    expect(other.stderr).toMatch(
      /^hagw-doctor install-generated: 192\.0\.2\.77 is not an address of this node: this member is for another machine; nothing changed$/,
    );
    const bad = await run(['install-generated', '--dry-run'], '{"role":');
    expect(bad.exitCode).toBe(3);
    expect(bad.stderr).toMatch(/not JSON/);
    const plan = await run(['install-generated', '--yes', '--expect-plan', 'abc'], '{}');
    expect(plan.stderr).toMatch(/^hagw-doctor: --expect-plan takes sha256:HEX/);
  });
});
