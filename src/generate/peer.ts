// `generate ... --install-peer [USER@]HOST`: the other member of the pair, installed by the other
// node's own hagw-doctor over SSH. Only the generate options travel (JSON on stdin, the roles,
// addresses and priorities mirrored); the peer validates them against its own addresses, renders
// its member itself and installs it with its change engine: first its preview (--dry-run, shown
// here), then, with consent, the same plan (--expect-plan) with its backup, re-check and rollback.
// Never files or commands pushed from here.
import { TOOL_VERSION } from '../version.js';
import { PeerError, PeerSession, cleanLine, sshFailed, type PeerTarget } from '../peer/ssh.js';
import { HELLO_SCRIPT, parseHello } from '../peer/hello.js';
import type { GenerateInput } from './validate.js';
import type { MemberSpec } from './install.js';

export interface PeerInstallOptions {
  target: PeerTarget;
  /** the other member's spec (peerMemberSpec) */
  spec: MemberSpec;
  yes: boolean;
  confirmTimeout?: number;
  /** asks on this terminal; null without one */
  ask: ((question: string) => Promise<string>) | null;
  out: (text: string) => void;
  err: (text: string) => void;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * The other member's generate options, from this one's (validated) input and its raw options: the
 * role, addresses (IPv4 and IPv6) and priorities mirrored; --peer-interface / --peer-wan-interface
 * when the other node names its interfaces differently.
 */
export function peerMemberSpec(input: GenerateInput, raw: Record<string, unknown>): MemberSpec {
  const peerPriority = Number(str(raw.peerPriority) ?? (input.role === 'backup' ? 150 : 100));
  const spec: MemberSpec = {
    role: input.role === 'master' ? 'backup' : 'master',
    interface: str(raw.peerInterface) ?? input.interface,
    vip: `${input.vip.address}/${input.vip.prefix}`,
    self: input.peer,
    peer: input.self,
    vrid: String(input.vrid),
    priority: String(peerPriority),
    peerPriority: String(input.priority),
    advertInt: String(input.advertInt),
    multicast: input.multicast,
  };
  if (input.authPass !== undefined) spec.authPass = input.authPass;
  for (const k of ['snatSource', 'exclude', 'virtualServer', 'realServer'] as const) if (str(raw[k]) !== undefined) spec[k] = str(raw[k])!;
  if (input.wanInterface) spec.wanInterface = str(raw.peerWanInterface) ?? input.wanInterface;
  if (input.wanVip) spec.wanVip = `${input.wanVip.address}/${input.wanVip.prefix}`;
  if (input.vip6) spec.vip6 = `${input.vip6.address}/${input.vip6.prefix}`;
  if (input.self6 && input.peer6) {
    spec.self6 = input.peer6;
    spec.peer6 = input.self6;
  }
  if (input.lvsNat) spec.lvsNat = true;
  return spec;
}

/** Terminal escapes and other control characters out of what the peer printed (hostile input). */
export function cleanPeerText(text: string, maxBytes = 512 * 1024): string {
  return (
    text
      .slice(0, maxBytes)
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/[^\x20-\x7e\n\t]/g, '')
  );
}

/** "plan sha256:HEX" of the peer's dry run. */
export function planOf(text: string): string | undefined {
  const all = [...text.matchAll(/^plan (sha256:[0-9a-f]{64})$/gm)];
  return all.length === 1 ? all[0]![1] : undefined;
}

/** Why the peer cannot install its member, in one line (what the CLI prints after its prefix). */
export interface PeerRefusal {
  ok: false;
  kind: 'unreachable' | 'no-doctor' | 'no-root' | 'refused' | 'no-plan';
  message: string;
}

export type PeerOpen = { ok: true; /** the peer's doctor is another version */ note?: string } | PeerRefusal;
export type PeerPreview = { ok: true; /** the peer's own preview, cleaned, without its plan line */ text: string; plan: string } | PeerRefusal;
export interface PeerApplied {
  /** the peer's exit status; undefined when ssh itself gave none */
  exitCode: number | undefined;
  /** what happened there (cleaned; its preview, shown before, left out) */
  lines: string[];
  /** the SSH connection failed during the install: the one line saying what to check there */
  lost?: string;
  /** installed with --confirm-timeout: the peer rolls it back by itself unless confirm() keeps it within this many seconds */
  pendingSeconds?: number;
}

/**
 * One install of the other member through the peer's own hagw-doctor, step by step (the CLI's
 * --install-peer and the app): open() connects and checks the peer can do it (its doctor on the
 * PATH, root or sudo -n), preview() is its dry run and plan fingerprint, apply(plan) installs
 * exactly that plan there, close() ends the session. Nothing is installed without apply().
 */
export class PeerInstall {
  readonly host: string;
  readonly spec: MemberSpec;
  private readonly session: PeerSession;
  /** sudo -n (when the SSH user is not root) and the peer's hagw-doctor; set by open() */
  private base: string[] | undefined;
  private closed = false;
  private opening = false;

  constructor(target: PeerTarget, spec: MemberSpec) {
    this.host = target.host;
    this.spec = spec;
    this.session = new PeerSession(target);
  }

  async open(): Promise<PeerOpen> {
    const host = this.host;
    let hello;
    this.opening = true;
    try {
      hello = parseHello((await this.session.open({ argv: ['sh', '-s'], input: HELLO_SCRIPT, maxBytes: 16 * 1024 })).stdout);
    } catch (err) {
      return {
        ok: false,
        kind: 'unreachable',
        message: `${host}: ${err instanceof PeerError ? err.message : cleanLine((err as Error).message)}; nothing installed there`,
      };
    } finally {
      this.opening = false;
      // closed while connecting (the app's Esc): the session that just opened ends here
      if (this.closed) await this.session.close();
    }
    if (this.closed) return { ok: false, kind: 'unreachable', message: `${host}: cancelled; nothing installed there` };
    if (!hello.doctorPath)
      return {
        ok: false,
        kind: 'no-doctor',
        message: `${host} has no hagw-doctor on its PATH, so it cannot install its member itself (preview, backup, rollback). Install hagw-doctor there, or run the same generate with the roles swapped on ${host}; nothing installed there`,
      };
    if (hello.uid !== 0 && !hello.sudo)
      return {
        ok: false,
        kind: 'no-root',
        message: `${host}: the SSH user is not root and sudo -n is refused; installing needs root there; nothing installed there`,
      };
    this.base = [...(hello.uid !== 0 ? ['sudo', '-n'] : []), hello.doctorPath];
    return hello.doctorVersion && hello.doctorVersion !== TOOL_VERSION
      ? { ok: true, note: `${host} runs hagw-doctor ${hello.doctorVersion}, this node ${TOOL_VERSION}: its member is rendered by its own version` }
      : { ok: true };
  }

  /** The peer's doctor with these words (sudo -n first when needed); throws before open() succeeded. */
  private doctor(...words: string[]): string[] {
    if (!this.base) throw new PeerError(`the session to ${this.host} is not open`);
    return [...this.base, ...words];
  }

  async preview(): Promise<PeerPreview> {
    const host = this.host;
    const preview = await this.session.run(this.doctor('install-generated', '--dry-run'), {
      input: JSON.stringify(this.spec),
      timeoutMs: 120_000,
      maxBytes: 4 * 1024 * 1024,
    });
    const shown = cleanPeerText(preview.stdout);
    if (!preview.ok) {
      const why = cleanLine(preview.stderr) || (preview.timedOut ? 'it did not answer in time' : `exit ${preview.exitCode ?? '?'}`);
      return { ok: false, kind: 'refused', message: `${host} refuses its member: ${why.replace(/^hagw-doctor install-generated: /, '')}` };
    }
    const plan = planOf(shown);
    if (!plan)
      return { ok: false, kind: 'no-plan', message: `${host}'s hagw-doctor did not show a plan to install (an older version?); nothing installed there` };
    return { ok: true, text: shown.replace(/^plan sha256:[0-9a-f]{64}\n/m, ''), plan };
  }

  /** The command line apply(plan) runs there (shown to the operator). */
  static applyLine(plan: string): string {
    return `hagw-doctor install-generated --yes --expect-plan ${plan}`;
  }

  async apply(plan: string, opts: { confirmTimeout?: number } = {}): Promise<PeerApplied> {
    const applied = await this.session.run(
      this.doctor(
        'install-generated',
        '--yes',
        '--expect-plan',
        plan,
        ...(opts.confirmTimeout !== undefined ? ['--confirm-timeout', String(Math.trunc(opts.confirmTimeout))] : []),
      ),
      { input: JSON.stringify(this.spec), timeoutMs: 10 * 60_000, maxBytes: 4 * 1024 * 1024 },
    );
    const lines = cleanPeerText(applied.stdout + applied.stderr)
      .split('\n')
      .filter((l) => !/^plan sha256:/.test(l));
    // its preview again is what was just shown: only what happened is repeated here
    const from = lines.findIndex((l) => /^change \S+: backup saved|^ {2}running step 1:|install-generated: /.test(l));
    const happened = (from >= 0 ? lines.slice(from) : lines).join('\n').trim().split('\n');
    const lost = sshFailed(applied);
    const armed = applied.exitCode === 0 ? /^rollback timer armed: rolls back by itself unless confirmed within (\d{1,6}) s$/m.exec(lines.join('\n')) : null;
    return {
      exitCode: applied.exitCode,
      lines: happened,
      ...(lost ? { lost: lostLine(this.host) } : {}),
      ...(armed ? { pendingSeconds: Number(armed[1]) } : {}),
    };
  }

  /**
   * Keep the change apply() left pending (its --confirm-timeout): the peer's own `hagw-doctor
   * confirm --yes`. When the peer cannot be reached any more, nothing is kept: it rolls back there
   * by itself, which is what the timer is for.
   */
  async confirm(): Promise<{ ok: boolean; message: string }> {
    const r = await this.session.run(this.doctor('confirm', '--yes'), { timeoutMs: 60_000, maxBytes: 64 * 1024 });
    const said = cleanLine(cleanPeerText(`${r.stdout}\n${r.stderr}`));
    if (sshFailed(r))
      return {
        ok: false,
        message: `${this.host} could not be reached to keep the change: it rolls back there by itself when its timer runs out (check there with \`hagw-doctor changes\`)`,
      };
    if (!r.ok) return { ok: false, message: `${this.host} did not keep the change: ${said || `exit ${r.exitCode}`}` };
    return { ok: true, message: `kept on ${this.host}${said ? `: ${said}` : ''}` };
  }

  /** Ends the session (also one still connecting). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    // still connecting: open() ends the session as soon as ssh returns (closing now would pull its directory away)
    if (!this.opening) await this.session.close();
  }
}

/** The one line when the SSH connection failed during the install. */
const lostLine = (host: string) =>
  `the SSH connection to ${host} failed during the install; check there with \`hagw-doctor changes\` (an unconfirmed change rolls back by itself)`;

/** 0: installed (and re-checked there); 3: refused, failed or not consented (nothing changed there, or rolled back). */
export async function installOnPeer(o: PeerInstallOptions): Promise<number> {
  const host = o.target.host;
  const install = new PeerInstall(o.target, o.spec);
  const say = (t: string) => o.err(`hagw-doctor generate: ${t}\n`);
  try {
    const opened = await install.open();
    if (!opened.ok) {
      say(opened.kind === 'unreachable' ? `--install-peer ${opened.message}` : opened.message);
      return 3;
    }
    if (opened.note) o.err(`note: ${opened.note}\n`);
    const preview = await install.preview();
    if (!preview.ok) {
      say(preview.message);
      return 3;
    }
    o.out(`${host}'s own hagw-doctor would install its member (${o.spec.role}, ${o.spec.self}):\n\n${preview.text}\n`);
    if (!o.yes) {
      if (!o.ask) {
        say(`installing on ${host} needs consent: run on a terminal, or give --yes; nothing installed there`);
        return 3;
      }
      const answer = (await o.ask(`\nThis change is disruptive. Type "apply" to install it on ${host}: `).catch(() => '')).trim();
      if (answer !== 'apply') {
        say(`not installed on ${host}; nothing changed there`);
        return 3;
      }
    }
    o.out(`Installing on ${host}: ${PeerInstall.applyLine(preview.plan)}\n`);
    const applied = await install.apply(preview.plan, o.confirmTimeout !== undefined ? { confirmTimeout: o.confirmTimeout } : {});
    o.out(`${applied.lines.join('\n')}\n`);
    if (applied.lost) {
      say(applied.lost);
      return 3;
    }
    return applied.exitCode === 0 ? 0 : 3;
  } finally {
    await install.close();
  }
}
