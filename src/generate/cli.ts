// `hagw-doctor generate`: validate every value, render, write into a temporary directory next to
// --out, validate the files with keepalived -t and iptables-restore --test, then move them into --out.
// Bad input or a failed validation: one line on stderr, exit 3, nothing left in --out.
import { execa } from 'execa';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileSafe } from '../change/fsafe.js';
import { existsSync } from 'node:fs';
import { COMMAND_ENV } from '../probes/run.js';
import { parseKeepalivedConfig } from '../keepalived/parse.js';
import { diskReader } from '../keepalived/reader.js';
import { generatePair, type GeneratedFiles } from './render.js';
import { parseIpv4Cidr, validateGenerateInput, type GenerateInput, type NetworkFacts } from './validate.js';
import { routesFromIpJson } from './sanity.js';

export { generatePair, validateGenerateInput };
export type { GeneratedFiles, GenerateInput };

export interface ValidationStep {
  tool: string;
  status: 'ok' | 'skipped' | 'failed';
  detail: string;
}

export type WriteOutcome = { ok: true; out: string; files: GeneratedFiles; steps: ValidationStep[] } | { ok: false; error: string };

/** Render, validate in a scratch directory with the real tools, then install each file into --out
 *  (temporary name in its own directory, fsync, rename: never across filesystems, never through a
 *  link). A validation failure leaves --out untouched; an existing non-empty --out needs force.
 *  Shared by the command and the wizard. */
export async function writeGeneratedPair(input: GenerateInput, opts: { force?: boolean } = {}): Promise<WriteOutcome> {
  const files = generatePair(input);
  const out = path.resolve(input.out);
  let tmp: string | undefined;
  try {
    const refusal = await outRefusal(out, files, opts.force === true);
    if (refusal) return { ok: false, error: refusal };
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hagw-doctor-generate-'));
    await writeFiles(tmp, files);
    const steps = await validateGenerated(tmp);
    const failed = steps.find((s) => s.status === 'failed');
    if (failed) return { ok: false, error: `${failed.tool} rejects the generated files: ${failed.detail}; nothing written to ${out}` };
    await installInto(out, files);
    return { ok: true, out, files, steps };
  } catch (err) {
    return { ok: false, error: `cannot write ${out}: ${(err as Error)?.message ?? String(err)}` };
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Why --out cannot take the files: a link on the way, a file where a directory goes, or an
 *  existing non-empty directory without --force. */
async function outRefusal(out: string, files: GeneratedFiles, force: boolean): Promise<string | null> {
  const st = await lstat(out).catch(() => undefined);
  if (st?.isSymbolicLink()) return `${out} is a symbolic link; the doctor never writes through links (give the real directory)`;
  if (st && !st.isDirectory()) return `${out} exists and is not a directory`;
  if (st) {
    const entries = await readdir(out);
    if (entries.length && !force)
      return `${out} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}); add --force to replace the generated files in it (other files are left alone)`;
    for (const rel of Object.keys(files)) {
      let cur = out;
      for (const part of rel.split('/')) {
        cur = path.join(cur, part);
        const s = await lstat(cur).catch(() => undefined);
        if (s?.isSymbolicLink()) return `${cur} is a symbolic link; the doctor never writes through links; nothing written`;
        if (!s) break;
      }
    }
  }
  return null;
}

async function installInto(out: string, files: GeneratedFiles): Promise<void> {
  const created: string[] = [];
  try {
    for (const [rel, f] of Object.entries(files)) {
      const target = path.join(out, rel);
      const existed = await lstat(target).then(
        () => true,
        () => false,
      );
      await writeFileSafe(target, f.content, f.mode, undefined, { owners: 'any' });
      if (!existed) created.push(target);
    }
    await chmod(out, 0o755);
  } catch (err) {
    // a half-installed pair is worse than none: take out what this run created
    for (const f of created) await rm(f, { force: true }).catch(() => undefined);
    throw err;
  }
}

export const describeValidation = (steps: ValidationStep[]) =>
  steps.map((s) => `${s.status === 'ok' ? 'checked' : 'not checked'}: ${s.tool}${s.detail ? ` (${s.detail})` : ''}`);

/** afterWrite: what runs once this member is written (generate --install-peer); its status is the command's. */
export async function generateCommand(
  opts: Record<string, string | boolean | undefined>,
  afterWrite?: (input: GenerateInput, raw: Record<string, string | boolean | undefined>) => Promise<number>,
): Promise<number> {
  const v = validateGenerateInput(opts, await localNetworkFacts(typeof opts.self === 'string' ? opts.self : undefined));
  if (!v.ok) {
    // every problem at once, one a line
    process.stderr.write(v.errors.map((e) => `hagw-doctor generate: ${e}\n`).join(''));
    return 3;
  }
  const input = v.value;
  const r = await writeGeneratedPair(input, { force: opts.force === true });
  if (!r.ok) {
    process.stderr.write(`hagw-doctor generate: ${r.error}\n`);
    return 3;
  }
  const lines = [
    `Wrote the ${input.role} (${input.self}) into ${r.out}:`,
    ...Object.keys(r.files)
      .sort()
      .map((f) => `  ${f}`),
    ...describeValidation(r.steps),
    `Next: follow ${path.join(r.out, 'INSTALL.md')}${afterWrite ? ' on this node' : ''}.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return afterWrite ? afterWrite(input, opts) : 0;
}

export async function writeFiles(dir: string, files: GeneratedFiles): Promise<void> {
  for (const [rel, f] of Object.entries(files)) {
    const p = path.join(dir, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, f.content, { mode: f.mode });
    await chmod(p, f.mode); // the umask must not take the exec bit off the scripts
  }
}

// keepalived -t on a host that is not the gateway: its interfaces are not here; not a fault of the file
const ENVIRONMENT_ONLY = [/interface \S+ .*doesn't exist/, /^Non-existent interface specified/, /not found\/accessible/, /^\s*$/];

/** Validate written files with the real tools where they are installed. */
export async function validateGenerated(dir: string): Promise<ValidationStep[]> {
  const conf = path.join(dir, 'keepalived.conf');
  const steps: ValidationStep[] = [];
  const own = parseKeepalivedConfig(conf, diskReader());
  const ownErrors = own.diagnostics.filter((d) => d.severity === 'error');
  steps.push(
    ownErrors.length
      ? { tool: 'hagw-doctor parser', status: 'failed', detail: `line ${ownErrors[0]!.loc.line}: ${ownErrors[0]!.message}` }
      : { tool: 'hagw-doctor parser', status: 'ok', detail: '' },
  );

  const kt = await execa('keepalived', ['-t', '-f', conf], { env: COMMAND_ENV, reject: false, timeout: 10_000, stdin: 'ignore' });
  if ((kt as { code?: string }).code === 'ENOENT' || (kt.failed && kt.exitCode === undefined))
    steps.push({ tool: 'keepalived -t', status: 'skipped', detail: 'keepalived is not installed here' });
  else {
    const lines = `${kt.stderr}\n${kt.stdout}`.split('\n').map((l) => l.replace(/^\([^)]*Line \d+\)\s*/, ''));
    const real = lines.filter((l) => !ENVIRONMENT_ONLY.some((re) => re.test(l)));
    if (kt.exitCode === 0 || (kt.exitCode === 5 && real.length === 0))
      steps.push({ tool: 'keepalived -t', status: 'ok', detail: kt.exitCode === 0 ? '' : 'interfaces not present on this host' });
    else steps.push({ tool: 'keepalived -t', status: 'failed', detail: `exit ${kt.exitCode}: ${real[0] ?? ''}` });
  }

  const ir = await execa('iptables-restore', ['--test', '--noflush'], {
    env: COMMAND_ENV,
    reject: false,
    timeout: 10_000,
    inputFile: path.join(dir, 'rules.v4'),
  });
  if ((ir as { code?: string }).code === 'ENOENT' || ir.exitCode === undefined)
    steps.push({ tool: 'iptables-restore --test', status: 'skipped', detail: 'iptables-restore is not installed here' });
  else if (ir.exitCode === 0) steps.push({ tool: 'iptables-restore --test', status: 'ok', detail: '' });
  else if (/Permission denied|must be root|Operation not permitted/i.test(ir.stderr))
    steps.push({ tool: 'iptables-restore --test', status: 'skipped', detail: 'needs root' });
  else steps.push({ tool: 'iptables-restore --test', status: 'failed', detail: ir.stderr.trim().split('\n')[0] ?? `exit ${ir.exitCode}` });

  if (existsSync(path.join(dir, 'rules.v6'))) {
    const i6 = await execa('ip6tables-restore', ['--test', '--noflush'], {
      env: COMMAND_ENV,
      reject: false,
      timeout: 10_000,
      inputFile: path.join(dir, 'rules.v6'),
    });
    if ((i6 as { code?: string }).code === 'ENOENT' || i6.exitCode === undefined)
      steps.push({ tool: 'ip6tables-restore --test', status: 'skipped', detail: 'ip6tables-restore is not installed here' });
    else if (i6.exitCode === 0) steps.push({ tool: 'ip6tables-restore --test', status: 'ok', detail: '' });
    else if (/Permission denied|must be root|Operation not permitted/i.test(i6.stderr))
      steps.push({ tool: 'ip6tables-restore --test', status: 'skipped', detail: 'needs root' });
    else steps.push({ tool: 'ip6tables-restore --test', status: 'failed', detail: i6.stderr.trim().split('\n')[0] ?? `exit ${i6.exitCode}` });
  }

  for (const name of (await readdir(path.join(dir, 'scripts')).catch(() => [] as string[])).sort()) {
    const sh = await execa('sh', ['-n', path.join(dir, 'scripts', name)], { env: COMMAND_ENV, reject: false, timeout: 5000, stdin: 'ignore' });
    if (sh.exitCode !== 0) steps.push({ tool: `sh -n scripts/${name}`, status: 'failed', detail: sh.stderr.trim() });
  }
  return steps;
}

/** This host's subnets and routes, when --self is one of its addresses (generating for this node):
 *  the peer's reachability is judged against them. Elsewhere (generating for another machine) nothing is known. */
export async function localNetworkFacts(self: string | undefined): Promise<NetworkFacts | undefined> {
  const addrs = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => !!a && a.family === 'IPv4' && !a.internal);
  if (!self || !addrs.some((a) => a.address === self)) return undefined;
  const subnets = addrs
    .map((a) => a.cidr)
    .filter((c): c is string => !!c)
    .map((c) => parseIpv4Cidr(c) ?? c);
  const r = await execa('ip', ['-j', '-4', 'route', 'show'], { reject: false, timeout: 3000, env: COMMAND_ENV });
  return { subnets, ...(r.exitCode === 0 ? { routes: routesFromIpJson(String(r.stdout)) } : {}) };
}
