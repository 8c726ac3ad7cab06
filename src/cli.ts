// The command line. Interactivity is decided once, here: a TTY with no subcommand gets the
// wizard (Ink, loaded lazily); everything else is plain text or JSON and never loads React.
import type { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { CollectOptions, Report, Snapshot } from './types.js';
import { PACKAGE_ROOT, TOOL_VERSION } from './version.js';
import { wantColor } from './report/ansi.js';
import { visibleLine } from './report/escape.js';
import { embedded } from './embedded.js';
import { trace } from './trace.js';

/** An error the operator can act on: one line on stderr, exit status 3, no stack trace. */
export class UsageError extends Error {}

interface CheckFlags {
  json?: boolean;
  format?: string;
  config?: string;
  peerConfig?: string;
  peerSnapshot?: string;
  only?: string;
  from?: string;
  wire?: boolean;
  wireSeconds?: string;
  conntrackWalk?: boolean;
  since?: string;
  color?: boolean;
  kind?: string;
  peer?: string;
  sshConfig?: string;
  /** -o: write the report to this file (atomically) instead of standard output */
  output?: string;
}

function collectOptions(flags: CheckFlags): CollectOptions {
  if (flags.config && !existsSync(flags.config)) throw new UsageError(`--config ${flags.config}: no such file`);
  if (flags.peerConfig && !existsSync(flags.peerConfig)) throw new UsageError(`--peer-config ${flags.peerConfig}: no such file`);
  if (flags.peerSnapshot && !existsSync(flags.peerSnapshot)) throw new UsageError(`--peer-snapshot ${flags.peerSnapshot}: no such file`);
  if (flags.peer && flags.peerSnapshot) throw new UsageError('--peer and --peer-snapshot both name the other node: give one');
  if (flags.sshConfig && !flags.peer) throw new UsageError('--ssh-config goes with --peer HOST');
  if (flags.sshConfig && !existsSync(flags.sshConfig)) throw new UsageError(`--ssh-config ${flags.sshConfig}: no such file`);
  const o: CollectOptions = {};
  if (flags.config) o.config = path.resolve(flags.config);
  if (flags.peerConfig) o.peerConfig = path.resolve(flags.peerConfig);
  if (flags.peerSnapshot) o.peerSnapshot = path.resolve(flags.peerSnapshot);
  if (flags.wire) o.wire = true;
  if (flags.wireSeconds !== undefined) {
    const n = Number(flags.wireSeconds);
    if (!Number.isFinite(n) || n <= 0 || n > 60) throw new UsageError(`--wire-seconds takes a number of seconds from 1 to 60, not ${flags.wireSeconds}`);
    o.wireSeconds = n;
  }
  if (flags.conntrackWalk) o.conntrackWalk = true;
  if (flags.since) {
    if (!/^\d+[smhd]$/.test(flags.since)) throw new UsageError(`--since takes a duration such as 30m, 24h or 7d, not ${flags.since}`);
    o.since = flags.since;
  }
  return o;
}

function parseOnly(only: string | undefined): string[] | undefined {
  if (!only) return undefined;
  return only
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
}

/** `flag`: the option the codes came from, named only when the user gave one (--only). */
async function validateOnly(codes: string[] | undefined, flag?: string): Promise<void> {
  if (!codes) return;
  const { isFindingCode } = await import('./codes.js');
  const unknown = codes.filter((c) => !isFindingCode(c));
  if (unknown.length) throw new UsageError(`${flag ? `${flag}: ` : ''}unknown code ${unknown.join(', ')} (see \`hagw-doctor codes\`)`);
}

async function loadSnapshot(file: string): Promise<Snapshot> {
  const { readSnapshot, SnapshotError } = await import('./snapshot-file.js');
  try {
    return await readSnapshot(file);
  } catch (err) {
    if (err instanceof SnapshotError) throw new UsageError(err.message);
    throw err;
  }
}

/** `check`: collect (or load), analyse, render; the exit status is the report's. */
export async function checkCommand(flags: CheckFlags, extra: { snapshot?: Snapshot; source?: string } = {}): Promise<number> {
  const format = flags.json ? 'json' : (flags.format ?? 'text');
  if (!['text', 'json', 'prometheus', 'junit'].includes(format)) throw new UsageError(`--format takes text, json, prometheus or junit, not ${format}`);
  const only = parseOnly(flags.only);
  await validateOnly(only, '--only');
  const { exitStatus } = await import('./pipeline.js');
  let snapshot = extra.snapshot;
  let source = extra.source ?? 'live';
  if (!snapshot && flags.from) {
    if (flags.peer) throw new UsageError('--peer probes the other node live; with --from, give its snapshot with --peer-snapshot FILE');
    snapshot = await loadSnapshot(flags.from);
    source = flags.from;
    if (flags.peerSnapshot) snapshot = await withPeerSnapshotFile(snapshot, flags.peerSnapshot);
  }
  if (flags.kind !== undefined && !['gateway', 'director', 'vip'].includes(flags.kind))
    throw new UsageError(`--kind takes gateway, director or vip, not ${flags.kind}`);
  snapshot ??= await collectLive(flags);
  const { analysePair } = await import('./peer/pair.js');
  const report = analysePair(snapshot, { ...(only ? { only } : {}), source, ...(flags.kind ? { kind: flags.kind as 'gateway' | 'director' | 'vip' } : {}) });
  trace('judged');
  let text = await render(report, format, flags);
  if (format === 'text' && snapshot.options.wire) text += await wireText(snapshot);
  if (flags.output) {
    const { writeFileAtomic } = await import('./report/write-file.js');
    try {
      await writeFileAtomic(flags.output, text);
    } catch (err) {
      throw new UsageError(`cannot write ${flags.output}: ${(err as Error).message}`);
    }
  } else process.stdout.write(text);
  trace('written');
  return exitStatus(report);
}

/** check --wire: whose adverts the capture saw ("peer seen" only for another node's). */
async function wireText(snapshot: Snapshot): Promise<string> {
  const [{ wireSummaryLines }, { CheckContext }, { visible }] = await Promise.all([
    import('./vrrp/view.js'),
    import('./context.js'),
    import('./report/escape.js'),
  ]);
  return visible(wireSummaryLines(new CheckContext(snapshot)).join('\n')) + '\n';
}

/** This host's snapshot; with --peer, the other node's collected at the same time over SSH and embedded. */
async function collectLive(flags: CheckFlags): Promise<Snapshot> {
  const options = collectOptions(flags);
  if (!flags.peer) {
    const { collect } = await import('./pipeline.js');
    return collect(options).finally(() => trace('this node collected'));
  }
  const { validPeerHost } = await import('./peer/ssh.js');
  if (!validPeerHost(flags.peer)) throw new UsageError(`--peer takes [USER@]HOST, not ${JSON.stringify(flags.peer).slice(0, 80)}`);
  // the SSH handshake first: it overlaps loading the rest and this node's probes
  const target = { host: flags.peer, ...(flags.sshConfig ? { sshConfig: path.resolve(flags.sshConfig) } : {}) };
  const { connectPeer } = await import('./peer/connect.js');
  const connection = connectPeer(target);
  const [{ collect }, { collectPeer }, { embedPeer }] = await Promise.all([import('./pipeline.js'), import('./peer/collect.js'), import('./peer/pair.js')]);
  trace('collecting this node and the peer');
  const [local, peer] = await Promise.all([
    collect({ ...options, peer: flags.peer }).finally(() => trace('this node collected')),
    collectPeer(target, options, { connection }).finally(() => trace('peer collected')),
  ]);
  return embedPeer(local, peer);
}

/** --from FILE --peer-snapshot FILE: the peer's snapshot goes into the loaded one (it used to be ignored). */
async function withPeerSnapshotFile(snapshot: Snapshot, file: string): Promise<Snapshot> {
  const peer = await loadSnapshot(file);
  const { embedPeerSnapshotFile } = await import('./peer/pair.js');
  return embedPeerSnapshotFile(snapshot, path.resolve(file), peer);
}

async function render(report: Report, format: string, flags: CheckFlags): Promise<string> {
  const formats = await import('./report/formats.js');
  if (format === 'json') return formats.renderJson(report);
  if (format === 'prometheus') return formats.renderPrometheus(report, { version: TOOL_VERSION });
  if (format === 'junit') return formats.renderJunit(report);
  const { renderText } = await import('./report/text.js');
  let text = renderText(report, { color: !flags.output && wantColor(process.stdout, flags.color === false), width: process.stdout.columns ?? 100 });
  if (!report.findings.length || notAGateway(report)) text += notAGatewayHint(report);
  return text;
}

function notAGateway(report: Report): boolean {
  return (
    report.findings.some((f) => f.code === 'keepalived-not-installed') ||
    (report.findings.some((f) => f.code === 'keepalived-not-running') && report.instances.length === 0)
  );
}

function notAGatewayHint(report: Report): string {
  if (!notAGateway(report)) return '';
  return `\nNo keepalived runs in this network namespace, so this host does not look like an HA gateway.\nTo see what the doctor finds on a broken keepalived pair, run: hagw-doctor demo\n`;
}

export function demoDir(): string {
  return path.join(PACKAGE_ROOT, 'demo');
}

export function demoScenarios(): string[] {
  const emb = embedded();
  if (emb) return [...emb.demoNames].sort();
  try {
    return readdirSync(demoDir())
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
  } catch {
    return [];
  }
}

async function runDemo(scenario: string | undefined, flags: CheckFlags): Promise<number> {
  const all = demoScenarios();
  if (all.length === 0) throw new UsageError(`no demo snapshots found in ${demoDir()}`);
  const name = scenario ?? (all.includes('ip-forward-off') ? 'ip-forward-off' : all[0]!);
  if (!all.includes(name)) throw new UsageError(`no demo scenario "${name}"; there are: ${all.join(', ')}`);
  const snapshot = await loadDemo(name);
  if (interactive(flags)) {
    const { runApp } = await import('./app/main.js');
    return runApp({ color: wantColor(process.stdout, flags.color === false), demo: { scenario: name, snapshot, scenarios: all } });
  }
  if (!flags.json && (flags.format ?? 'text') === 'text') {
    process.stdout.write(`Demo: recorded snapshot "${name}" of a lab gateway (${all.join(', ')}). Fixes are shown, never applied.\n\n`);
  }
  return checkCommand(flags, { snapshot, source: `demo:${name}` });
}

/** A demo snapshot: a file of the package, or embedded in the single executable. */
async function loadDemo(name: string): Promise<Snapshot> {
  const text = embedded()?.demoText(name);
  if (text === undefined) return loadSnapshot(path.join(demoDir(), `${name}.json`));
  const { parseSnapshot, SnapshotError } = await import('./snapshot-file.js');
  try {
    return parseSnapshot(text, `demo ${name}`);
  } catch (err) {
    if (err instanceof SnapshotError) throw new UsageError(err.message);
    throw err;
  }
}

function interactive(flags: CheckFlags): boolean {
  return ttyApp() && !flags.json && !flags.format && !flags.output;
}

/** The full-screen app needs a terminal on both ends that can draw it: TERM=dumb, an unset or
 *  unknown TERM, or no TTY get the text report instead (docs/app.md). */
export function ttyApp(
  env: NodeJS.ProcessEnv = process.env,
  stdin: { isTTY?: boolean } = process.stdin,
  stdout: { isTTY?: boolean } = process.stdout,
): boolean {
  return stdin.isTTY === true && stdout.isTTY === true && capableTerm(env.TERM);
}

const KNOWN_TERMS =
  /^(xterm|screen|tmux|rxvt|vt(100|102|220|320|420|52\d)|linux|ansi|alacritty|kitty|foot|wezterm|st(-|$)|putty|konsole|gnome|iterm|eterm|cygwin|mintty|contour|ghostty|vte|rio)/i;

export function capableTerm(term: string | undefined): boolean {
  if (!term || term === 'dumb' || term === 'unknown') return false;
  return KNOWN_TERMS.test(term);
}

function addCheckOptions(cmd: Command, Option: typeof import('commander').Option, opts: { peer?: boolean } = { peer: true }): Command {
  cmd
    .option('--json', 'the JSON report (schema hagw-doctor.report/v1)')
    .addOption(new Option('--format <format>', 'text, json, prometheus or junit'))
    .option('--config <file>', "keepalived.conf to read (default: the running keepalived's -f, else /etc/keepalived/keepalived.conf)")
    .option('--peer-config <file>', "the other node's keepalived.conf, to check the pair for consistency")
    .option('--peer-snapshot <file>', "the other node's `hagw-doctor snapshot`: its config and interfaces, for pair checks")
    .option('--only <codes>', 'only these finding codes, comma-separated')
    .option('--from <snapshot>', 'analyse a snapshot file instead of this host')
    .option('--wire', 'listen for VRRP adverts on the wire (needs root and tcpdump)')
    .option('--wire-seconds <n>', 'how long to listen with --wire (default: 3 advert intervals)')
    .option('--conntrack-walk', 'allow a full walk of the conntrack table (slow on a busy gateway)')
    .option('--since <duration>', "how far back to read keepalived's log, e.g. 24h (default 24h)")
    .option('--kind <kind>', 'what this host is: gateway, director or vip (default: inferred from the config, notify scripts and rules)')
    .option('-o, --output <file>', "write the report to FILE, replaced atomically (for node_exporter's textfile collector)");
  // not on the bare program: its options are parsed before any subcommand's, and `generate --peer
  // ADDR` (the peer's address) or `watch --peer` must reach their own command
  if (opts.peer)
    cmd
      .option('--peer <[user@]host>', 'the other node, probed live over SSH (your keys, agent and ~/.ssh/config; nothing installed there)')
      .option('--ssh-config <file>', 'ssh_config for --peer (passed to ssh as -F)');
  return cmd;
}

export function buildProgram({ Command, Option }: typeof import('commander')): Command {
  const program = new Command();
  program
    .name('hagw-doctor')
    .description('Diagnose, fix and generate keepalived (VRRP) + SNAT / LVS high-availability gateways.')
    .version(TOOL_VERSION, '--version')
    .option('--no-color', 'no colour (also: NO_COLOR)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`hagw-doctor: ${str.replace(/^error: /, '').trim()}\n`) })
    .showSuggestionAfterError(true);
  addCheckOptions(program, Option, { peer: false });
  program.action(async (flags: CheckFlags) => {
    if (interactive(flags) && !flags.from) {
      const { runApp } = await import('./app/main.js');
      const o = collectOptions(flags);
      process.exitCode = await runApp({ color: wantColor(process.stdout, flags.color === false), options: o });
      return;
    }
    process.exitCode = await checkCommand(flags);
  });

  // the app by name: unlike the bare program it takes --peer HOST (the other node side by side in Diagnose)
  addCheckOptions(
    program.command('app').description('the interactive app (what the bare command starts on a terminal); --peer HOST: both nodes side by side'),
    Option,
  ).action(async (_flags: CheckFlags, cmd: Command) => {
    const flags = cmd.optsWithGlobals<CheckFlags>();
    if (flags.from) throw new UsageError('the app inspects this host live; for a snapshot file use `check --from FILE` or `demo`');
    const o = collectOptions(flags);
    let peer: { host: string; sshConfig?: string } | undefined;
    if (flags.peer) {
      const { validPeerHost } = await import('./peer/ssh.js');
      if (!validPeerHost(flags.peer)) throw new UsageError(`--peer takes [USER@]HOST, not ${JSON.stringify(flags.peer).slice(0, 80)}`);
      peer = { host: flags.peer, ...(flags.sshConfig ? { sshConfig: path.resolve(flags.sshConfig) } : {}) };
    }
    const { runApp } = await import('./app/main.js');
    process.exitCode = await runApp({ color: wantColor(process.stdout, flags.color === false), options: o, ...(peer ? { peer } : {}) });
  });

  addCheckOptions(program.command('check').description('run every check against this host (or a snapshot) and report'), Option).action(
    async (_flags: CheckFlags, cmd: Command) => {
      process.exitCode = await checkCommand(cmd.optsWithGlobals<CheckFlags>());
    },
  );

  addCheckOptions(program.command('demo [scenario]').description('the doctor on a recorded snapshot of a broken lab pair (fixes shown, never applied)'), Option)
    .addHelpText('after', () => {
      const all = demoScenarios();
      return all.length
        ? `\nScenarios (default ${all.includes('ip-forward-off') ? 'ip-forward-off' : all[0]}):\n${all.map((s) => `  ${s}`).join('\n')}\n`
        : `\nNo demo snapshots found in ${demoDir()}.\n`;
    })
    .action(async (scenario: string | undefined, _flags: CheckFlags, cmd: Command) => {
      process.exitCode = await runDemo(scenario, cmd.optsWithGlobals<CheckFlags>());
    });

  program
    .command('snapshot')
    .description('record every raw probe as one JSON document (for offline analysis or a support ticket)')
    .option('-o, --output <file>', 'write to this file (default: standard output)')
    .option('--config <file>', 'keepalived.conf to read')
    .option('--peer-config <file>', "the other node's keepalived.conf")
    .option('--peer-snapshot <file>', "the other node's snapshot")
    .option('--peer <[user@]host>', 'the other node over SSH: its snapshot is embedded in this one')
    .option('--ssh-config <file>', 'ssh_config for --peer (passed to ssh as -F)')
    .option('--wire', 'include a VRRP capture')
    .option('--wire-seconds <n>', 'capture window')
    .option('--conntrack-walk', 'include a full conntrack walk')
    .option('--since <duration>', 'log window')
    .option('--include-secrets', 'keep auth_pass values (default: replaced by a fingerprint that still tells "differs")')
    .action(async (_flags: CheckFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<CheckFlags & { output?: string; includeSecrets?: boolean }>();
      const collected = await collectLive(flags);
      const { redactSnapshot } = await import('./secrets.js');
      const snapshot = flags.includeSecrets ? { ...collected, options: { ...collected.options, secrets: 'included' as const } } : redactSnapshot(collected);
      if (flags.output) {
        const { writeSnapshot } = await import('./snapshot-file.js');
        try {
          await writeSnapshot(flags.output, snapshot);
        } catch (err) {
          throw new UsageError(`cannot write ${flags.output}: ${(err as Error).message}`);
        }
        process.stderr.write(`snapshot written to ${flags.output} (${Object.keys(snapshot.probes).length} probes)\n`);
      } else {
        const { safeJson } = await import('./report/escape.js');
        process.stdout.write(safeJson(snapshot) + '\n');
      }
      process.exitCode = 0;
    });

  program
    .command('fix <codes...>')
    .description('apply the fix attached to current findings (shows the exact steps first)')
    .option('--dry-run', 'print the exact steps and change nothing')
    .option('--yes', 'do not ask (needed without a TTY)')
    .option('--confirm-timeout <seconds>', 'roll back by itself unless `hagw-doctor confirm` runs within this many seconds')
    .option('--config <file>', 'keepalived.conf to read')
    .option('--from <snapshot>', 'preview the fixes of a snapshot (never applied)')
    .option('--on-peer <[user@]host>', "run the fix with the other node's own hagw-doctor over SSH (its preview, consent and rollback)")
    .option('--ssh-config <file>', 'ssh_config for --on-peer (passed to ssh as -F)')
    .action(async (codes: string[], _flags: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<{
        dryRun?: boolean;
        yes?: boolean;
        confirmTimeout?: string;
        config?: string;
        from?: string;
        onPeer?: string;
        sshConfig?: string;
      }>();
      let confirmTimeout: number | undefined;
      if (flags.confirmTimeout !== undefined) {
        confirmTimeout = Number(flags.confirmTimeout);
        if (!Number.isInteger(confirmTimeout) || confirmTimeout < 10 || confirmTimeout > 86400) {
          throw new UsageError(`--confirm-timeout takes whole seconds from 10 to 86400, not ${flags.confirmTimeout}`);
        }
      }
      await validateOnly(codes);
      if (flags.onPeer) {
        if (flags.from || flags.config) throw new UsageError('--on-peer runs the fix on the other node, with its own config: --from and --config do not apply');
        if (flags.sshConfig && !existsSync(flags.sshConfig)) throw new UsageError(`--ssh-config ${flags.sshConfig}: no such file`);
        const { validPeerHost } = await import('./peer/ssh.js');
        if (!validPeerHost(flags.onPeer)) throw new UsageError(`--on-peer takes [USER@]HOST, not ${JSON.stringify(flags.onPeer).slice(0, 80)}`);
        const { fixOnPeer } = await import('./peer/fix.js');
        process.exitCode = await fixOnPeer({
          target: { host: flags.onPeer, ...(flags.sshConfig ? { sshConfig: path.resolve(flags.sshConfig) } : {}) },
          codes,
          yes: flags.yes === true,
          dryRun: flags.dryRun === true,
          ...(confirmTimeout !== undefined ? { confirmTimeout } : {}),
          out: (t) => process.stdout.write(t),
          err: (t) => process.stderr.write(t),
        });
        return;
      }
      if (flags.sshConfig) throw new UsageError('--ssh-config goes with --on-peer HOST');
      if (flags.config && !existsSync(flags.config)) throw new UsageError(`--config ${flags.config}: no such file`);
      const { fixCommand } = await import('./change/cli.js');
      process.exitCode = await fixCommand({
        codes,
        dryRun: flags.dryRun === true,
        yes: flags.yes === true,
        ...(confirmTimeout !== undefined ? { confirmTimeout } : {}),
        ...(flags.config ? { config: path.resolve(flags.config) } : {}),
        ...(flags.from ? { from: flags.from } : {}),
        color: wantColor(process.stdout, program.opts().color === false),
      });
    });

  program
    .command('confirm')
    .description("keep this node's pending change (cancels its automatic rollback)")
    .option('--yes', 'do not ask (needed without a TTY)')
    .action(async (_flags: unknown, cmd: Command) => {
      const { confirmCommand } = await import('./change/cli.js');
      process.exitCode = await confirmCommand({ yes: cmd.opts<{ yes?: boolean }>().yes === true });
    });

  program
    .command('undo [change-id]')
    .description("roll a change of this node back, step by step (default: this node's latest)")
    .option('--yes', 'do not ask (needed without a TTY)')
    .option('--restore-backup', 'restore the whole tables the change backed up (shows every rule it would remove first)')
    .action(async (id: string | undefined, _flags: unknown, cmd: Command) => {
      const { undoCommand } = await import('./change/cli.js');
      const o = cmd.opts<{ yes?: boolean; restoreBackup?: boolean }>();
      process.exitCode = await undoCommand(id, { yes: o.yes === true, restoreBackup: o.restoreBackup === true });
    });

  program
    .command('changes')
    .description("list this node's changes, with their state")
    .option('--json', 'as JSON')
    .option('--all', "every node's changes (network namespaces sharing this state directory)")
    .action(async (_flags: unknown, cmd: Command) => {
      const { changesCommand } = await import('./change/cli.js');
      const o = cmd.optsWithGlobals<{ json?: boolean; all?: boolean }>();
      process.exitCode = await changesCommand({ json: o.json === true, all: o.all === true });
    });

  program
    .command('generate')
    .description('write one complete pair member (keepalived.conf, notify scripts, sysctl, rules, INSTALL.md) into DIR')
    .requiredOption('--role <role>', 'master or backup')
    .requiredOption('--interface <if>', 'the LAN interface (VRRP and the VIP)')
    .requiredOption('--vip <addr/prefix>', 'the LAN VIP, e.g. 192.168.100.1/24')
    .requiredOption('--self <addr>', "this node's address on the LAN interface")
    .requiredOption('--peer <addr>', "the other node's address")
    .option('--vrid <n>', 'virtual router id, 1-255', '51')
    .option('--priority <n>', 'VRRP priority, 1-254 (default 150 master, 100 backup)')
    .option(
      '--peer-priority <n>',
      "the other node's priority (default 100 for a master's peer, 150 for a backup's): this node's must be on the right side of it",
    )
    .option('--advert-int <s>', 'advert interval in seconds', '1')
    .option('--auth-pass <p>', 'VRRP PASS authentication (8 characters at most)')
    .option('--multicast', 'multicast adverts instead of unicast (not on cloud VPCs)')
    .option('--snat-source <cidr>', 'client network(s) to SNAT, comma-separated')
    .option('--wan-interface <if>', 'the WAN interface (SNAT out, WAN VIP)')
    .option('--wan-vip <addr/prefix>', 'the WAN VIP used as the SNAT source')
    .option('--exclude <cidrs>', 'destinations never SNATed (default 100.64.0.0/10 and the private ranges)')
    .option('--vip6 <addr/prefix>', 'an IPv6 LAN VIP too (VRRPv3 instance VI_LAN6, synced with the IPv4 one)')
    .option('--self6 <addr>', "this node's IPv6 address on the LAN interface (unicast IPv6 adverts)")
    .option('--peer6 <addr>', "the other node's IPv6 address (unicast IPv6 adverts)")
    .option('--lvs-nat', 'an LVS-NAT director (with --virtual-server and --real-server)')
    .option('--virtual-server <addr:port>', 'LVS virtual service (with --lvs-nat)')
    .option('--real-server <addr:port,...>', 'LVS real servers (with --lvs-nat)')
    .requiredOption('--out <dir>', 'where to write the files')
    .option('--force', 'write into a non-empty --out (replaces the generated files only)')
    .option(
      '--install-peer <[user@]host>',
      'then install the other member on that node over SSH, through its own hagw-doctor (its preview, backup, consent, rollback), and check both',
    )
    .option('--ssh-config <file>', 'ssh_config for --install-peer (passed to ssh as -F)')
    .option('--peer-interface <if>', "the other node's LAN interface, when its name differs (with --install-peer)")
    .option('--peer-wan-interface <if>', "the other node's WAN interface, when its name differs (with --install-peer)")
    .option('--yes', 'install on the peer without asking (with --install-peer)')
    .option('--confirm-timeout <seconds>', "the peer's install rolls back by itself unless confirmed there in time (with --install-peer)")
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const peer = typeof flags.installPeer === 'string' ? flags.installPeer : undefined;
      const sshConfig = typeof flags.sshConfig === 'string' ? flags.sshConfig : undefined;
      for (const k of ['sshConfig', 'peerInterface', 'peerWanInterface', 'yes', 'confirmTimeout'] as const)
        if (flags[k] !== undefined && !peer) throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} goes with --install-peer HOST`);
      let confirmTimeout: number | undefined;
      if (peer) {
        const { validPeerHost } = await import('./peer/ssh.js');
        if (!validPeerHost(peer)) throw new UsageError(`--install-peer takes [USER@]HOST, not ${JSON.stringify(peer).slice(0, 80)}`);
        if (sshConfig && !existsSync(sshConfig)) throw new UsageError(`--ssh-config ${sshConfig}: no such file`);
        if (flags.confirmTimeout !== undefined) {
          confirmTimeout = Number(flags.confirmTimeout);
          if (!Number.isInteger(confirmTimeout) || confirmTimeout < 10 || confirmTimeout > 86400)
            throw new UsageError(`--confirm-timeout takes whole seconds from 10 to 86400, not ${String(flags.confirmTimeout)}`);
        }
      }
      const { generateCommand } = await import('./generate/cli.js');
      const target = peer ? { host: peer, ...(sshConfig ? { sshConfig: path.resolve(sshConfig) } : {}) } : undefined;
      process.exitCode = await generateCommand(
        flags,
        target
          ? async (input, raw) => {
              const { installOnPeer, peerMemberSpec } = await import('./generate/peer.js');
              const { askOnTerminal } = await import('./change/cli.js');
              const rc = await installOnPeer({
                target,
                spec: peerMemberSpec(input, raw),
                yes: flags.yes === true,
                ...(confirmTimeout !== undefined ? { confirmTimeout } : {}),
                ask: process.stdin.isTTY ? askOnTerminal : null,
                out: (t) => process.stdout.write(t),
                err: (t) => process.stderr.write(t),
              });
              if (rc !== 0) return rc;
              // both nodes, as `check --peer` sees them
              process.stdout.write(`\nBoth nodes now (hagw-doctor check --peer ${target.host}):\n\n`);
              return checkCommand({ peer: target.host, ...(target.sshConfig ? { sshConfig: target.sshConfig } : {}) });
            }
          : undefined,
      );
    });

  program
    .command('install-generated')
    .description('install a generated pair member on this node from generate options (JSON on stdin); what generate --install-peer runs there')
    .option('--dry-run', 'show the plan and its fingerprint; change nothing')
    .option('--yes', 'apply (stdin carries the member, so consent is given here)')
    .option('--expect-plan <fingerprint>', 'apply only if the plan is still the one shown (sha256:...)')
    .option('--confirm-timeout <seconds>', 'roll back by itself unless `hagw-doctor confirm` runs within this many seconds')
    .action(async (_flags: unknown, cmd: Command) => {
      const f = cmd.opts<{ dryRun?: boolean; yes?: boolean; expectPlan?: string; confirmTimeout?: string }>();
      let confirmTimeout: number | undefined;
      if (f.confirmTimeout !== undefined) {
        confirmTimeout = Number(f.confirmTimeout);
        if (!Number.isInteger(confirmTimeout) || confirmTimeout < 10 || confirmTimeout > 86400)
          throw new UsageError(`--confirm-timeout takes whole seconds from 10 to 86400, not ${f.confirmTimeout}`);
      }
      if (f.expectPlan !== undefined && !/^sha256:[0-9a-f]{64}$/.test(f.expectPlan)) throw new UsageError('--expect-plan takes sha256:HEX (from --dry-run)');
      if (process.stdin.isTTY) throw new UsageError('install-generated reads the member (generate options as JSON) on stdin; generate --install-peer sends it');
      const { installGenerated, readStdin } = await import('./generate/install.js');
      process.exitCode = await installGenerated({
        dryRun: f.dryRun === true,
        yes: f.yes === true,
        ...(f.expectPlan ? { expectPlan: f.expectPlan } : {}),
        ...(confirmTimeout !== undefined ? { confirmTimeout } : {}),
        input: await readStdin(),
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
        isRoot: process.getuid?.() === 0,
      });
    });

  program
    .command('timeline')
    .description("keepalived's state transitions and their causes, from its log")
    .option('--since <duration>', 'how far back, e.g. 24h', '24h')
    .option('--json', 'as JSON')
    .option('--config <file>', 'keepalived.conf to read')
    .option('--from <snapshot>', 'from a snapshot file')
    .action(async (_flags: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<{ since: string; json?: boolean; config?: string; from?: string }>();
      if (!/^\d+[smhd]$/.test(flags.since)) throw new UsageError(`--since takes a duration such as 30m, 24h or 7d, not ${flags.since}`);
      const { timelineCommand } = await import('./vrrp/cli.js');
      process.exitCode = await timelineCommand({ ...flags, color: wantColor(process.stdout, program.opts().color === false) });
    });

  program
    .command('codes')
    .description('every finding code, its severity and what it means (from the registry)')
    .option('--json', 'as JSON: code, severity, meaning, detection, fix, checks')
    .action(async (_flags: unknown, cmd: Command) => {
      const { json } = cmd.optsWithGlobals<{ json?: boolean }>();
      const [{ CHECKS }, view] = await Promise.all([import('../checks/index.js'), import('./codes-view.js')]);
      const entries = view.codeEntries(CHECKS);
      process.stdout.write(json ? JSON.stringify(entries, null, 2) + '\n' : view.renderCodesText(entries, process.stdout.columns ?? 100));
      process.exitCode = 0;
    });

  program
    .command('explain <code>')
    .description('one finding code: what it means, how it is detected, the fix')
    .action(async (code: string) => {
      const [{ CHECKS }, view] = await Promise.all([import('../checks/index.js'), import('./codes-view.js')]);
      const known = view.lookupCode(code);
      if (!known) throw new UsageError(`unknown code ${code} (see \`hagw-doctor codes\`)`);
      process.stdout.write(
        view.renderExplain(
          view.codeEntries(CHECKS).find((e) => e.code === known)!,
          process.stdout.columns ?? 100,
        ),
      );
      process.exitCode = 0;
    });

  program
    .command('watch')
    .description('follow this node live until interrupted: state changes with their cause, VIPs, adverts, findings, changes')
    .addOption(new Option('--format <format>', 'text or jsonl (one JSON event a line)').default('text'))
    .option('--for <seconds>', 'stop after this many seconds')
    .option('--peer <host>', "also the other node's events, over SSH (its own hagw-doctor watch)")
    .option('--ssh-config <file>', 'ssh_config for --peer (passed to ssh as -F)')
    .option('--wire', "follow the peer's VRRP adverts on the wire (tcpdump -p; root): silence counted to the second")
    .option('--config <file>', 'keepalived.conf to read')
    .option('--log <file>', "follow this file as keepalived's log (default: where the running keepalived logs)")
    .option('--node <name>', 'the node name in each event (default: the host name)')
    .option('--check-every <seconds>', 'the light check that reports findings appearing and clearing (default 60; 0: only at start)')
    .action(async (_flags: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{
        format: string;
        for?: string;
        peer?: string;
        sshConfig?: string;
        wire?: boolean;
        config?: string;
        log?: string;
        node?: string;
        checkEvery?: string;
      }>();
      if (f.peer) {
        const { validPeerHost } = await import('./peer/ssh.js');
        if (!validPeerHost(f.peer)) throw new UsageError(`--peer takes a host name or user@host, not ${f.peer}`);
      }
      if (f.sshConfig && !f.peer) throw new UsageError('--ssh-config goes with --peer HOST');
      if (f.sshConfig && !existsSync(f.sshConfig)) throw new UsageError(`--ssh-config ${f.sshConfig}: no such file`);
      if (f.format !== 'text' && f.format !== 'jsonl') throw new UsageError(`--format takes text or jsonl, not ${f.format}`);
      const seconds = (name: string, v: string | undefined, min: number) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isFinite(n) || n < min || n > 30 * 86400) throw new UsageError(`${name} takes a number of seconds, not ${v}`);
        return n;
      };
      if (f.config && !existsSync(f.config)) throw new UsageError(`--config ${f.config}: no such file`);
      if (f.log && !existsSync(f.log)) throw new UsageError(`--log ${f.log}: no such file`);
      const forS = seconds('--for', f.for, 0.1);
      const every = seconds('--check-every', f.checkEvery, 0);
      const { watchCommand } = await import('./watch/cli.js');
      process.exitCode = await watchCommand({
        format: f.format,
        ...(forS !== undefined ? { for: forS } : {}),
        ...(f.peer ? { peer: f.peer } : {}),
        ...(f.sshConfig ? { sshConfig: path.resolve(f.sshConfig) } : {}),
        ...(f.wire ? { wire: true } : {}),
        ...(f.log ? { log: path.resolve(f.log) } : {}),
        ...(f.node ? { node: f.node } : {}),
        ...(every !== undefined ? { checkEvery: every } : {}),
        collect: f.config ? { config: path.resolve(f.config) } : {},
      });
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  trace('main');
  try {
    // before anything else: a commit-confirmed change past its deadline (its timer died) is rolled back
    const { settleOverdueFirst } = await import('./change/overdue.js');
    await settleOverdueFirst(argv);
    if (argv.length === 0 && ttyApp()) {
      // `ssh gw1; hagw-doctor`: straight to the app, without loading the argument parser
      const { runApp } = await import('./app/main.js');
      return await runApp({ color: wantColor(process.stdout, false), options: {} });
    }
    const program = buildProgram(await import('commander'));
    trace('parsing arguments');
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // commander's own errors carry a code "commander.*" (class names do not survive minifying)
    const code = (err as { code?: unknown })?.code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // help and version are not errors; commander already printed its one line for the rest
      return code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? 0 : 3;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`hagw-doctor: ${visibleLine(err.message)}\n`);
      return 3;
    }
    const e = err as Error;
    process.stderr.write(
      `hagw-doctor: internal error: ${visibleLine(e?.message ?? String(err))}${process.env.HAGW_DOCTOR_DEBUG ? `\n${e?.stack}` : ' (HAGW_DOCTOR_DEBUG=1 shows the stack)'}\n`,
    );
    return 3;
  }
}
