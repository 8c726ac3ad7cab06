// The real services: the pipeline, the change engine and generate, each imported on first use so
// that the first frame does not wait for them.
import type { CollectOptions, Finding, FixPlan, Snapshot } from '../types.js';
import type { AppServices, ApplyOutcome, FixPreview, GenerateOutcome, HostInterface } from './services.js';
import { CONFIRM_WORD, planPreviewLines } from './logic/findings.js';

type Raw = Record<string, string | boolean | undefined>;

/** What the app expects of src/generate (loaded by name so the app builds before it lands). */
interface GenerateModule {
  validateGenerateInput(raw: unknown): unknown;
  generatePair(input: unknown): unknown;
}

async function loadGenerate(): Promise<GenerateModule> {
  const spec = '../generate/index.js';
  return (await import(spec)) as GenerateModule;
}

export function liveServices(opts: { options?: CollectOptions; demo?: { scenario: string; snapshot: Snapshot; scenarios: string[] }; env?: NodeJS.ProcessEnv }): AppServices {
  const env = opts.env ?? process.env;
  const demo = opts.demo;
  const services: AppServices = {
    ssh: Boolean(env.SSH_CONNECTION),
    async checks() {
      const { checksFor } = await import('../pipeline.js');
      return checksFor().map((c) => ({ id: c.id, title: c.title }));
    },
    async collect(onProbe) {
      if (demo) return demo.snapshot;
      const { collect } = await import('../pipeline.js');
      return collect(opts.options ?? {}, { onProbe });
    },
    async analyse(snapshot, onCheck) {
      const { analyse } = await import('../pipeline.js');
      return analyse(snapshot, {
        source: demo ? `demo:${demo.scenario}` : 'live',
        onCheck: (check, outcome) => onCheck(check.id, outcome.run.status, outcome.findings, outcome.run.reason),
      });
    },
    async preview(plan, snapshot): Promise<FixPreview> {
      if (demo) {
        // the demo's files are the recorded ones, not this host's
        return { lines: planPreviewLines(plan, snapshot), backup: [], irreversible: plan.touches.conntrack ? ['deleted conntrack entries'] : [], confirmWord: plan.risk === 'disruptive' ? CONFIRM_WORD : null };
      }
      const { planPreview } = await import('../change/index.js');
      const { previewFromModel } = await import('./logic/preview.js');
      return previewFromModel(planPreview(plan));
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
      let mod: GenerateModule;
      try {
        mod = await loadGenerate();
      } catch {
        return { ok: false, errors: ['the generate module is not available in this build'] };
      }
      try {
        const input = mod.validateGenerateInput(raw);
        const problems = validationErrors(input);
        if (problems) return { ok: false, errors: problems };
        return { ok: true, files: filesOf(mod.generatePair(unwrap(input))) };
      } catch (err) {
        return { ok: false, errors: [(err as Error).message] };
      }
    },
    async writeFiles(dir, raw) {
      try {
        const spec = '../generate/cli.js';
        const { generateCommand } = (await import(spec)) as { generateCommand(flags: Raw, io?: unknown): Promise<number> };
        // generateCommand writes, validates and reports on stdout/stderr; the app only needs the status
        const status = await quietly(() => generateCommand({ ...raw, out: dir }));
        return status.value === 0 ? { ok: true, message: `written to ${dir} and validated` } : { ok: false, message: status.output.trim() || `generate exited with ${status.value}` };
      } catch (err) {
        return { ok: false, message: (err as Error).message };
      }
    },
  };
  if (!demo) {
    services.apply = async (plan: FixPlan, req): Promise<ApplyOutcome> => {
      const { applyPlan } = await import('../change/index.js');
      const total = plan.steps.length;
      const res = await applyPlan(plan, {
        findings: req.findings.map((f: Finding) => f.code),
        recheck: async () => ({ codes: (await req.recheck()).findings.map((f) => f.code) }),
        ...(req.confirmTimeout ? { confirmTimeout: req.confirmTimeout } : {}),
        onStep: (e) => {
          if (e.type === 'step-start') req.onStep({ index: e.index, total, text: e.label, status: 'running' });
          else if (e.type === 'step-done') req.onStep({ index: e.index, total, text: e.label, status: e.status, ...(e.message ? { detail: e.message } : {}) });
          else if (e.type === 'recheck-start') req.onStep({ index: total, total, text: 're-check', status: 'running' });
          else if (e.type === 'recheck-done') req.onStep({ index: total, total, text: 're-check', status: e.remaining.length ? 'failed' : 'done', ...(e.remaining.length ? { detail: `still reported: ${e.remaining.join(', ')}` } : {}) });
          else if (e.type === 'rollback-action') req.onStep({ index: total + 1, total, text: e.message, status: e.ok ? 'restored' : 'failed' });
          else if (e.type === 'notice') req.onStep({ index: -1, total, text: e.message, status: 'done' });
        },
      });
      const status: ApplyOutcome['status'] = res.outcome === 'applied' || res.outcome === 'pending' ? 'applied' : res.outcome === 'refused' ? 'refused' : res.outcome === 'not-cleared' ? 'rolled-back' : 'failed';
      const pendingUntil = res.outcome === 'pending' ? /at (\S+) unless confirmed/.exec(res.message)?.[1] : undefined;
      return { status, message: res.message, ...(res.id ? { changeId: res.id } : {}), ...(pendingUntil ? { pendingUntil } : {}) };
    };
    services.confirm = async () => {
      const { confirmPending } = await import('../change/index.js');
      return (await confirmPending()).message;
    };
  }
  return services;
}

function maskToPrefix(mask: string | undefined): number {
  if (!mask) return 32;
  return mask.split('.').reduce((n, octet) => n + (Number(octet) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

function interfacesFromSnapshot(snapshot: Snapshot): HostInterface[] {
  const r = snapshot.probes['ip-addr'];
  if (r?.status !== 'ok') return [];
  try {
    const links = JSON.parse(r.stdout) as Array<{ ifname?: string; flags?: string[]; addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }> }>;
    return links.map((l) => ({
      name: l.ifname ?? '?',
      ipv4: (l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local).map((a) => `${a.local}/${a.prefixlen ?? 32}`),
      internal: (l.flags ?? []).includes('LOOPBACK'),
    }));
  } catch {
    return [];
  }
}

/** validateGenerateInput may throw, or return {ok,errors} / {success,error}: accept any of them. */
function validationErrors(v: unknown): string[] | undefined {
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o.ok === false && Array.isArray(o.errors)) return o.errors.map(String);
    if (o.ok === false && typeof o.error === 'string') return [o.error];
  }
  return undefined;
}

function unwrap(v: unknown): unknown {
  if (v && typeof v === 'object' && 'ok' in v && 'input' in v) return (v as { input: unknown }).input;
  if (v && typeof v === 'object' && 'ok' in v && 'value' in v) return (v as { value: unknown }).value;
  return v;
}

/** GeneratedFiles as a list: an array of {path, content}, or a record path -> content. */
function filesOf(g: unknown): Array<{ path: string; content: string; mode?: number }> {
  const files = g && typeof g === 'object' && 'files' in g ? (g as { files: unknown }).files : g;
  if (Array.isArray(files)) return files as Array<{ path: string; content: string; mode?: number }>;
  if (files && typeof files === 'object') {
    return Object.entries(files as Record<string, unknown>).map(([path, v]) =>
      typeof v === 'string' ? { path, content: v } : { path, ...(v as { content: string; mode?: number }) },
    );
  }
  return [];
}

/** Runs fn with process.stdout/stderr writes captured (Ink owns the terminal meanwhile). */
async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; output: string }> {
  let output = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const capture = ((chunk: string | Uint8Array) => {
    output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    return { value: await fn(), output };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
