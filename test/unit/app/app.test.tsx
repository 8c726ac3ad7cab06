import React from 'react';
import type { Finding } from '../../../src/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import chalk from 'chalk';
import { cleanup, render } from 'ink-testing-library';
import { App } from '../../../src/app/app.js';
import { Session } from '../../../src/app/session.js';
import { FORWARD_OFF, KEYS, NOTRACK, SPLIT_BRAIN, fakeServices, report, waitFor, type FakeOptions } from './helpers.js';

afterEach(() => cleanup());

function start(o: FakeOptions, color = false) {
  const services = fakeServices(o);
  const session = new Session(services);
  let exited = false;
  const r = render(<App session={session} color={color} onExit={() => (exited = true)} />);
  void session.diagnose();
  return { ...r, services, session, exited: () => exited };
}

async function press(stdin: { write(s: string): void }, lastFrame: () => string | undefined, key: string, until: string) {
  stdin.write(key);
  return waitFor(lastFrame, until);
}

describe('home', () => {
  it('shows host, keepalived version, role per instance, VIPs held, and four actions with Diagnose focused', async () => {
    const { lastFrame } = start({ reports: [report([FORWARD_OFF])] });
    const frame = await waitFor(lastFrame, 'keepalived 2.2.7');
    expect(frame).toContain('hagw-doctor · gw1');
    expect(frame).toContain('MASTER');
    expect(frame).toContain('VI_1 MASTER (holds 192.168.100.1)');
    expect(frame).toMatch(/› Diagnose this gateway/);
    for (const a of ['Set up a new HA pair', 'Failover triage', 'Generate configs']) expect(frame).toContain(a);
    expect(frame).toMatch(/↑↓\/jk move · Enter start · \? help · h home · q quit/);
  });

  it('on a host where no keepalived runs, says so plainly and points at the demo', async () => {
    const notRunning: Finding = { code: 'keepalived-not-running', severity: 'critical', title: 'keepalived is not running here', detail: 'd', evidence: [] };
    const { lastFrame } = start({ reports: [report([notRunning], { instances: [], role: 'unknown' })] });
    const frame = await waitFor(lastFrame, 'does not look like an HA gateway');
    expect(frame).toContain('hagw-doctor demo');
    expect(frame).not.toContain('choose Diagnose');
    // a gateway with a problem is not mistaken for a bare host
    const gw = start({ reports: [report([FORWARD_OFF])] });
    expect(await waitFor(gw.lastFrame, 'choose Diagnose')).not.toContain('does not look like');
  });

  it('moves with j/k and arrows', async () => {
    const { lastFrame, stdin } = start({ reports: [report([])] });
    await waitFor(lastFrame, 'Diagnose this gateway');
    await press(stdin, lastFrame, 'j', '› Set up a new HA pair');
    await press(stdin, lastFrame, KEYS.down, '› Failover triage');
    await press(stdin, lastFrame, 'k', '› Set up a new HA pair');
  });

  it('opens help with ? and closes it with Esc; q quits', async () => {
    const r = start({ reports: [report([])] });
    await waitFor(r.lastFrame, 'Diagnose this gateway');
    await press(r.stdin, r.lastFrame, '?', 'Keys (keyboard only)');
    await press(r.stdin, r.lastFrame, KEYS.esc, 'What do you want to do?');
    r.stdin.write('q');
    await waitFor(() => String(r.exited()), 'true');
  });

  it('has no colour codes when colour is off, and colour when on', async () => {
    const off = start({ reports: [report([FORWARD_OFF])] }, false);
    const f = await waitFor(off.lastFrame, 'keepalived 2.2.7');
    expect(f).not.toMatch(/\u001b\[3\dm/);
    // Ink's chalk found no colour terminal under vitest: give it one, as a real TTY would
    const level = chalk.level;
    chalk.level = 1;
    try {
      const on = start({ reports: [report([FORWARD_OFF])] }, true);
      await waitFor(on.lastFrame, (fr) => /\u001b\[3\dm/.test(fr) && fr.includes('keepalived 2.2.7'));
      const off2 = start({ reports: [report([FORWARD_OFF])] }, false);
      const f2 = await waitFor(off2.lastFrame, 'keepalived 2.2.7');
      expect(f2).not.toMatch(/\u001b\[3\dm/);
    } finally {
      chalk.level = level;
    }
  });
});

describe('diagnose', () => {
  it('shows progress while collecting, then finished rows (errors in their row) and findings worst first', async () => {
    const r = start({ reports: [report([NOTRACK, FORWARD_OFF])], holdCollect: true });
    await waitFor(r.lastFrame, 'Diagnose this gateway');
    r.stdin.write(KEYS.enter);
    const progress = await waitFor(r.lastFrame, 'collecting from this host');
    expect(progress).toContain('IPv4 forwarding');
    r.services.release();
    const frame = await waitFor(r.lastFrame, 'CRITICAL (1)');
    expect(frame).toMatch(/✗ IPv4 forwarding/);
    expect(frame).toMatch(/✗ VRRP conntrack entries\s+check failed: parser exploded/);
    expect(frame).toMatch(/✓ keepalived running/);
    expect(frame.indexOf('CRITICAL (1)')).toBeLessThan(frame.indexOf('INFO (1)'));
    expect(frame).toMatch(/› ip-forward-off/);
  });

  it('opens a finding: what is wrong, why it matters, evidence, fix', async () => {
    const r = start({ reports: [report([FORWARD_OFF])] });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'CRITICAL (1)');
    const f = await press(r.stdin, r.lastFrame, KEYS.enter, 'Why it matters');
    expect(f).toContain('What is wrong');
    expect(f).toContain('[sysctl:net.ipv4.ip_forward] net.ipv4.ip_forward = 0');
    expect(f).toContain('$ sysctl -w net.ipv4.ip_forward=1');
  });

  it('fix: a problem fixed meanwhile (elsewhere) is nothing to do: the plan is checked against the host first, nothing applied', async () => {
    const r = start({ reports: [report([FORWARD_OFF]), report([])] });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'CRITICAL (1)');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Why it matters');
    await press(r.stdin, r.lastFrame, 'f', 'Fix ip-forward-off');
    await waitFor(r.lastFrame, '+net.ipv4.ip_forward = 1');
    await press(r.stdin, r.lastFrame, 'a', 'Apply these 2 step(s) now? (y/n)');
    const done = await press(r.stdin, r.lastFrame, 'y', 'Nothing to do: already fixed.');
    expect(done).toContain('no longer reported on this host');
    expect(r.services.applied).toHaveLength(0);
  });

  it('fix: preview, confirm, apply with step progress, re-check shows it gone', async () => {
    const r = start({ reports: [report([FORWARD_OFF]), report([FORWARD_OFF]), report([])] });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'CRITICAL (1)');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Why it matters');
    await press(r.stdin, r.lastFrame, 'f', 'Fix ip-forward-off');
    const preview = await waitFor(r.lastFrame, '+net.ipv4.ip_forward = 1');
    expect(preview).toContain('risk: safe');
    expect(preview).toContain('persistence: survives a reboot');
    expect(preview).toContain('$ sysctl -w net.ipv4.ip_forward=1');
    // the engine's own preview: a sysctl step's undo is the value the key has right before it
    expect(preview).toContain('undo: sysctl -w net.ipv4.ip_forward=<the value it has right before>');
    await press(r.stdin, r.lastFrame, 'a', 'Apply these 2 step(s) now? (y/n)');
    const done = await press(r.stdin, r.lastFrame, 'y', 'Applied. ip-forward-off is gone from the re-check.');
    expect(done).toMatch(/✓ 2\/2 step 2/);
    expect(r.services.applied).toHaveLength(1);
    const list = await press(r.stdin, r.lastFrame, KEYS.esc, 'No problems found');
    expect(list).not.toContain('ip-forward-off  IPv4');
  });

  it('a disruptive fix needs the typed word; a wrong word applies nothing', async () => {
    const r = start({ reports: [report([SPLIT_BRAIN]), report([])] });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'CRITICAL (1)');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Why it matters');
    await press(r.stdin, r.lastFrame, 'f', 'risk: disruptive (can cut');
    await waitFor(r.lastFrame, '$ iptables -I INPUT');
    await press(r.stdin, r.lastFrame, 'a', 'Type "apply"');
    r.stdin.write('yes');
    await waitFor(r.lastFrame, '> yes');
    await press(r.stdin, r.lastFrame, KEYS.enter, '"yes" is not "apply"');
    expect(r.services.applied).toHaveLength(0);
    // q while typing is text, not quit
    r.stdin.write('q');
    await waitFor(r.lastFrame, '"yes" is not');
    expect(r.exited()).toBe(false);
  });

  it('over SSH offers commit-confirmed and keeps the change on Enter', async () => {
    const r = start({ reports: [report([FORWARD_OFF]), report([FORWARD_OFF]), report([])], ssh: true });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'CRITICAL (1)');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Why it matters');
    await press(r.stdin, r.lastFrame, 'f', 'commit-confirmed: on');
    await waitFor(r.lastFrame, '+net.ipv4.ip_forward = 1');
    await press(r.stdin, r.lastFrame, 'a', 'Apply these');
    await press(r.stdin, r.lastFrame, 'y', 'press Enter to keep it');
    expect(r.services.applied[0]!.confirmTimeout).toBe(120);
    await press(r.stdin, r.lastFrame, KEYS.enter, 'change 1 confirmed');
  });

  it('demo mode shows the fix and never applies it', async () => {
    const r = start({ reports: [report([FORWARD_OFF])], demo: true });
    await waitFor(r.lastFrame, 'DEMO');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'CRITICAL (1)');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Why it matters');
    await press(r.stdin, r.lastFrame, 'f', 'demo: not applied');
    r.stdin.write('a');
    r.stdin.write(KEYS.enter);
    await waitFor(r.lastFrame, 'demo: not applied');
    expect(r.lastFrame()).not.toContain('Apply these');
    expect(r.services.apply).toBeUndefined();
  });

  it('Ctrl+C during an apply waits for the engine before exiting', async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((res) => (open = res));
    const r = start({ reports: [report([FORWARD_OFF]), report([FORWARD_OFF]), report([])], applyGate: gate });
    // the app cancels through the engine's AbortSignal: no process signal is sent
    const sigint = () => {
      throw new Error('the app sent SIGINT to itself');
    };
    process.on('SIGINT', sigint);
    try {
      await waitFor(r.lastFrame, 'keepalived 2.2.7');
      await press(r.stdin, r.lastFrame, KEYS.enter, 'CRITICAL (1)');
      await press(r.stdin, r.lastFrame, KEYS.enter, 'Why it matters');
      await press(r.stdin, r.lastFrame, 'f', 'Fix ip-forward-off');
      await waitFor(r.lastFrame, '+net.ipv4.ip_forward = 1');
      await press(r.stdin, r.lastFrame, 'a', 'Apply these');
      await press(r.stdin, r.lastFrame, 'y', 'applying through the change engine');
      expect(r.services.applied[0]!.signal?.aborted).toBe(false);
      r.stdin.write(KEYS.ctrlC);
      await waitFor(r.lastFrame, 'stopping after the current step');
      expect(r.services.applied[0]!.signal?.aborted).toBe(true);
      expect(r.exited()).toBe(false);
      open();
      await waitFor(() => String(r.exited()), 'true');
    } finally {
      process.off('SIGINT', sigint);
    }
  });

  it('r runs the checks again', async () => {
    const r = start({ reports: [report([FORWARD_OFF]), report([])] });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'CRITICAL (1)');
    await press(r.stdin, r.lastFrame, 'r', 'No problems found');
  });
});

describe('diagnose with a peer (--peer HOST)', () => {
  const PEER_SPLIT: Finding = { ...SPLIT_BRAIN, node: 'gw2.lab', title: 'VI_1: both nodes hold 192.168.100.1' };
  it.each([
    [
      'reachable: the two nodes side by side, each finding marked with its node',
      {
        host: 'gw2.lab',
        reachable: true,
        via: 'ssh' as const,
        hostname: 'gw2',
        role: 'master' as const,
        instances: [
          {
            name: 'VI_1',
            state: 'MASTER' as const,
            source: 'log' as const,
            since: '2025-01-01T00:00:09',
            vips: ['192.168.100.1'],
            vipsHeld: ['192.168.100.1'],
          },
        ],
      },
      [
        'Pair',
        'this node (gw1)',
        'peer gw2.lab (gw2), via ssh',
        'MASTER since 2025-01-01T00:00:00',
        'MASTER since 2025-01-01T00:00:09',
        'holds 192.168.100.1',
        'PAIR',
        'vrrp-split-brain · peer gw2.lab',
      ],
    ],
    [
      "unreachable: the reason, and the findings are this node's only",
      { host: 'gw2.lab', reachable: false, via: 'ssh' as const, reason: 'ssh: connect to host gw2.lab port 22: Connection refused' },
      ['PEER UNREACHABLE', 'not reachable', 'Connection refused', "The findings below are this node's only."],
    ],
  ])('%s', async (_what, peer, wants) => {
    const findings = peer.reachable ? [{ ...FORWARD_OFF, node: 'local' }, PEER_SPLIT] : [FORWARD_OFF];
    const r = start({ reports: [report(findings, { peer })] });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    const frame = await press(r.stdin, r.lastFrame, KEYS.enter, peer.reachable ? 'findings' : 'not reachable');
    for (const w of wants) expect(frame).toContain(w);
    // findings per node: one each side when reachable
    if (peer.reachable) expect(frame).toMatch(/findings\s+1 critical\s+1 critical/);
  });

  it('without a peer, no pair block', async () => {
    const r = start({ reports: [report([FORWARD_OFF])] });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    const frame = await press(r.stdin, r.lastFrame, KEYS.enter, 'CRITICAL (1)');
    expect(frame).not.toContain('Pair');
    expect(frame).not.toContain('peer');
  });
});

describe('triage', () => {
  it('shows state since when, VIPs held, and the findings that explain a failover, one key from the fix', async () => {
    const r = start({ reports: [report([NOTRACK, SPLIT_BRAIN])] });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    r.stdin.write('j');
    await waitFor(r.lastFrame, '› Set up');
    r.stdin.write('j');
    await waitFor(r.lastFrame, '› Failover triage');
    const f = await press(r.stdin, r.lastFrame, KEYS.enter, 'What explains a failover here');
    expect(f).toContain('VI_1: MASTER since 2025-01-01T00:00:00');
    expect(f).toContain('VIPs held by this node: 192.168.100.1');
    expect(f.indexOf('vrrp-split-brain')).toBeLessThan(f.indexOf('vrrp-notrack-missing'));
    await press(r.stdin, r.lastFrame, 'f', 'risk: disruptive (can cut');
  });

  it('w listens on the wire and shows who advertises each VRID', async () => {
    const r = start({ reports: [report([SPLIT_BRAIN])] });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    r.stdin.write('j');
    await waitFor(r.lastFrame, '› Set up');
    r.stdin.write('j');
    await waitFor(r.lastFrame, '› Failover triage');
    const before = await press(r.stdin, r.lastFrame, KEYS.enter, 'What explains a failover here');
    expect(before).toContain('w: listen for its adverts on the wire');
    const f = await press(r.stdin, r.lastFrame, 'w', 'On the wire');
    expect(f).toContain('vrid 51: 10.9.9.9 prio 150');
    expect(r.services.collected.at(-1)).toEqual({ wire: true });
  });
});

describe('setup', () => {
  it('validates each step, takes defaults from the host, reviews files, writes them, and prints the peer command', async () => {
    const r = start({ reports: [report([])] });
    await waitFor(r.lastFrame, 'keepalived 2.2.7');
    r.stdin.write('j');
    await waitFor(r.lastFrame, '› Set up');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Role of this node');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'LAN interface');
    expect(r.lastFrame()).toContain('192.168.100.2/24');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'LAN VIP');
    r.stdin.write('not-an-ip');
    await waitFor(r.lastFrame, 'not-an-ip');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'write ADDRESS/PREFIX');
    for (let i = 0; i < 9; i++) r.stdin.write('\u007f');
    await waitFor(r.lastFrame, (f) => !f.includes('not-an-ip'));
    r.stdin.write('192.168.100.1/24');
    await waitFor(r.lastFrame, '192.168.100.1/24');
    await press(r.stdin, r.lastFrame, KEYS.enter, "This node's address");
    const self = r.lastFrame()!;
    expect(self).toContain('> 192.168.100.2');
    await press(r.stdin, r.lastFrame, KEYS.enter, "The peer's address");
    r.stdin.write('192.168.100.3');
    await waitFor(r.lastFrame, '> 192.168.100.3');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'How adverts travel');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Virtual router id');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'VRRP priority');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Client networks to SNAT');
    expect(r.lastFrame()).toContain('> 192.168.100.0/24');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Destinations never SNATed');
    expect(r.lastFrame()).toContain('100.64.0.0/10,10.0.0.0/8');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'WAN interface');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'SNAT address');
    r.stdin.write('203.0.113.10/24');
    await waitFor(r.lastFrame, '203.0.113.10/24');
    // a new pair: both halves are reviewed, this node's files and then the peer's
    const review = await press(r.stdin, r.lastFrame, KEYS.enter, 'review 1/4: this node: keepalived.conf');
    expect(review).toContain('virtual_router_id 51');
    expect(review).toContain('state MASTER');
    expect(review).toContain('both halves of the pair: this node (master) and the peer 192.168.100.3');
    await press(r.stdin, r.lastFrame, KEYS.right, 'review 2/4: this node: INSTALL.md');
    const peerHalf = await press(r.stdin, r.lastFrame, KEYS.right, 'review 3/4: peer 192.168.100.3: keepalived.conf');
    expect(peerHalf).toContain('state BACKUP');
    expect(peerHalf).toContain('virtual_router_id 51');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Write the files to a directory');
    expect(r.lastFrame()).toContain('Install them on this host');
    await press(r.stdin, r.lastFrame, KEYS.enter, 'Directory to write');
    const done = await press(r.stdin, r.lastFrame, KEYS.enter, 'On the peer (192.168.100.3), run:');
    expect(r.services.written[0]!.dir).toBe('./hagw-master');
    expect(r.services.written[0]!.raw).toMatchObject({
      role: 'master',
      interface: 'eth0',
      vip: '192.168.100.1/24',
      self: '192.168.100.2',
      peer: '192.168.100.3',
      vrid: '51',
      priority: '150',
      snatSource: '192.168.100.0/24',
      wanInterface: 'eth1',
      wanVip: '203.0.113.10/24',
    });
    expect(done.replace(/\n/g, ' ')).toContain(
      'hagw-doctor generate --role backup --interface eth0 --vip 192.168.100.1/24 --self 192.168.100.3 --peer 192.168.100.2 --vrid 51 --priority 100',
    );
  });
});

describe('80x24', () => {
  it('every screen fits in 23 rows (Ink clears a terminal it fills) and the footer stays on screen', async () => {
    const r = start({ reports: [report([FORWARD_OFF, NOTRACK, SPLIT_BRAIN])] });
    const fits = (f: string) => f.split('\n').length <= 23 && /q quit|Ctrl\+C quit|close|back/.test(f.split('\n').at(-1) ?? '');
    const dyn = (f: string) =>
      f
        .split('\n')
        .filter((l) => !/^[✓✗!-] /.test(l))
        .join('\n');
    expect(fits(dyn(await waitFor(r.lastFrame, 'keepalived 2.2.7')))).toBe(true);
    expect(fits(dyn(await press(r.stdin, r.lastFrame, KEYS.enter, 'CRITICAL (2)')))).toBe(true);
    expect(fits(dyn(await press(r.stdin, r.lastFrame, KEYS.enter, 'Why it matters')))).toBe(true);
    await press(r.stdin, r.lastFrame, 'f', 'Fix ');
    expect(fits(dyn(await waitFor(r.lastFrame, '$ ')))).toBe(true);
  });
});
