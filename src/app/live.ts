// The real services: the pipeline, the change engine and generate, each imported on first use so
// that the first frame does not wait for them.
import type { CollectOptions, Finding, FixPlan, Snapshot } from '../types.js';
import type { AppServices, ApplyOutcome, FixPreview, GeneratedFile, GenerateOutcome, HostInterface, PeerInstaller } from './services.js';

/** validateGenerateInput wants --out: the form asks for the directory last, so a placeholder until then. */
const PENDING_OUT = '/nonexistent/hagw-doctor-preview';

function asList(files: Record<string, { content: string; mode: number; installAs?: string }>): GeneratedFile[] {
  return Object.entries(files)
    .sort(([a], [b]) => fileOrder(a) - fileOrder(b) || a.localeCompare(b))
    .map(([path, f]) => ({ path, content: f.content, mode: f.mode, ...(f.installAs ? { installAs: f.installAs } : {}) }));
}

function fileOrder(p: string): number {
  return ['keepalived.conf', 'scripts/', 'sysctl.conf', 'rules.v4', 'INSTALL.md'].findIndex((x) => p === x || (x.endsWith('/') && p.startsWith(x))) >>> 0;
}

export function liveServices(opts: {
  options?: CollectOptions;
  demo?: { scenario: string; snapshot: Snapshot; scenarios: string[] };
  env?: NodeJS.ProcessEnv;
  /** the other node over SSH: collected with this one on every diagnosis, judged as a pair */
  peer?: { host: string; sshConfig?: string };
}): AppServices {
  const env = opts.env ?? process.env;
  const demo = opts.demo;
  const services: AppServices = {
    ssh: Boolean(env.SSH_CONNECTION),
    // the header says DEMO and the fix screens show, never apply
    ...(demo ? { demo: { scenario: demo.scenario, scenarios: demo.scenarios } } : {}),
    async checks() {
      const { checksFor } = await import('../pipeline.js');
      return checksFor().map((c) => ({ id: c.id, title: c.title }));
    },
    ...(opts.peer && !demo ? { peer: opts.peer.host } : {}),
    async collect(onProbe, how) {
      if (demo) return demo.snapshot;
      const { collect } = await import('../pipeline.js');
      const options = { ...(opts.options ?? {}), ...(how?.wire ? { wire: true } : {}) };
      if (!opts.peer) return collect(options, { onProbe });
      // both nodes at the same time, as `check --peer`: an unreachable peer is a status, never a failure here
      const { collectPeer } = await import('../peer/collect.js');
      const { embedPeer } = await import('../peer/pair.js');
      const [local, peer] = await Promise.all([collect({ ...options, peer: opts.peer.host }, { onProbe }), collectPeer(opts.peer, options)]);
      return embedPeer(local, peer);
    },
    async analyse(snapshot, onCheck) {
      // with a peer embedded: its findings marked with its name, the split brain's cause attributed; without: analyse as it is
      const { analysePair } = await import('../peer/pair.js');
      return analysePair(snapshot, {
        source: demo ? `demo:${demo.scenario}` : 'live',
        onCheck: (check, outcome) => onCheck(check.id, outcome.run.status, outcome.findings, outcome.run.reason),
      });
    },
    async preview(plan, snapshot): Promise<FixPreview> {
      // the engine's one preview; the demo's diffs are against the files its snapshot recorded, not this host's
      const { planPreview } = await import('../change/index.js');
      const { previewFromModel } = await import('./logic/preview.js');
      return previewFromModel(planPreview(plan, demo ? { recorded: snapshot ?? demo.snapshot } : {}));
    },
    async hostInterfaces(): Promise<HostInterface[]> {
      if (demo) return interfacesFromSnapshot(demo.snapshot);
      try {
        const si = (await import('systeminformation')).default;
        const list = await si.networkInterfaces();
        const arr = Array.isArray(list) ? list : [list];
        return arr.map((i) => ({ name: i.iface, ipv4: i.ip4 ? [`${i.ip4}/${maskToPrefix(i.ip4subnet)}`] : [], internal: i.internal }));
      } catch {
        return [];
      }
    },
    async generate(raw): Promise<GenerateOutcome> {
      const { validateGenerateInput, generatePair } = await import('../generate/cli.js');
      const v = validateGenerateInput({ ...raw, out: PENDING_OUT });
      if (!v.ok) return { ok: false, errors: v.errors };
      return { ok: true, files: asList(generatePair(v.value)) };
    },
    async writeFiles(dir, raw) {
      // the same steps as `hagw-doctor generate`: validate, write next to DIR, check with the real tools, then put in place
      const { validateGenerateInput, writeGeneratedPair, describeValidation } = await import('../generate/cli.js');
      const v = validateGenerateInput({ ...raw, out: dir });
      if (!v.ok) return { ok: false, message: v.error };
      const r = await writeGeneratedPair(v.value);
      if (!r.ok) return { ok: false, message: r.error };
      return { ok: true, message: `wrote ${Object.keys(r.files).length} files into ${r.out}; ${describeValidation(r.steps).join('; ')}` };
    },
    async installPlan(raw) {
      const g = await services.generate(raw);
      if (!g.ok) return undefined;
      const { installPlanFor } = await import('./logic/install.js');
      // never a host service from inside a network namespace: see src/change/service.ts
      const restart = demo ? undefined : await (await import('../change/service.js')).detectKeepalivedRestart();
      return installPlanFor(g.files, restart);
    },
  };
  if (opts.peer && !demo) {
    const target = opts.peer;
    services.installOnPeer = (raw) => peerInstaller(target, raw);
  }
  if (!demo) {
    services.watch = async (initial) => {
      const { Watcher } = await import('../watch/watcher.js');
      return new Watcher({ ...(opts.options ? { collect: opts.options } : {}), ...(initial ? { initial } : {}) });
    };
    services.apply = async (plan: FixPlan, req): Promise<ApplyOutcome> => {
      const { applyPlan } = await import('../change/index.js');
      const total = plan.steps.length;
      const res = await applyPlan(plan, {
        findings: req.findings.map((f: Finding) => f.code),
        // judged per finding (code and subject): fixing one instance is not undone because another still has the code
        targets: req.findings.map((f: Finding) => ({ code: f.code, ...(f.subject !== undefined ? { subject: f.subject } : {}) })),
        recheck: async () => {
          const r = await req.recheck();
          return {
            codes: r.findings.map((f) => f.code),
            findings: r.findings.map((f) => ({ code: f.code, ...(f.subject !== undefined ? { subject: f.subject } : {}) })),
          };
        },
        ...(req.confirmTimeout ? { confirmTimeout: req.confirmTimeout } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        // the app cancels through req.signal; a real SIGTERM/SIGHUP (the SSH session gone) is still trapped
        onStep: (e) => {
          if (e.type === 'step-start') req.onStep({ index: e.index, total, text: e.label, status: 'running' });
          else if (e.type === 'step-done')
            req.onStep({
              index: e.index,
              total,
              text: e.label,
              status: e.status === 'moved' ? 'failed' : e.status,
              ...(e.message ? { detail: e.message } : {}),
            });
          else if (e.type === 'recheck-start') req.onStep({ index: total, total, text: 're-check', status: 'running' });
          else if (e.type === 'recheck-done')
            req.onStep({
              index: total,
              total,
              text: 're-check',
              status: e.remaining.length ? 'failed' : 'done',
              ...(e.remaining.length ? { detail: `still reported: ${e.remaining.join(', ')}` } : {}),
            });
          else if (e.type === 'rollback-action') req.onStep({ index: total + 1, total, text: e.message, status: e.ok ? 'restored' : 'failed' });
          else if (e.type === 'notice') req.onStep({ index: -1, total, text: e.message, status: 'done' });
        },
      });
      const status: ApplyOutcome['status'] =
        res.outcome === 'applied' || res.outcome === 'pending'
          ? 'applied'
          : res.outcome === 'nothing-to-do'
            ? 'nothing-to-do'
            : res.outcome === 'refused'
              ? 'refused'
              : res.outcome === 'not-cleared'
                ? 'rolled-back'
                : 'failed';
      return {
        status,
        message: res.message,
        ...(res.id ? { changeId: res.id } : {}),
        ...(res.confirmDeadline ? { confirmDeadline: res.confirmDeadline } : {}),
      };
    };
    services.changes = async () => {
      const { listChanges, changePaths, stepLabel } = await import('../change/index.js');
      const list = await listChanges(changePaths().changesDir);
      return list.reverse().map((m) => ({
        id: m.id,
        state: m.state,
        summary: m.plan.summary,
        when: m.when,
        who: `${m.who.user}${m.who.sudoUser ? ` (sudo from ${m.who.sudoUser})` : ''}${m.who.ssh ? ` over SSH from ${m.who.ssh.split(' ')[0]}` : ''}`,
        host: m.host,
        netns: m.netns,
        ...(m.state === 'pending' && m.confirm?.deadline ? { deadline: m.confirm.deadline } : {}),
        steps: m.plan.steps.map((st) => stepLabel(st)),
        ...(m.result ? { result: m.result } : {}),
      }));
    };
    services.undo = async (id) => {
      const { undoChange } = await import('../change/index.js');
      const r = await undoChange(id, { waitForLockMs: 10_000 });
      return { ok: r.exitCode === 0, message: r.message };
    };
    services.confirm = async () => {
      const { confirmPending } = await import('../change/index.js');
      return (await confirmPending()).message;
    };
  }
  return services;
}

/** The peer's half through its own doctor: its member mirrored from this node's flags (only options travel). */
function peerInstaller(target: { host: string; sshConfig?: string }, raw: Record<string, string | boolean | undefined>): PeerInstaller {
  let inner: import('../generate/peer.js').PeerInstall | undefined;
  let closed = false;
  const notOpen = () => new Error(`the session to ${target.host} is not open`);
  return {
    host: target.host,
    async open() {
      const { validateGenerateInput } = await import('../generate/cli.js');
      const v = validateGenerateInput({ ...raw, out: PENDING_OUT });
      if (!v.ok) return { ok: false, kind: 'refused', message: `${target.host}'s member cannot be made from these answers: ${v.error}` };
      const { PeerInstall, peerMemberSpec } = await import('../generate/peer.js');
      if (closed) return { ok: false, kind: 'unreachable', message: `${target.host}: cancelled; nothing installed there` };
      inner = new PeerInstall(target, peerMemberSpec(v.value, raw));
      return inner.open();
    },
    preview: () => (inner ? inner.preview() : Promise.reject(notOpen())),
    apply: (plan, o) => (inner ? inner.apply(plan, o) : Promise.reject(notOpen())),
    confirm: () => (inner ? inner.confirm() : Promise.reject(notOpen())),
    async close() {
      closed = true;
      await inner?.close();
    },
  };
}

function maskToPrefix(mask: string | undefined): number {
  if (!mask) return 32;
  return mask.split('.').reduce((n, octet) => n + (Number(octet) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

function interfacesFromSnapshot(snapshot: Snapshot): HostInterface[] {
  const r = snapshot.probes['ip-addr'];
  if (r?.status !== 'ok') return [];
  try {
    const links = JSON.parse(r.stdout) as Array<{
      ifname?: string;
      flags?: string[];
      addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
    }>;
    return links.map((l) => ({
      name: l.ifname ?? '?',
      ipv4: (l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local).map((a) => `${a.local}/${a.prefixlen ?? 32}`),
      internal: (l.flags ?? []).includes('LOOPBACK'),
    }));
  } catch {
    return [];
  }
}
