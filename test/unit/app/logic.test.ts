import { describe, expect, it } from 'vitest';
import {
  QUESTIONS,
  activeQuestions,
  defaultExclusions,
  freeVrid,
  generateCommandLine,
  generateFlags,
  peerAnswers,
  type HostDefaults,
  type SetupAnswers,
} from '../../../src/app/logic/setup.js';
import { displayOrder, failoverFindings, groupBySeverity } from '../../../src/app/logic/findings.js';
import { planPreview } from '../../../src/change/preview.js';
import { previewFromModel } from '../../../src/app/logic/preview.js';
import { installPlanFor } from '../../../src/app/logic/install.js';
import { FORWARD_FIX, FORWARD_OFF, NOTRACK, SNAPSHOT, SPLIT_BRAIN, report } from './helpers.js';

const host: HostDefaults = {
  interfaces: [
    { name: 'lo', ipv4: ['127.0.0.1/8'], internal: true },
    { name: 'eth0', ipv4: ['10.1.0.5/24'], internal: false },
    { name: 'eth1', ipv4: ['203.0.113.5/24'], internal: false },
  ],
  vridsInUse: [51, 52],
};
const q = (id: keyof SetupAnswers) => QUESTIONS.find((x) => x.id === id)!;

const answers: SetupAnswers = {
  role: 'master',
  interface: 'eth0',
  vip: '10.1.0.1/24',
  self: '10.1.0.5',
  peer: '10.1.0.6',
  transport: 'unicast',
  vrid: '53',
  priority: '150',
  snatSource: '10.1.0.0/24',
  exclude: '100.64.0.0/10',
  wanInterface: 'eth1',
  wanVip: '203.0.113.10/24',
};

describe('setup form', () => {
  it('takes its defaults from the host: the first real interface, its address, a free VRID, its network', () => {
    expect(q('interface').defaultValue({}, host)).toBe('eth0');
    expect(q('self').defaultValue({ interface: 'eth0' }, host)).toBe('10.1.0.5');
    expect(q('vrid').defaultValue({}, host)).toBe('53');
    expect(q('priority').defaultValue({ role: 'backup' }, host)).toBe('100');
    expect(q('snatSource').defaultValue({ interface: 'eth0' }, host)).toBe('10.1.0.0/24');
    expect(q('wanInterface').defaultValue({ interface: 'eth0' }, host)).toBe('eth1');
  });

  it('excludes 10/8 unless the LAN is inside it; 100.64/10 always', () => {
    expect(defaultExclusions('10.1.0.5/24')).toBe('100.64.0.0/10');
    expect(defaultExclusions('192.168.1.2/24')).toBe('100.64.0.0/10,10.0.0.0/8');
  });

  it.each([
    ['vip', '10.1.0.1', {}, /ADDRESS\/PREFIX/],
    ['self', '10.1.0.9', { interface: 'eth0' }, /eth0 has 10.1.0.5/],
    ['self', '10.1.0.1', { interface: 'eth0', vip: '10.1.0.1/24' }, /VIP/],
    ['peer', '10.1.0.5', { self: '10.1.0.5' }, /cannot be this node/],
    ['peer', '999.1.1.1', {}, /not an IPv4/],
    ['vrid', '52', {}, /already in use/],
    ['vrid', '256', {}, /1 to 255/],
    ['priority', '255', {}, /1 to 254/],
    ['snatSource', '10.0.0.0/8, nope', {}, /not a CIDR: nope/],
    ['interface', 'eth9', {}, /no interface eth9/],
    ['wanInterface', 'eth0', { interface: 'eth0' }, /must differ/],
  ] as const)('refuses bad values with a reason: %s %j (given %j): %s', (question, value, answers, reason) => {
    expect(q(question).validate(value, answers as Record<string, string>, host)).toMatch(reason);
  });

  it('takes a good value without a word', () => {
    expect(q('vip').validate('10.1.0.1/24', {}, host)).toBeUndefined();
  });

  it('skips the SNAT questions when there is nothing to SNAT', () => {
    expect(activeQuestions({ snatSource: 'none' }).map((x) => x.id)).not.toContain('wanVip');
    expect(activeQuestions({}).map((x) => x.id)).toContain('wanVip');
  });

  it('builds the generate flags and the exact command for the peer', () => {
    expect(generateFlags(answers)).toEqual({
      role: 'master',
      interface: 'eth0',
      vip: '10.1.0.1/24',
      self: '10.1.0.5',
      peer: '10.1.0.6',
      vrid: '53',
      priority: '150',
      snatSource: '10.1.0.0/24',
      exclude: '100.64.0.0/10',
      wanInterface: 'eth1',
      wanVip: '203.0.113.10/24',
    });
    const peer = peerAnswers(answers);
    expect(peer).toMatchObject({ role: 'backup', self: '10.1.0.6', peer: '10.1.0.5', priority: '100' });
    expect(generateCommandLine(generateFlags(peer), './hagw-backup')).toBe(
      'hagw-doctor generate --role backup --interface eth0 --vip 10.1.0.1/24 --self 10.1.0.6 --peer 10.1.0.5 --vrid 53 --priority 100 --snat-source 10.1.0.0/24 --exclude 100.64.0.0/10 --wan-interface eth1 --wan-vip 203.0.113.10/24 --out ./hagw-backup',
    );
    expect(generateCommandLine(generateFlags({ ...answers, transport: 'multicast', snatSource: 'none' }), 'my dir')).toBe(
      "hagw-doctor generate --role master --interface eth0 --vip 10.1.0.1/24 --self 10.1.0.5 --peer 10.1.0.6 --vrid 53 --priority 150 --multicast --out 'my dir'",
    );
    expect(peerAnswers({ ...answers, role: 'backup', priority: '120' }).priority).toBe('170');
  });

  it('finds a free VRID from 51 up', () => {
    expect(freeVrid([])).toBe(51);
    expect(freeVrid([51, 52, 53])).toBe(54);
  });
});

describe('findings views', () => {
  it('groups worst first and orders the failover findings by what explains a failover first', () => {
    expect(groupBySeverity([NOTRACK, FORWARD_OFF]).map((g) => g.severity)).toEqual(['critical', 'info']);
    expect(displayOrder([NOTRACK, FORWARD_OFF])[0]).toBe(FORWARD_OFF);
    expect(failoverFindings(report([FORWARD_OFF, NOTRACK, SPLIT_BRAIN])).map((f) => f.code)).toEqual([
      'vrrp-split-brain',
      'vrrp-notrack-missing',
      'ip-forward-off',
    ]);
  });

  // the app's preview is the engine's (one place), here against the files a snapshot recorded
  const planPreviewLines = (plan: typeof FORWARD_FIX, snapshot: typeof SNAPSHOT) => previewFromModel(planPreview(plan, { recorded: snapshot })).lines;

  it('previews a plan through the engine: exact argv, undo, and a diff against the recorded file', () => {
    const lines = planPreviewLines(FORWARD_FIX, SNAPSHOT).map((l) => l.text);
    // the engine's words: a sysctl step is skipped when the key already has the value; its undo is the value right before
    expect(lines).toContain('   $ sysctl -w net.ipv4.ip_forward=1   (skipped if it is 1 already)');
    expect(lines).toContain('   undo: sysctl -w net.ipv4.ip_forward=<the value it has right before>');
    expect(lines).toContain('   +net.ipv4.ip_forward = 1');
    const withFile = {
      ...SNAPSHOT,
      probes: {
        ...SNAPSHOT.probes,
        'file:/etc/sysctl.d/90-hagw-doctor.conf': {
          id: 'x',
          kind: 'file' as const,
          status: 'ok' as const,
          stdout: 'net.ipv4.ip_forward = 0\n',
          stderr: '',
          ms: 0,
        },
      },
    };
    const diff = planPreviewLines(FORWARD_FIX, withFile).map((l) => l.text);
    expect(diff).toContain('   -net.ipv4.ip_forward = 0');
  });
});

describe('install plan', () => {
  const files = [
    { path: 'keepalived.conf', content: 'x', mode: 0o644, installAs: '/etc/keepalived/keepalived.conf' },
    { path: 'scripts/notify_master.sh', content: '#!/bin/sh', mode: 0o755, installAs: '/etc/keepalived/scripts/notify_master.sh' },
    { path: 'sysctl.conf', content: 'net.ipv4.ip_forward = 1\n', mode: 0o644, installAs: '/etc/sysctl.d/90-hagw-doctor.conf' },
    { path: 'rules.v4', content: '*raw\n-I PREROUTING -p vrrp -j CT --notrack\nCOMMIT\n', mode: 0o644 },
    { path: 'INSTALL.md', content: '#', mode: 0o644 },
  ];
  it('writes each generated file where it is installed, then sets sysctls, adds each rule by content, checks and restarts', () => {
    const plan = installPlanFor(files);
    expect(plan.risk).toBe('disruptive');
    expect(plan.touches.files).toEqual([
      '/etc/keepalived/keepalived.conf',
      '/etc/keepalived/scripts/notify_master.sh',
      '/etc/sysctl.d/90-hagw-doctor.conf',
      '/etc/keepalived/hagw-doctor.rules.v4',
    ]);
    const argv = plan.steps.filter((s) => 'argv' in s).map((s) => ('argv' in s ? s.argv.join(' ') : ''));
    expect(argv).toEqual([
      'true',
      'sysctl -w net.ipv4.ip_forward=1',
      'iptables -w -t raw -I PREROUTING 1 -p vrrp -j CT --notrack',
      'keepalived -t -f /etc/keepalived/keepalived.conf',
      'systemctl restart keepalived',
    ]);
    // the restart is undone last, after the files are restored
    expect(plan.steps[0]).toMatchObject({ undo: [['systemctl', 'restart', 'keepalived']] });
    expect(plan.steps.find((s) => 'argv' in s && s.argv[0] === 'iptables')).toMatchObject({ rule: { op: 'insert', table: 'raw', chain: 'PREROUTING' } });
  });
  it('inside a network namespace without keepalived: no host service, and says what to run', () => {
    const plan = installPlanFor(files, { kind: 'none', how: 'start it yourself, e.g. `ip netns exec gw1 keepalived -f /etc/keepalived/keepalived.conf`' });
    const argv = plan.steps.filter((s) => 'argv' in s).map((s) => ('argv' in s ? s.argv[0] : ''));
    expect(argv).not.toContain('systemctl');
    expect(argv).not.toContain('service');
    expect(plan.persistence.how).toContain('ip netns exec gw1 keepalived');
    expect(plan.verifies).toEqual(['keepalived-config-invalid']);
  });
  it('inside a namespace with its own keepalived: reloaded by signal, the way it runs', () => {
    const plan = installPlanFor(files, { kind: 'signal', argv: ['kill', '-HUP', '4242'], how: "reload network namespace gw1's keepalived (pid 4242)" });
    expect(plan.steps.at(-1)).toMatchObject({ argv: ['kill', '-HUP', '4242'] });
  });
});
