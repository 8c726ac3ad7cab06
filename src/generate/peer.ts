// `generate ... --install-peer [USER@]HOST`: the other member of the pair, installed by the other
// node's own hagw-doctor over SSH. Only the generate options travel (JSON on stdin, the roles,
// addresses and priorities mirrored); the peer validates them against its own addresses, renders
// its member itself and installs it with its change engine: first its preview (--dry-run, shown
// here), then, with consent, the same plan (--expect-plan) with its backup, re-check and rollback.
// Never files or commands pushed from here.
import { TOOL_VERSION } from '../version.js';
import { PeerError, PeerSession, cleanLine, type PeerTarget } from '../peer/ssh.js';
import { HELLO_SCRIPT, parseHello } from '../peer/collect.js';
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

/** 0: installed (and re-checked there); 3: refused, failed or not consented (nothing changed there, or rolled back). */
export async function installOnPeer(o: PeerInstallOptions): Promise<number> {
  const host = o.target.host;
  const session = new PeerSession(o.target);
  const say = (t: string) => o.err(`hagw-doctor generate: ${t}\n`);
  try {
    let hello;
    try {
      hello = parseHello((await session.open({ argv: ['sh', '-s'], input: HELLO_SCRIPT, maxBytes: 16 * 1024 })).stdout);
    } catch (err) {
      say(`--install-peer ${host}: ${err instanceof PeerError ? err.message : cleanLine((err as Error).message)}; nothing installed there`);
      return 3;
    }
    if (!hello.doctorPath) {
      say(
        `${host} has no hagw-doctor on its PATH, so it cannot install its member itself (preview, backup, rollback). Install hagw-doctor there, or run the same generate with the roles swapped on ${host}; nothing installed there`,
      );
      return 3;
    }
    if (hello.uid !== 0 && !hello.sudo) {
      say(`${host}: the SSH user is not root and sudo -n is refused; installing needs root there; nothing installed there`);
      return 3;
    }
    if (hello.doctorVersion && hello.doctorVersion !== TOOL_VERSION)
      o.err(`note: ${host} runs hagw-doctor ${hello.doctorVersion}, this node ${TOOL_VERSION}: its member is rendered by its own version\n`);
    const doctor = [...(hello.uid !== 0 ? ['sudo', '-n'] : []), hello.doctorPath, 'install-generated'];
    const input = JSON.stringify(o.spec);
    const preview = await session.run([...doctor, '--dry-run'], { input, timeoutMs: 120_000, maxBytes: 4 * 1024 * 1024 });
    const shown = cleanPeerText(preview.stdout);
    if (!preview.ok) {
      const why = cleanLine(preview.stderr) || (preview.timedOut ? 'it did not answer in time' : `exit ${preview.exitCode ?? '?'}`);
      say(`${host} refuses its member: ${why.replace(/^hagw-doctor install-generated: /, '')}`);
      return 3;
    }
    const plan = planOf(shown);
    if (!plan) {
      say(`${host}'s hagw-doctor did not show a plan to install (an older version?); nothing installed there`);
      return 3;
    }
    o.out(`${host}'s own hagw-doctor would install its member (${o.spec.role}, ${o.spec.self}):\n\n${shown.replace(/^plan sha256:[0-9a-f]{64}\n/m, '')}\n`);
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
    o.out(`Installing on ${host}: hagw-doctor install-generated --yes --expect-plan ${plan}\n`);
    const applied = await session.run(
      [...doctor, '--yes', '--expect-plan', plan, ...(o.confirmTimeout !== undefined ? ['--confirm-timeout', String(Math.trunc(o.confirmTimeout))] : [])],
      { input, timeoutMs: 10 * 60_000, maxBytes: 4 * 1024 * 1024 },
    );
    const lines = cleanPeerText(applied.stdout + applied.stderr)
      .split('\n')
      .filter((l) => !/^plan sha256:/.test(l));
    // its preview again is what was just shown: only what happened is repeated here
    const from = lines.findIndex((l) => /^change \S+: backup saved|^ {2}running step 1:|install-generated: /.test(l));
    o.out(`${(from >= 0 ? lines.slice(from) : lines).join('\n').trim()}\n`);
    if (applied.exitCode === 255 || applied.exitCode === undefined || applied.timedOut) {
      say(`the SSH connection to ${host} failed during the install; check there with \`hagw-doctor changes\` (an unconfirmed change rolls back by itself)`);
      return 3;
    }
    return applied.exitCode === 0 ? 0 : 3;
  } finally {
    await session.close();
  }
}
