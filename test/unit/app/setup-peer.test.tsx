// Set up a new pair with --peer: the peer's half installed through the peer's own hagw-doctor
// (a fake PeerInstaller): connecting (Esc cancels), its preview and plan, the typed consent
// (nothing applied without it), applying, its result; failures in one line; what is installed
// where; then "Check both nodes" diagnoses the pair. Without --peer, today's menu.
import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { App } from '../../../src/app/app.js';
import { Session } from '../../../src/app/session.js';
import type { PeerInstaller } from '../../../src/app/services.js';
import type { PeerApplied, PeerOpen, PeerPreview } from '../../../src/generate/peer.js';
import { initialSetupState, peerInstallFlags, setupReducer, type SetupAction } from '../../../src/app/hooks/use-setup.js';
import { KEYS, fakeServices, report, waitFor, type FakeServices } from './helpers.js';

afterEach(() => cleanup());

const PLAN = `sha256:${'ab'.repeat(32)}`;

/** A held promise the test resolves. */
function gate<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

interface FakePeer extends PeerInstaller {
  raw: Record<string, unknown>[];
  calls: string[];
  opened: ReturnType<typeof gate<PeerOpen>>;
  previewed: ReturnType<typeof gate<PeerPreview>>;
  applied: ReturnType<typeof gate<PeerApplied>>;
  confirmed: ReturnType<typeof gate<{ ok: boolean; message: string }>>;
}

function fakePeer(): FakePeer {
  const p: FakePeer = {
    host: 'gw2',
    raw: [],
    calls: [],
    opened: gate<PeerOpen>(),
    previewed: gate<PeerPreview>(),
    applied: gate<PeerApplied>(),
    confirmed: gate<{ ok: boolean; message: string }>(),
    open: () => (p.calls.push('open'), p.opened.promise),
    preview: () => (p.calls.push('preview'), p.previewed.promise),
    apply: (plan, o) => (p.calls.push(`apply ${plan}${o?.confirmTimeout ? ` --confirm-timeout ${o.confirmTimeout}` : ''}`), p.applied.promise),
    confirm: () => (p.calls.push('confirm'), p.confirmed.promise),
    close: async () => void p.calls.push('close'),
  };
  return p;
}

const PEER_REPORT = report([], {
  peer: {
    host: 'gw2',
    reachable: true,
    via: 'ssh',
    hostname: 'gw2',
    role: 'backup',
    instances: [{ name: 'VI_1', state: 'BACKUP', source: 'log', vips: ['192.168.100.1'], vipsHeld: [] }],
  },
});

function start(withPeer: boolean, o: { ssh?: boolean } = {}) {
  const services: FakeServices = fakeServices({ reports: [report([]), PEER_REPORT], ...(o.ssh ? { ssh: true } : {}) });
  const peers: FakePeer[] = [];
  if (withPeer) {
    services.peer = 'gw2';
    services.installOnPeer = (raw) => {
      const p = fakePeer();
      p.raw.push(raw);
      peers.push(p);
      return p;
    };
  }
  const session = new Session(services);
  const r = render(<App session={session} color={false} />);
  void session.diagnose();
  return { ...r, services, session, peers, current: () => peers.at(-1)! };
}

async function press(r: { stdin: { write(s: string): void }; lastFrame: () => string | undefined }, key: string, until: string | ((f: string) => boolean)) {
  r.stdin.write(key);
  return waitFor(r.lastFrame, until);
}

/** Through the questions (defaults, the VIPs and the peer typed) to the review, then the output menu. */
async function toOutputMenu(r: ReturnType<typeof start>) {
  await waitFor(r.lastFrame, 'keepalived 2.2.7');
  await press(r, 'j', '› Set up');
  await press(r, KEYS.enter, 'Role of this node');
  await press(r, KEYS.enter, 'LAN interface');
  await press(r, KEYS.enter, 'LAN VIP');
  r.stdin.write('192.168.100.1/24');
  await waitFor(r.lastFrame, '> 192.168.100.1/24');
  await press(r, KEYS.enter, "This node's address");
  await press(r, KEYS.enter, "The peer's address");
  r.stdin.write('192.168.100.3');
  await waitFor(r.lastFrame, '> 192.168.100.3');
  for (const next of [
    'How adverts travel',
    'Virtual router id',
    'VRRP priority',
    'Client networks to SNAT',
    'Destinations never SNATed',
    'WAN interface',
    'SNAT address',
  ])
    await press(r, KEYS.enter, next);
  r.stdin.write('203.0.113.10/24');
  await waitFor(r.lastFrame, '> 203.0.113.10/24');
  await press(r, KEYS.enter, 'review 1/4');
  return press(r, KEYS.enter, 'Write the files to a directory');
}

/** j/k until the cursor is on the item */
async function focus(r: ReturnType<typeof start>, label: string) {
  for (let i = 0; i < 8; i++) {
    const f = r.lastFrame() ?? '';
    const lines = f.split('\n');
    const cur = lines.findIndex((l) => l.trimStart().startsWith('›'));
    const want = lines.findIndex((l) => l.replace('›', ' ').trimStart().startsWith(label));
    if (want >= 0 && want === cur) return f;
    r.stdin.write(want > cur ? 'j' : 'k');
    await waitFor(r.lastFrame, (x) => x !== f);
  }
  throw new Error(`never focused ${label}:\n${r.lastFrame()}`);
}

/** From the output menu to the peer's own preview, its connection and preview answered. */
async function toPeerPreview(r: ReturnType<typeof start>, text = 'replace /etc/keepalived/keepalived.conf\n') {
  await toOutputMenu(r);
  await focus(r, "Install the peer's half");
  await press(r, KEYS.enter, 'connecting to gw2');
  r.current().opened.resolve({ ok: true });
  r.current().previewed.resolve({ ok: true, text, plan: PLAN });
  return waitFor(r.lastFrame, `plan ${PLAN}`);
}

/** The typed consent on the peer's preview; the install is then asked of the peer. */
async function consentToPeerInstall(r: ReturnType<typeof start>) {
  await press(r, KEYS.enter, 'Type "apply"');
  r.stdin.write('apply');
  await waitFor(r.lastFrame, '> apply');
  await press(r, KEYS.enter, 'installing on gw2');
}

describe('setup with --peer: the peer’s half through its own hagw-doctor', () => {
  it('offers it next to this node’s install, says what is installed where, and installs only after the typed word', async () => {
    const r = start(true);
    const menu = await toOutputMenu(r);
    expect(menu).toContain("Install this node's half on this host");
    expect(menu).toContain("Install the peer's half on gw2 through its own hagw-doctor");
    expect(menu).toContain('this node (master 192.168.100.2): not installed yet');
    expect(menu).toContain('peer gw2 (backup 192.168.100.3): not installed yet');
    expect(menu).not.toContain('Check both nodes');

    await focus(r, "Install the peer's half");
    const connecting = await press(r, KEYS.enter, 'connecting to gw2 over SSH');
    expect(connecting).toContain('Esc cancel');
    // only options travel: this node's flags, the peer's priority as reviewed
    expect(r.current().raw[0]).toMatchObject({ role: 'master', self: '192.168.100.2', peer: '192.168.100.3', vip: '192.168.100.1/24', peerPriority: '100' });
    r.current().opened.resolve({ ok: true, note: 'gw2 runs hagw-doctor 0.2.0, this node 0.3.0: its member is rendered by its own version' });
    const long = Array.from({ length: 40 }, (_, i) => `  step ${i + 3}: iptables -w -t filter -I INPUT 1 -s 192.168.100.2/32 -p vrrp -j ACCEPT`);
    r.current().previewed.resolve({
      ok: true,
      text: ['replace /etc/keepalived/keepalived.conf (mode 0644)', 'kill -HUP 4242', ...long, ''].join('\n'),
      plan: PLAN,
    });
    const preview = await waitFor(r.lastFrame, `plan ${PLAN}`);
    // a long preview scrolls: the frame never fills the terminal, the plan and the keys stay on it
    expect(preview.split('\n').length).toBeLessThanOrEqual(23);
    expect(preview.split('\n').at(-1)).toMatch(/Esc cancel/);
    expect(preview).toContain("gw2's own hagw-doctor would install its member (backup, 192.168.100.3):");
    expect(preview).toContain('replace /etc/keepalived/keepalived.conf (mode 0644)');
    expect(preview).toContain('note: gw2 runs hagw-doctor 0.2.0');
    expect(preview).toContain('Enter install…');

    // Enter asks the word; a wrong word installs nothing; Esc goes back to the preview
    await press(r, KEYS.enter, 'Type "apply" and Enter');
    r.stdin.write('yes');
    await waitFor(r.lastFrame, '> yes');
    await press(r, KEYS.enter, '"yes" is not "apply": nothing installed on gw2');
    expect(r.current().calls).toEqual(['open', 'preview']);
    await press(r, KEYS.esc, 'Enter install…');
    await press(r, KEYS.enter, 'Type "apply" and Enter');
    r.stdin.write('apply');
    await waitFor(r.lastFrame, '> apply');
    const applying = await press(r, KEYS.enter, 'installing on gw2 through its own hagw-doctor');
    expect(applying).toContain('rolls back there by itself');
    // commit-confirmed is on by default (a change made over SSH)
    expect(r.current().calls).toEqual(['open', 'preview', `apply ${PLAN} --confirm-timeout 120`]);
    // quitting waits for the peer's answer, and says whose change it is (nothing here can stop it)
    expect(r.session.getState()).toMatchObject({ applying: true, applyingOn: 'gw2' });
    r.stdin.write('q');
    expect(await waitFor(r.lastFrame, "gw2's own hagw-doctor is installing there")).not.toContain('Ctrl+C stops it');
    expect(r.session.getState().quitRequested).toBe(false);
    r.current().applied.resolve({
      exitCode: 0,
      lines: ['change 20250101-x: backup saved', '  running step 1: write /etc/keepalived/keepalived.conf', ...long, 're-check: cleared'],
    });
    const done = await waitFor(r.lastFrame, "gw2's own result");
    expect(done.split('\n').length).toBeLessThanOrEqual(23);
    expect(done).toContain('✓ installed on gw2 by its own hagw-doctor');
    expect(done).toContain('running step 1: write /etc/keepalived/keepalived.conf');
    expect(r.session.getState().applying).toBe(false);
    expect(r.session.getState().applyingOn).toBeUndefined();
    expect(r.current().calls.at(-1)).toBe('close');

    // back: what is installed where; Check both nodes focused
    const after = await press(r, KEYS.esc, 'peer gw2 (backup 192.168.100.3): ✓ installed');
    expect(after).toContain('this node (master 192.168.100.2): not installed yet');
    expect(after).toMatch(/› Check both nodes/);
    const collects = r.services.collected.length;
    const pair = await press(r, KEYS.enter, 'PAIR');
    expect(pair).toMatch(/Pair\s+this node \(gw1\)\s+peer gw2/);
    expect(pair).toMatch(/role\s+MASTER\s+BACKUP/);
    // a fresh diagnosis, not the one from before the install
    expect(r.services.collected.length).toBe(collects + 1);
  });

  it('this node’s half installed first: the state says so and Check both nodes is offered', async () => {
    const r = start(true);
    await toOutputMenu(r);
    await focus(r, "Install this node's half");
    await press(r, KEYS.enter, 'Type "apply"');
    r.stdin.write('apply');
    await waitFor(r.lastFrame, '> apply');
    await press(r, KEYS.enter, 'change 1: applied');
    const menu = await press(r, KEYS.esc, 'this node (master 192.168.100.2): ✓ installed');
    expect(menu).toContain('peer gw2 (backup 192.168.100.3): not installed yet');
    expect(menu).toMatch(/› Check both nodes/);
  });

  it('this node’s half on SSH: commit-confirmed, pending until Enter keeps it through the engine’s confirm', async () => {
    const r = start(true, { ssh: true });
    await toOutputMenu(r);
    await focus(r, "Install this node's half");
    const ask = await press(r, KEYS.enter, 'Type "apply"');
    expect(ask).toContain('commit-confirmed: on (you are on SSH): it rolls back by itself after 120 s unless you keep it');
    r.stdin.write('apply');
    await waitFor(r.lastFrame, '> apply');
    const done = await press(r, KEYS.enter, 'commit-confirmed: press Enter to keep it');
    expect(r.services.applied.at(-1)?.confirmTimeout).toBe(120);
    expect(done).toContain('Enter keep the change');
    const kept = await press(r, KEYS.enter, '✓ kept: change 1 confirmed');
    expect(kept).not.toContain('Enter keep the change');
    const menu = await press(r, KEYS.esc, 'this node (master 192.168.100.2): ✓ installed');
    expect(menu).not.toContain('pending');
  });

  it.each([
    [
      'unreachable',
      { ok: false as const, kind: 'unreachable' as const, message: 'gw2: gw2 refused the SSH connection (is sshd running there?); nothing installed there' },
    ],
    [
      'no hagw-doctor there',
      {
        ok: false as const,
        kind: 'no-doctor' as const,
        message: 'gw2 has no hagw-doctor on its PATH, so it cannot install its member itself (preview, backup, rollback). Install hagw-doctor there',
      },
    ],
    [
      'no root there',
      { ok: false as const, kind: 'no-root' as const, message: 'gw2: the SSH user is not root and sudo -n is refused; installing needs root there' },
    ],
  ])('%s: one line, nothing applied, and the menu says it is not installed', async (_what, refusal) => {
    const r = start(true);
    await toOutputMenu(r);
    await focus(r, "Install the peer's half");
    await press(r, KEYS.enter, 'connecting to gw2');
    r.current().opened.resolve(refusal);
    const f = await waitFor(r.lastFrame, `✗ ${refusal.message.slice(0, 30)}`);
    expect(f.split('\n').filter((l) => l.includes('✗'))).toHaveLength(1);
    expect(r.current().calls).toEqual(['open', 'close']);
    const menu = await press(r, KEYS.esc, 'peer gw2 (backup 192.168.100.3): ✗ not installed');
    expect(menu).not.toContain('Check both nodes');
  });

  it('commit-confirmed (on by default): the change is pending there until kept from here; Enter keeps it through the peer’s own confirm', async () => {
    const r = start(true);
    const preview = await toPeerPreview(r);
    expect(preview).toContain('commit-confirmed: on: gw2 rolls the change back by itself unless you keep it from here within 120 s');
    await consentToPeerInstall(r);
    expect(r.current().calls.at(-1)).toBe(`apply ${PLAN} --confirm-timeout 120`);
    r.current().applied.resolve({ exitCode: 0, lines: ['rollback timer armed: rolls back by itself unless confirmed within 120 s'], pendingSeconds: 120 });
    const done = await waitFor(r.lastFrame, 'pending: it rolls back there by itself at');
    expect(done).toContain('Enter keep the change on gw2');
    // pending: the session stays for the keep
    expect(r.current().calls).not.toContain('close');
    r.stdin.write(KEYS.enter);
    await waitFor(() => r.current().calls.join(' '), 'confirm');
    r.current().confirmed.resolve({ ok: true, message: 'kept on gw2: change 20261202-x confirmed' });
    const kept = await waitFor(r.lastFrame, 'and kept (kept on gw2: change 20261202-x confirmed)');
    expect(kept).not.toContain('Enter keep the change');
    await waitFor(() => r.current().calls.join(' '), 'close');
    const menu = await press(r, KEYS.esc, 'peer gw2 (backup 192.168.100.3): ✓ installed');
    expect(menu).toContain('Check both nodes');
    expect(menu).not.toContain("Keep the peer's change");
    expect(menu).not.toContain('pending');
  });

  it('commit-confirmed: c turns it off before the install; a keep the peer refuses leaves it pending, offered again from the menu', async () => {
    const r = start(true);
    expect(await toPeerPreview(r)).toContain('commit-confirmed: on');
    await press(r, 'c', 'commit-confirmed: off: the change stays on gw2 even if SSH to it is lost');
    await press(r, 'c', 'commit-confirmed: on');
    await consentToPeerInstall(r);
    r.current().applied.resolve({ exitCode: 0, lines: [], pendingSeconds: 120 });
    await waitFor(r.lastFrame, 'pending: it rolls back there by itself at');
    const menu = await press(r, KEYS.esc, "Keep the peer's change on gw2");
    expect(menu).toMatch(/peer gw2 \(backup 192\.168\.100\.3\): ✓ installed, pending: rolls back at \d\d:\d\d:\d\d unless kept/);
    await focus(r, "Keep the peer's change");
    r.stdin.write(KEYS.enter);
    await waitFor(() => r.current().calls.join(' '), 'confirm');
    r.current().confirmed.resolve({ ok: false, message: 'gw2 could not be reached to keep the change: it rolls back there by itself when its timer runs out' });
    const after = await waitFor(r.lastFrame, 'could not be reached to keep the change');
    expect(after).toContain("Keep the peer's change on gw2");
    expect(r.current().calls).not.toContain('close');
  });

  it('commit-confirmed off: the install is asked without a timer', async () => {
    const r = start(true);
    expect(await toPeerPreview(r)).toContain('commit-confirmed: on');
    await press(r, 'c', 'commit-confirmed: off');
    await consentToPeerInstall(r);
    expect(r.current().calls.at(-1)).toBe(`apply ${PLAN}`);
  });

  it('the peer refuses its member at the preview: its reason in one line', async () => {
    const r = start(true);
    await toOutputMenu(r);
    await focus(r, "Install the peer's half");
    await press(r, KEYS.enter, 'connecting to gw2');
    r.current().opened.resolve({ ok: true });
    r.current().previewed.resolve({ ok: false, kind: 'refused', message: 'gw2 refuses its member: 192.168.100.3 is not an address of this node' });
    await waitFor(r.lastFrame, '✗ gw2 refuses its member: 192.168.100.3 is not an address of this node');
    expect(r.current().calls).toEqual(['open', 'preview', 'close']);
  });

  it('SSH lost mid-install: says to check there with hagw-doctor changes', async () => {
    const r = start(true);
    await toOutputMenu(r);
    await focus(r, "Install the peer's half");
    await press(r, KEYS.enter, 'connecting to gw2');
    r.current().opened.resolve({ ok: true });
    r.current().previewed.resolve({ ok: true, text: 'x\n', plan: PLAN });
    await waitFor(r.lastFrame, `plan ${PLAN}`);
    await press(r, KEYS.enter, 'Type "apply"');
    r.stdin.write('apply');
    await waitFor(r.lastFrame, '> apply');
    r.stdin.write(KEYS.enter);
    r.current().applied.resolve({
      exitCode: 255,
      lines: ['change 1: backup saved'],
      lost: 'the SSH connection to gw2 failed during the install; check there with `hagw-doctor changes`',
    });
    const f = await waitFor(r.lastFrame, '✗ the SSH connection to gw2 failed during the install');
    expect(f.replace(/\s+/g, ' ')).toContain('check there with `hagw-doctor changes`');
    await press(r, KEYS.esc, 'peer gw2 (backup 192.168.100.3): ✗ not installed');
  });

  it('Esc while connecting cancels: the session is closed and nothing is asked of the peer', async () => {
    const r = start(true);
    await toOutputMenu(r);
    await focus(r, "Install the peer's half");
    await press(r, KEYS.enter, 'connecting to gw2');
    await press(r, KEYS.esc, 'peer gw2 (backup 192.168.100.3): not installed yet');
    expect(r.current().calls).toEqual(['open', 'close']);
    // the late answer changes nothing
    r.current().opened.resolve({ ok: true });
    await new Promise((res) => setImmediate(res));
    expect(r.current().calls).toEqual(['open', 'close']);
    expect(r.lastFrame()).toContain('peer gw2 (backup 192.168.100.3): not installed yet');
  });

  it('without --peer: no peer install offered (the peer command to copy, as before)', async () => {
    const r = start(false);
    const menu = await toOutputMenu(r);
    expect(menu).toContain('Install them on this host');
    expect(menu).not.toContain("Install the peer's half");
    expect(menu).not.toContain('not installed yet');
  });
});

describe('setup reducer: the peer install states', () => {
  it('tracks the peer step and what is installed where', () => {
    const actions: SetupAction[] = [
      { type: 'peer', step: { step: 'connecting' } },
      { type: 'peer', step: { step: 'failed', message: 'gw2 has no hagw-doctor' } },
      { type: 'installed', node: 'peer', outcome: { ok: false, message: 'gw2 has no hagw-doctor' } },
      { type: 'installed', node: 'this', outcome: { ok: true, message: 'change 1: applied' } },
      { type: 'peer', step: undefined },
    ];
    const s = actions.reduce(setupReducer, initialSetupState({}));
    expect('peer' in s).toBe(false);
    expect(s.installed).toEqual({ peer: { ok: false, message: 'gw2 has no hagw-doctor' }, this: { ok: true, message: 'change 1: applied' } });
    const again = setupReducer(s, { type: 'installed', node: 'peer', outcome: { ok: true, message: 'installed' } });
    expect(again.installed.peer).toEqual({ ok: true, message: 'installed' });
    expect(again.installed.this).toEqual(s.installed.this);
  });

  it('the peer’s member is mirrored with the priority the review showed', () => {
    const flags = peerInstallFlags({
      role: 'backup',
      interface: 'eth0',
      vip: '192.168.100.1/24',
      self: '192.168.100.3',
      peer: '192.168.100.2',
      transport: 'unicast',
      vrid: '51',
      priority: '120',
      snatSource: 'none',
      exclude: '',
      wanInterface: '',
      wanVip: '',
    });
    expect(flags).toMatchObject({ role: 'backup', priority: '120', peerPriority: '170' });
  });
});
