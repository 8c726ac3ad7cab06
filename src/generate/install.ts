// `hagw-doctor install-generated`: install a generated pair member on THIS node, from the generate
// options (JSON on stdin, never files or commands): this node's doctor validates them against its
// own addresses, renders the member itself, checks the files with keepalived -t in a scratch
// directory, and installs them as one change-engine plan (preview, backup, consent, re-check,
// rollback). What `generate --install-peer HOST` runs on the other node over SSH.
//   --dry-run            the preview and the plan's fingerprint ("plan sha256:HEX"); nothing changed
//   --yes --expect-plan  apply only the plan that was shown (refused when the host changed since)
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FixPlan } from '../types.js';
import { sha256 } from '../change/steps.js';
import { generatePair } from './render.js';
import { localNetworkFacts, validateGenerated, writeFiles } from './cli.js';
import { validateGenerateInput } from './validate.js';

/** The generate options a member is rendered from (commander's names); anything else is refused. */
export const MEMBER_KEYS = [
  'role',
  'interface',
  'vip',
  'self',
  'peer',
  'vrid',
  'priority',
  'peerPriority',
  'advertInt',
  'authPass',
  'multicast',
  'snatSource',
  'wanInterface',
  'wanVip',
  'exclude',
  'vip6',
  'self6',
  'peer6',
  'lvsNat',
  'virtualServer',
  'realServer',
] as const;

export const MAX_SPEC_BYTES = 64 * 1024;
/** validateGenerateInput requires --out; the member is installed, never written to a directory here */
const NO_OUT = '/nonexistent/hagw-doctor-install';

export type MemberSpec = Partial<Record<(typeof MEMBER_KEYS)[number], string | boolean>>;

/** Parse the JSON of a member spec: an object of known keys with string or boolean values. */
export function parseMemberSpec(text: string): { ok: true; spec: MemberSpec } | { ok: false; error: string } {
  if (Buffer.byteLength(text) > MAX_SPEC_BYTES) return { ok: false, error: `the member spec on stdin is larger than ${MAX_SPEC_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'the member spec on stdin is not JSON (generate --install-peer sends it)' };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: 'the member spec on stdin is not a JSON object' };
  const spec: MemberSpec = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(MEMBER_KEYS as readonly string[]).includes(k)) return { ok: false, error: `the member spec has an unknown key ${JSON.stringify(k).slice(0, 40)}` };
    if (typeof v !== 'string' && typeof v !== 'boolean') return { ok: false, error: `the member spec's ${k} is not a string or a boolean` };
    spec[k as keyof MemberSpec] = v;
  }
  return { ok: true, spec };
}

export interface InstallDeps {
  /** how keepalived is (re)started here; default: detected (src/change/service.ts) */
  restart?: () => Promise<import('../app/logic/install.js').RestartHow>;
  /** interface names of this node; default /sys/class/net */
  hasInterface?: (name: string) => boolean;
}

export type PreparedInstall =
  { ok: true; plan: FixPlan; preview: import('../change/preview.js').PreviewModel; fingerprint: string } | { ok: false; error: string };

/** The fingerprint of a plan as shown: its steps and the files' content when shown. */
export function planFingerprint(plan: FixPlan, fileHashes: Record<string, string | null>): string {
  return `sha256:${sha256(JSON.stringify({ plan, fileHashes }))}`;
}

/** Validate the spec as this node's member, render it, check the files, and build the install plan. */
export async function prepareInstall(spec: MemberSpec, deps: InstallDeps = {}): Promise<PreparedInstall> {
  const self = typeof spec.self === 'string' ? spec.self : undefined;
  const facts = await localNetworkFacts(self);
  if (!facts) return { ok: false, error: `${self ?? '(no --self)'} is not an address of this node: this member is for another machine; nothing changed` };
  const v = validateGenerateInput({ ...spec, out: NO_OUT }, facts);
  if (!v.ok) return { ok: false, error: `${v.errors.join('; ')}; nothing changed` };
  const input = v.value;
  const hasIf = deps.hasInterface ?? ((n: string) => existsSync(path.join('/sys/class/net', n)));
  for (const i of [input.interface, input.wanInterface].filter((x): x is string => !!x))
    if (!hasIf(i)) return { ok: false, error: `this node has no interface ${i}; nothing changed` };
  const files = generatePair(input);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'hagw-doctor-install-'));
  try {
    await writeFiles(tmp, files);
    const failed = (await validateGenerated(tmp)).find((s) => s.status === 'failed');
    if (failed) return { ok: false, error: `${failed.tool} rejects the member: ${failed.detail}; nothing changed` };
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
  const [{ installPlanFor }, { planPreview }] = await Promise.all([import('../app/logic/install.js'), import('../change/preview.js')]);
  const restart = deps.restart ? await deps.restart() : await (await import('../change/service.js')).detectKeepalivedRestart();
  const plan = installPlanFor(
    Object.entries(files).map(([p, f]) => ({ path: p, content: f.content, mode: f.mode, ...(f.installAs ? { installAs: f.installAs } : {}) })),
    restart,
  );
  const preview = planPreview(plan);
  return { ok: true, plan, preview, fingerprint: planFingerprint(plan, preview.fileHashes) };
}

export interface InstallOptions {
  dryRun: boolean;
  yes: boolean;
  expectPlan?: string;
  confirmTimeout?: number;
  out: (text: string) => void;
  err: (text: string) => void;
  /** the member spec (stdin) */
  input: string;
  isRoot: boolean;
}

export async function installGenerated(o: InstallOptions, deps: InstallDeps = {}): Promise<number> {
  const parsed = parseMemberSpec(o.input);
  if (!parsed.ok) {
    o.err(`hagw-doctor install-generated: ${parsed.error}; nothing changed\n`);
    return 3;
  }
  const p = await prepareInstall(parsed.spec, deps);
  if (!p.ok) {
    o.err(`hagw-doctor install-generated: ${p.error}\n`);
    return 3;
  }
  const [{ renderPreview }, { visibleDeep, visible }] = await Promise.all([import('../change/preview.js'), import('../report/escape.js')]);
  o.out(renderPreview(visibleDeep(p.preview), { color: false }));
  o.out(`\nplan ${p.fingerprint}\n`);
  if (o.dryRun) {
    o.out('--dry-run: nothing changed\n');
    return 0;
  }
  if (!o.isRoot) {
    o.err('hagw-doctor install-generated: installing needs root; nothing changed\n');
    return 3;
  }
  if (!o.yes) {
    // stdin carries the spec: consent is the caller's (--yes with --expect-plan of the plan it showed)
    o.err('hagw-doctor install-generated: stdin carries the member, so consent is given with --yes (and --expect-plan of the plan shown); nothing changed\n');
    return 3;
  }
  if (o.expectPlan !== undefined && o.expectPlan !== p.fingerprint) {
    o.err(`hagw-doctor install-generated: the plan is not the one shown (${o.expectPlan}): this node changed since; nothing changed\n`);
    return 3;
  }
  const [{ applyPlan }, { collect, analyse }] = await Promise.all([import('../change/index.js'), import('../pipeline.js')]);
  const result = await applyPlan(p.plan, {
    findings: [],
    expectedFiles: p.preview.fileHashes,
    ...(o.confirmTimeout ? { confirmTimeout: o.confirmTimeout } : {}),
    recheck: async () => {
      const r = analyse(await collect({}), { source: 'live' });
      return {
        codes: r.findings.map((f) => f.code),
        findings: r.findings.map((f) => ({ code: f.code, ...(f.subject !== undefined ? { subject: f.subject } : {}) })),
      };
    },
    onStep: (e) => {
      if (e.type === 'step-start') o.out(`  running step ${e.index + 1}: ${visible(e.label)}\n`);
      else if (e.type === 'step-done') o.out(`  step ${e.index + 1} ${e.status}${e.message ? `: ${visible(e.message)}` : ''}\n`);
      else if (e.type === 'backup') o.out(`change ${e.id}: backup saved in ${e.dir}\n`);
      else if (e.type === 'recheck-done') o.out(e.remaining.length ? `still reported: ${e.remaining.join(', ')}\n` : 're-check: cleared\n');
      else if (e.type === 'rollback-start') o.out(`rolling back (${visible(e.reason)})...\n`);
      else if (e.type === 'rollback-done') o.out(e.ok ? 'rolled back\n' : 'ROLLBACK INCOMPLETE\n');
      else if (e.type === 'timer-armed') o.out(`rollback timer armed: rolls back by itself unless confirmed within ${e.seconds} s\n`);
      else if (e.type === 'notice') o.out(`${visible(e.message)}\n`);
    },
  });
  (result.exitCode === 0 ? o.out : o.err)(`${visible(result.message)}\n`);
  return result.exitCode;
}

/** Read all of stdin, bounded. */
export async function readStdin(max = MAX_SPEC_BYTES + 1): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
    n += b.length;
    chunks.push(b);
    if (n > max) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}
