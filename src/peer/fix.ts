// `fix --on-peer HOST CODE...`: the peer's own `hagw-doctor fix` over SSH, with its preview, its
// consent (a terminal is passed through with -t; --yes only when the operator gave --yes here),
// its backup and its rollback. Never raw commands pushed from this node.
import { TOOL_VERSION } from '../version.js';
import { isFindingCode } from '../codes.js';
import { PeerError, PeerSession, cleanLine, type PeerTarget } from './ssh.js';
import { HELLO_SCRIPT, parseHello } from './hello.js';

export interface PeerFixOptions {
  target: PeerTarget;
  codes: string[];
  yes: boolean;
  dryRun: boolean;
  confirmTimeout?: number;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The argv run on the peer (after its doctor's path and sudo, when needed). */
export function peerFixArgv(o: Pick<PeerFixOptions, 'codes' | 'yes' | 'dryRun' | 'confirmTimeout'>): string[] {
  for (const c of o.codes) if (!isFindingCode(c)) throw new PeerError(`unknown code ${c} (see \`hagw-doctor codes\`)`);
  return [
    'fix',
    ...o.codes,
    ...(o.dryRun ? ['--dry-run'] : []),
    ...(o.yes ? ['--yes'] : []),
    ...(o.confirmTimeout !== undefined ? ['--confirm-timeout', String(Math.trunc(o.confirmTimeout))] : []),
  ];
}

export async function fixOnPeer(o: PeerFixOptions): Promise<number> {
  const args = peerFixArgv(o);
  const session = new PeerSession(o.target);
  try {
    let hello;
    try {
      const r = await session.open({ argv: ['sh', '-s'], input: HELLO_SCRIPT, maxBytes: 16 * 1024 });
      hello = parseHello(r.stdout);
    } catch (err) {
      o.err(`hagw-doctor: --on-peer ${o.target.host}: ${err instanceof PeerError ? err.message : cleanLine((err as Error).message)}\n`);
      return 3;
    }
    if (!hello.doctorPath) {
      o.err(
        `hagw-doctor: ${o.target.host} has no hagw-doctor on its PATH, so its own fix (preview, backup, rollback) cannot run there. Install it on ${o.target.host}, or run the commands \`hagw-doctor check --peer ${o.target.host}\` shows for its findings there by hand.\n`,
      );
      return 3;
    }
    if (hello.uid !== 0 && !hello.sudo) {
      o.err(`hagw-doctor: ${o.target.host}: the SSH user is not root and sudo -n is refused; a fix needs root there\n`);
      return 3;
    }
    if (hello.doctorVersion && hello.doctorVersion !== TOOL_VERSION)
      o.err(`note: ${o.target.host} runs hagw-doctor ${hello.doctorVersion}, this node ${TOOL_VERSION}: its own findings and fixes are what it applies\n`);
    if (!o.yes && !o.dryRun && process.stdin.isTTY !== true) {
      o.err(`hagw-doctor: fix --on-peer asks ${o.target.host}'s consent on a terminal: run it on a terminal, or give --yes\n`);
      return 3;
    }
    o.out(`Running on ${o.target.host}: hagw-doctor ${args.join(' ')}\n`);
    const prefix = hello.uid !== 0 ? ['sudo', '-n'] : [];
    const code = await session.runInteractive([...prefix, hello.doctorPath, ...args], 30 * 60_000, o.out);
    if (code === 255 || code === undefined) {
      o.err(
        `hagw-doctor: the SSH connection to ${o.target.host} failed during the fix; check there with \`hagw-doctor changes\` (its rollback timer undoes an unconfirmed change)\n`,
      );
      return 3;
    }
    return code;
  } finally {
    await session.close();
  }
}
