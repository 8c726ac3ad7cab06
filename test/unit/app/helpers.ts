// Fixtures and a fake service layer for the app's component tests: a Report built by hand, a
// "change engine" that records what it was asked, and a frame poller (no fixed sleeps).
import type { Finding, FixPlan, Report, Snapshot } from '../../../src/types.js';
import type { AppServices, ApplyRequest, GenerateOutcome } from '../../../src/app/services.js';
import { planPreview } from '../../../src/change/preview.js';
import { previewFromModel } from '../../../src/app/logic/preview.js';
import { wireArgv, wireProbeId } from '../../../src/probes/vrrp.js';

export const FORWARD_FIX: FixPlan = {
  summary: 'turn on net.ipv4.ip_forward now and keep it on at boot (/etc/sysctl.d/90-hagw-doctor.conf)',
  risk: 'safe',
  steps: [
    { argv: ['sysctl', '-w', 'net.ipv4.ip_forward=1'], undo: [['sysctl', '-w', 'net.ipv4.ip_forward=0']], why: 'forward client traffic now' },
    { write: { path: '/etc/sysctl.d/90-hagw-doctor.conf', content: 'net.ipv4.ip_forward = 1\n', mode: 0o644 }, why: 'keep forwarding on after a reboot' },
  ],
  touches: { sysctl: ['net.ipv4.ip_forward'], files: ['/etc/sysctl.d/90-hagw-doctor.conf'] },
  persistence: { persistent: true, how: '/etc/sysctl.d/90-hagw-doctor.conf (read at boot)' },
  verifies: ['ip-forward-off'],
};

export const FORWARD_OFF: Finding = {
  code: 'ip-forward-off',
  severity: 'critical',
  title: 'IPv4 forwarding is off on the MASTER',
  detail: 'net.ipv4.ip_forward is 0: this gateway drops every packet its clients send through it.',
  evidence: [{ probe: 'sysctl:net.ipv4.ip_forward', excerpt: 'net.ipv4.ip_forward = 0' }],
  fix: FORWARD_FIX,
};

export const NOTRACK: Finding = {
  code: 'vrrp-notrack-missing',
  severity: 'info',
  title: 'VRRP is connection-tracked',
  detail: 'A raw-table NOTRACK rule keeps conntrack from rewriting adverts.',
  evidence: [],
};

export const SPLIT_BRAIN: Finding = {
  code: 'vrrp-split-brain',
  severity: 'critical',
  title: 'another node advertises VRID 51 as master',
  detail: 'Both nodes hold the VIP.',
  evidence: [{ probe: 'vrrp-wire', excerpt: '10.0.0.3 > 224.0.0.18: VRRPv2, vrid 51, prio 150' }],
  fix: {
    summary: 'accept VRRP from the peer',
    risk: 'disruptive',
    steps: [{ argv: ['iptables', '-I', 'INPUT', '-p', 'vrrp', '-s', '10.0.0.3', '-j', 'ACCEPT'] }],
    touches: { iptables: ['filter'] },
    persistence: { persistent: false, how: 'runtime only' },
    verifies: ['vrrp-split-brain'],
  },
};

export const SNAPSHOT: Snapshot = {
  schema: 'hagw-doctor.snapshot/v1',
  createdAt: '2025-01-01T00:00:00.000Z',
  tool: { name: 'hagw-doctor', version: '0.1.0' },
  options: {},
  host: { hostname: 'gw1', kernel: '6.1.0', os: 'Debian', keepalived: '2.2.7', netns: 'net:[1]', uid: 0 },
  probes: {
    'ip-addr': {
      id: 'ip-addr',
      kind: 'command',
      status: 'ok',
      exitCode: 0,
      stdout: JSON.stringify([
        { ifname: 'lo', flags: ['LOOPBACK'], addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
        { ifname: 'eth0', flags: [], addr_info: [{ family: 'inet', local: '192.168.100.2', prefixlen: 24 }] },
        { ifname: 'eth1', flags: [], addr_info: [{ family: 'inet', local: '203.0.113.2', prefixlen: 24 }] },
      ]),
      stderr: '',
      ms: 1,
    },
  },
};

export function report(findings: Finding[], extra: Partial<Report> = {}): Report {
  const count = (s: Finding['severity']) => findings.filter((f) => f.severity === s).length;
  const crit = count('critical') + count('error');
  return {
    schema: 'hagw-doctor.report/v1',
    host: { hostname: 'gw1', kernel: '6.1.0', keepalived: '2.2.7', netns: 'net:[1]' },
    role: 'master',
    instances: [{ name: 'VI_1', state: 'MASTER', source: 'log', since: '2025-01-01T00:00:00', vips: ['192.168.100.1'], vipsHeld: ['192.168.100.1'] }],
    summary: {
      status: crit ? 'critical' : count('warning') ? 'warning' : 'ok',
      critical: count('critical'),
      error: count('error'),
      warning: count('warning'),
      info: count('info'),
    },
    findings,
    checks: [
      { id: 'ip-forward', status: findings.some((f) => f.code === 'ip-forward-off') ? 'fail' : 'pass', ms: 1 },
      { id: 'keepalived-running', status: 'pass', ms: 1 },
      { id: 'conntrack', status: 'error', ms: 1, reason: 'parser exploded' },
    ],
    source: 'live',
    ...extra,
  };
}

export interface FakeServices extends AppServices {
  applied: Array<{ plan: FixPlan; confirmTimeout?: number; signal?: AbortSignal }>;
  /** how each collect was asked (wire or not) */
  collected: Array<{ wire?: boolean }>;
  written: Array<{ dir: string; raw: Record<string, unknown> }>;
  /** resolve the pending collect (tests that watch progress) */
  release(): void;
}

export interface FakeOptions {
  /** successive reports: each analyse returns the next one (the last repeats) */
  reports: Report[];
  demo?: boolean;
  ssh?: boolean;
  /** hold collect until release() */
  holdCollect?: boolean;
  /** hold apply until releaseApply() */
  applyGate?: Promise<void>;
}

export function fakeServices(o: FakeOptions): FakeServices {
  let n = 0;
  let release: () => void = () => {};
  const held = o.holdCollect ? new Promise<void>((r) => (release = r)) : Promise.resolve();
  const s: FakeServices = {
    applied: [],
    collected: [],
    written: [],
    release: () => release(),
    ssh: o.ssh ?? false,
    ...(o.demo ? { demo: { scenario: 'ip-forward-off', scenarios: ['ip-forward-off'] } } : {}),
    async checks() {
      return [
        { id: 'ip-forward', title: 'IPv4 forwarding' },
        { id: 'keepalived-running', title: 'keepalived running in this network namespace' },
        { id: 'conntrack', title: 'VRRP conntrack entries' },
      ];
    },
    async collect(onProbe, how) {
      onProbe(SNAPSHOT.probes['ip-addr']!);
      await held;
      s.collected.push(how ?? {});
      if (!how?.wire) return SNAPSHOT;
      // a capture in which only this node advertises (so the peer is silent)
      const capture =
        '02:44:14.903420 5e:18:b8:36:5b:73 > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 58: (tos 0xc0, ttl 255, id 8, offset 0, flags [none], proto VRRP (112), length 44)\n' +
        '    10.9.9.9 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 150, authtype none, intvl 1s, length 20, addrs: 192.168.100.1\n';
      const wire = {
        id: wireProbeId('eth0'),
        kind: 'command' as const,
        argv: wireArgv('eth0', 3),
        status: 'ok' as const,
        exitCode: 124,
        stdout: capture,
        stderr: '',
        ms: 3000,
      };
      return { ...SNAPSHOT, options: { ...SNAPSHOT.options, wire: true }, probes: { ...SNAPSHOT.probes, [wire.id]: wire } };
    },
    async analyse(_snapshot, onCheck) {
      const r = o.reports[Math.min(n++, o.reports.length - 1)]!;
      for (const c of r.checks)
        onCheck(
          c.id,
          c.status,
          r.findings.filter((f) => c.status === 'fail' && f.code.startsWith(c.id.split('-')[0]!)),
          c.reason,
        );
      return r;
    },
    async preview(plan, snapshot) {
      // the engine's own preview, against the files the snapshot recorded (never this machine's)
      return previewFromModel(planPreview(plan, snapshot ? { recorded: snapshot } : {}));
    },
    async hostInterfaces() {
      return [
        { name: 'lo', ipv4: ['127.0.0.1/8'], internal: true },
        { name: 'eth0', ipv4: ['192.168.100.2/24'], internal: false },
        { name: 'eth1', ipv4: ['203.0.113.2/24'], internal: false },
      ];
    },
    async generate(raw): Promise<GenerateOutcome> {
      return {
        ok: true,
        files: [
          {
            path: 'keepalived.conf',
            content: `vrrp_instance VI_1 {\n  state ${String(raw.role).toUpperCase()}\n  interface ${String(raw.interface)}\n  virtual_router_id ${String(raw.vrid)}\n}\n`,
          },
          { path: 'INSTALL.md', content: '# Install\n' },
        ],
      };
    },
    async writeFiles(dir, raw) {
      s.written.push({ dir, raw });
      return { ok: true, message: `written to ${dir} and validated` };
    },
  };
  if (!o.demo) {
    s.apply = async (plan, req: ApplyRequest) => {
      s.applied.push({ plan, ...(req.confirmTimeout ? { confirmTimeout: req.confirmTimeout } : {}), ...(req.signal ? { signal: req.signal } : {}) });
      plan.steps.forEach((_, i) => {
        req.onStep({ index: i, total: plan.steps.length, text: `step ${i + 1}`, status: 'running' });
      });
      await o.applyGate;
      // cancelled (Ctrl+C): the engine finishes the step in flight and rolls back
      if (req.signal?.aborted) return { status: 'failed', message: 'cancelled after step 1; rolled back' };
      plan.steps.forEach((_, i) => req.onStep({ index: i, total: plan.steps.length, text: `step ${i + 1}`, status: 'done' }));
      const after = await req.recheck();
      const remaining = plan.verifies.filter((c) => after.findings.some((f) => f.code === c));
      return remaining.length
        ? { status: 'rolled-back', message: `still reports ${remaining.join(', ')}; rolled back` }
        : {
            status: 'applied',
            message: 'change 1: applied',
            changeId: '1',
            ...(req.confirmTimeout ? { confirmDeadline: new Date('2025-01-01T00:02:00Z') } : {}),
          };
    };
    s.confirm = async (id) => `change ${id} confirmed`;
  }
  return s;
}

/** Polls lastFrame() until it contains text (or the predicate holds), with a deadline. */
export async function waitFor(lastFrame: () => string | undefined, want: string | ((frame: string) => boolean), timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const ok = typeof want === 'string' ? (f: string) => f.includes(want) : want;
  for (;;) {
    const frame = lastFrame() ?? '';
    if (ok(frame)) return frame;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof want === 'string' ? JSON.stringify(want) : 'a condition'}; last frame:\n${frame}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const KEYS = { enter: '\r', esc: '\u001b', down: '\u001b[B', up: '\u001b[A', right: '\u001b[C', ctrlC: '\u0003', tab: '\t' };
