/**
 * A real OpenSSH server (Debian's /usr/sbin/sshd) inside lab gateway namespaces, and a client
 * configuration to reach it from the lab's client namespace or from one gateway to the other.
 * Root only, like the rest of the lab; everything lives in the lab's run dir and dies with the lab.
 *
 *   import { createLab, type Lab } from './harness.js';
 *   import { startLabSsh, type LabSsh } from './sshd.js';
 *   let lab: Lab; let ssh: LabSsh;
 *   beforeAll(async () => { lab = await createLab(); ssh = await startLabSsh(lab); });
 *   afterAll(() => lab?.destroy());             // also ends every sshd and session (see below)
 *
 * startLabSsh(lab, opts?): Promise<LabSsh>
 *     generates per-run keys in RUN/ssh/ (ssh-keygen: one ed25519 host key per gateway, one client
 *     key), writes one sshd_config per gateway (RUN/ssh/NODE/sshd_config), the client config
 *     RUN/ssh/ssh_config and known_hosts, and starts sshd on opts.nodes (default gw1 and gw2),
 *     waiting until each accepts a login.
 *     opts.env(node): extra environment for that node's sessions (sshd SetEnv); default: the
 *       doctor's state/lock/log in RUN/doctor/NODE (what lab.doctor(node) uses) and NO_COLOR=1.
 *
 * LabSsh
 *   dir                         RUN/ssh
 *   configPath                  the client ssh_config: `ssh -F configPath gw2` from any lab node
 *   clientKey / knownHostsPath  the client's private key / known_hosts (per-run host keys)
 *   host(node)                  the Host alias in configPath ('gw1', 'gw2'; its HostName is the LAN address)
 *   start(node, {hide?}) / stop(node)  start sshd (resolves with its pid once it logs "Server listening";
 *                               hide: paths its sessions see as an empty non-executable file) /
 *                               SIGTERM it and wait until it is gone; sessions already open go on
 *   pid(node) / logPath(node)   sshd's pid (undefined when not running) / its -E log
 *   ssh(from, to, remoteArgv, {timeoutMs?, input?})  `ip netns exec FROM ssh -F CFG TO -- ARGV`,
 *                               each remote argument single-quoted for the remote sh; never rejects
 *   binDir(node)                a directory first on the PATH of that node's sessions (empty), RUN/ssh-bin/NODE:
 *                               every login user (daemon, nobody) can run what is put there
 *   installDoctor(node) / uninstallDoctor(node)   put (remove) a `hagw-doctor` wrapper there that
 *                               runs this checkout's bin/hagw-doctor: "hagw-doctor installed on the peer"
 *
 * sshd runs as `ip netns exec NS /usr/sbin/sshd -D -f RUN/ssh/NODE/sshd_config -E RUN/ssh/NODE/sshd.log`
 * (its own session, detached, not daemonised, so `ip netns pids` finds it and every session it
 * forks). The config: ListenAddress on the gateway's LAN and WAN addresses only, port 22 (the
 * namespace has its own ports), HostKey in the run dir, PidFile in the run dir, UsePAM no, only
 * public-key logins (PermitRootLogin prohibit-password, AuthorizedKeysFile RUN/ssh/authorized_keys
 * and RUN/ssh-users/%u, the latter world-readable because sshd reads a user's keys as that user),
 * StrictModes no (the run dir lives under the world-writable /tmp, which StrictModes refuses for
 * an authorized_keys path outside a home; RUN/ssh itself is 0700 root).
 * The client config: one Host block per gateway (HostName = its LAN address, User root,
 * IdentityFile, IdentitiesOnly, UserKnownHostsFile = RUN/ssh/known_hosts, GlobalKnownHostsFile
 * /dev/null, StrictHostKeyChecking yes, BatchMode yes), and no ~/.ssh is read or written.
 *
 * sshd insists on its privilege-separation directory /run/sshd (compiled in, not configurable).
 * The host's /run is not touched: `ip netns exec` gives sshd a mount namespace of its own, where a
 * tmpfs is mounted over /run, every entry of the host's /run is bound back into it, and /run/sshd
 * is created in the tmpfs. The view dies with sshd; the host never sees a /run/sshd of ours.
 *
 * Sessions: each gateway gets its own /etc/passwd (/etc/netns/NS/passwd, a copy of the host's with
 * root's login shell set to /bin/sh), so a login runs `sh -c` and not the host root's bash with
 * its ~/.bashrc (bash sources it for every ssh command), which the lab must not depend on.
 * `nobody@gw2` logs in too (same key, /bin/sh): an SSH user without root (and without sudo).
 * `daemon@gw2` (SUDO_USER) logs in the same way and is root through `sudo -n` (NOPASSWD in the
 * node's own /etc/netns/NS/sudoers, bound over /etc/sudoers in its sessions; sudo is installed
 * by .ci/run). The host's /etc/sudoers is never touched.
 *
 * Teardown: lab.destroy() (and its exit/signal handlers) kill every process in the lab's
 * namespaces, sshd and its sessions included, and remove the run dir with the keys; no harness
 * hook is needed. labLeftovers(id) lists an sshd still alive (its argv names RUN).
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { waitFor, type ExecResult, type Lab } from './harness.js';
import { ADDR, type GatewayNode, type LabNode } from './topology.js';
import { packageForNobody } from '../support/nobody.js';

export interface LabSshOptions {
  /** gateways that run sshd (default gw1 and gw2) */
  nodes?: readonly GatewayNode[];
  /** extra environment for the node's sessions (default: the doctor's state in the run dir, NO_COLOR=1) */
  env?: (node: GatewayNode) => Record<string, string>;
}

/** The SSH user that is not root but may become root through `sudo -n` (NOPASSWD in the node's sudoers). */
export const SUDO_USER = 'daemon';
const COMMAND_ENV = { LC_ALL: 'C', LANG: 'C', PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
const SESSION_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const GATEWAYS: readonly GatewayNode[] = ['gw1', 'gw2'];

/** One argument quoted for a POSIX sh: '...' with every ' written as '\''. */
export function shQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function alive(pid: number): boolean {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function must(argv: readonly string[]): Promise<string> {
  const [file, ...args] = argv;
  const r = await execa(file!, args, { reject: false, timeout: 30_000, env: COMMAND_ENV, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`lab ssh: \`${argv.join(' ')}\` failed (exit ${r.exitCode}): ${String(r.stderr).trim()}`);
  return String(r.stdout);
}

export class LabSsh {
  readonly dir: string;
  readonly configPath: string;
  readonly clientKey: string;
  readonly knownHostsPath: string;
  private readonly lab: Lab;
  /** the doctor every session runs once installDoctor() was called (a copy nobody can read) */
  private doctorPackage: string | undefined;
  private readonly env: (node: GatewayNode) => Record<string, string>;

  constructor(lab: Lab, opts: LabSshOptions = {}) {
    this.lab = lab;
    this.dir = path.join(lab.runDir, 'ssh');
    this.configPath = path.join(this.dir, 'ssh_config');
    this.clientKey = path.join(this.dir, 'client_ed25519');
    this.knownHostsPath = path.join(this.dir, 'known_hosts');
    this.env =
      opts.env ??
      ((node) => {
        const d = path.join(lab.runDir, 'doctor', node);
        return {
          HAGW_DOCTOR_STATE_DIR: path.join(d, 'state'),
          HAGW_DOCTOR_LOCK: path.join(d, 'hagw-doctor.lock'),
          HAGW_DOCTOR_LOG: path.join(d, 'hagw-doctor.log'),
          NO_COLOR: '1',
        };
      });
  }

  host(node: GatewayNode): string {
    return node;
  }

  nodeDir(node: GatewayNode): string {
    return path.join(this.dir, node);
  }

  logPath(node: GatewayNode): string {
    return path.join(this.nodeDir(node), 'sshd.log');
  }

  /** Outside RUN/ssh (root's alone: it holds the client key), so every login user can run what is here. */
  binDir(node: GatewayNode): string {
    return path.join(this.lab.runDir, 'ssh-bin', node);
  }

  private pidPath(node: GatewayNode): string {
    return path.join(this.nodeDir(node), 'sshd.pid');
  }

  private hostKey(node: GatewayNode): string {
    return path.join(this.nodeDir(node), 'ssh_host_ed25519_key');
  }

  pid(node: GatewayNode): number | undefined {
    try {
      const pid = Number(readFileSync(this.pidPath(node), 'utf8').trim());
      return pid > 0 && alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Keys, configs, known_hosts (run once by startLabSsh). */
  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    if (!existsSync(this.clientKey)) await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${this.lab.id}-client`, '-f', this.clientKey]);
    const clientPub = (await readFile(`${this.clientKey}.pub`, 'utf8')).trim();
    await writeFile(path.join(this.dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });
    // sshd reads a user's keys with that user's rights: nobody's key sits where nobody can read it
    const usersDir = path.join(this.lab.runDir, 'ssh-users');
    await mkdir(usersDir, { recursive: true, mode: 0o755 });
    await writeFile(path.join(usersDir, 'nobody'), `${clientPub}\n`, { mode: 0o644 });
    await writeFile(path.join(usersDir, SUDO_USER), `${clientPub}\n`, { mode: 0o644 });
    // root's shell: /bin/sh in the lab nodes (see the header); the host's passwd stays as it is
    const hostPasswd = await readFile('/etc/passwd', 'utf8');
    // and `nobody` may log in too (same key, shell /bin/sh): an unprivileged SSH user for tests
    const labPasswd = hostPasswd
      .split('\n')
      .map((l) => (l.startsWith('root:') || l.startsWith('nobody:') || l.startsWith(`${SUDO_USER}:`) ? l.replace(/:[^:]*$/, ':/bin/sh') : l))
      .join('\n');
    const known: string[] = [];
    const hosts: string[] = [];
    for (const node of GATEWAYS) {
      const addr = ADDR[node];
      await mkdir(this.nodeDir(node), { recursive: true, mode: 0o755 });
      await mkdir(this.binDir(node), { recursive: true, mode: 0o755 });
      await chmod(path.dirname(this.binDir(node)), 0o755);
      await chmod(this.binDir(node), 0o755);
      await this.lab.writeEtc(node, 'passwd', labPasswd, 0o644);
      // the node's own sudoers (bound over /etc/sudoers in its sessions when sudo is installed):
      // `daemon` becomes root through `sudo -n`, without a password; nobody else may
      await this.lab.writeEtc(
        node,
        'sudoers',
        `# ${this.lab.id} ${node}: the lab node's own sudoers (test/lab/sshd.ts)\nDefaults !lecture\nroot ALL=(ALL:ALL) ALL\n${SUDO_USER} ALL=(root) NOPASSWD: ALL\n`,
        0o440,
      );
      if (!existsSync(this.hostKey(node)))
        await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${this.lab.id}-${node}`, '-f', this.hostKey(node)]);
      const pub = (await readFile(`${this.hostKey(node)}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
      known.push(`${addr.lan},${addr.wan} ${pub}`);
      const env = { ...this.env(node), PATH: `${this.binDir(node)}:${SESSION_PATH}` };
      const setEnv = Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      await writeFile(
        path.join(this.nodeDir(node), 'sshd_config'),
        [
          `# ${this.lab.id} ${node}: the lab's own sshd (test/lab/sshd.ts); nothing of the host's /etc/ssh is read`,
          `ListenAddress ${addr.lan}:22`,
          `ListenAddress ${addr.wan}:22`,
          `HostKey ${this.hostKey(node)}`,
          `PidFile ${this.pidPath(node)}`,
          'UsePAM no',
          'PermitRootLogin prohibit-password',
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          `AuthorizedKeysFile ${path.join(this.dir, 'authorized_keys')} ${path.join(this.lab.runDir, 'ssh-users')}/%u`,
          'StrictModes no',
          'UseDNS no',
          'PrintMotd no',
          'PrintLastLog no',
          'X11Forwarding no',
          'AllowTcpForwarding no',
          'AllowAgentForwarding no',
          'PermitTunnel no',
          // the lab runs many logins quickly; keep them all
          'MaxStartups 100:30:200',
          'MaxSessions 50',
          'LogLevel VERBOSE',
          `SetEnv ${setEnv}`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      hosts.push(
        [
          `Host ${this.host(node)} ${addr.lan} ${addr.wan}`,
          `    HostName ${addr.lan}`,
          '    User root',
          `    IdentityFile ${this.clientKey}`,
          '    IdentitiesOnly yes',
          `    UserKnownHostsFile ${this.knownHostsPath}`,
          '    GlobalKnownHostsFile /dev/null',
          '    StrictHostKeyChecking yes',
          '    BatchMode yes',
          '    ConnectTimeout 5',
          '    LogLevel ERROR',
          '',
        ].join('\n'),
      );
    }
    await writeFile(this.knownHostsPath, `${known.join('\n')}\n`, { mode: 0o600 });
    await writeFile(this.configPath, `# ${this.lab.id}: reach the lab's gateways (test/lab/sshd.ts)\n${hosts.join('\n')}`, { mode: 0o600 });
  }

  /** Start sshd in the node; resolves with its pid once it listens. */
  async start(node: GatewayNode, opts: { hide?: readonly string[] } = {}): Promise<number> {
    if (this.pid(node)) throw new Error(`lab ssh: sshd already runs on ${node}`);
    const cfg = path.join(this.nodeDir(node), 'sshd_config');
    const log = this.logPath(node);
    const hostRun = path.join(this.nodeDir(node), 'host-run');
    await mkdir(hostRun, { recursive: true });
    await rm(this.pidPath(node), { force: true });
    const logStart = existsSync(log) ? (await readFile(log, 'utf8')).length : 0;
    const q = shQuote;
    const hidden = path.join(this.nodeDir(node), 'hidden');
    if (opts.hide?.length) await writeFile(hidden, '', { mode: 0o644 });
    // in this exec's private mount namespace: the host's /run kept aside, a tmpfs over /run with
    // every host entry bound back, and /run/sshd made in the tmpfs (see the header)
    const script = [
      'set -e',
      `mount --rbind /run ${q(hostRun)}`,
      'mount -t tmpfs -o mode=0755,size=1m labrun /run',
      `for e in ${q(hostRun)}/* ${q(hostRun)}/.[!.]*; do`,
      '  [ -e "$e" ] || [ -L "$e" ] || continue',
      '  n=/run/${e##*/}',
      '  if [ -L "$e" ]; then cp -P "$e" "$n"',
      '  elif [ -d "$e" ]; then mkdir "$n" && mount --rbind "$e" "$n"',
      '  else : > "$n" && mount --bind "$e" "$n"; fi',
      'done',
      'mkdir -m 0755 /run/sshd',
      // opts.hide: files the node's sessions see as an empty, non-executable file (e.g. "keepalived
      // is not installed there"), bound in this private mount namespace only
      ...(opts.hide ?? []).map((f) => `mount --bind ${q(hidden)} ${q(f)}`),
      `exec setsid /usr/sbin/sshd -D -f ${q(cfg)} -E ${q(log)}`,
    ].join('\n');
    const child = spawn('ip', ['netns', 'exec', this.lab.nodes[node], 'sh', '-c', script], { stdio: 'ignore', env: COMMAND_ENV });
    child.unref();
    child.on('error', () => undefined);
    return waitFor(
      async () => {
        const text = (await readFile(log, 'utf8').catch(() => '')).slice(logStart);
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`sshd on ${node} exited (${child.exitCode ?? child.signalCode}): ${text.slice(-2000)}`);
        }
        return /Server listening on \S+ port 22/.test(text) && text.split('\n').filter((l) => l.includes('Server listening')).length >= 2
          ? this.pid(node)
          : undefined;
      },
      { what: `sshd to listen on ${node} (log ${log})`, timeoutMs: 15_000, intervalMs: 50 },
    );
  }

  /** SIGTERM sshd and wait for it to be gone (open sessions are separate processes and go on). */
  async stop(node: GatewayNode): Promise<void> {
    const pid = this.pid(node);
    if (!pid) return;
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !alive(pid), { what: `sshd (pid ${pid}) on ${node} to exit`, timeoutMs: 10_000, intervalMs: 50 });
  }

  /** ssh from one lab node to a gateway, running remoteArgv there (quoted for the remote sh). */
  ssh(from: LabNode, to: GatewayNode, remoteArgv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    return this.lab.exec(from, ['ssh', '-F', this.configPath, this.host(to), '--', ...remoteArgv.map(shQuote)], opts);
  }

  /** A `hagw-doctor` on the node's session PATH that runs this checkout (the peer "has it installed"). */
  async installDoctor(node: GatewayNode): Promise<string> {
    const file = path.join(this.binDir(node), 'hagw-doctor');
    // the built package copied into the lab's run dir: every SSH user (nobody too) can run it,
    // wherever the checkout lives (a clone under /root is root's alone)
    this.doctorPackage ??= (await packageForNobody(this.lab.runDir)).bin;
    await writeFile(file, `#!/bin/sh\nexec ${shQuote(process.execPath)} ${shQuote(this.doctorPackage)} "$@"\n`, { mode: 0o755 });
    await chmod(file, 0o755);
    return file;
  }

  async uninstallDoctor(node: GatewayNode): Promise<void> {
    await rm(path.join(this.binDir(node), 'hagw-doctor'), { force: true });
  }
}

/** Keys and configs in RUN/ssh, sshd started on each node (see the top of this file). */
export async function startLabSsh(lab: Lab, opts: LabSshOptions = {}): Promise<LabSsh> {
  const ssh = new LabSsh(lab, opts);
  await ssh.prepare();
  for (const node of opts.nodes ?? GATEWAYS) await ssh.start(node);
  return ssh;
}
