// Which node a change belongs to, and a clock that survives wall-clock jumps.
//
// A node is a network namespace on a host: `ip netns exec gw1 hagw-doctor fix ...` and the same
// on gw2 share /var/lib/hagw-doctor (ip netns exec binds only /etc/netns/NS), so every change
// records the namespace (inode and device of /proc/self/ns/net, and its name under /run/netns when
// it has one) and the hostname, and undo/confirm/changes act only on this node's changes.
//
// The commit-confirmed deadline is kept on CLOCK_BOOTTIME (/proc/uptime: monotonic, counts
// suspend) with the boot id, so setting the clock back never postpones a rollback; a reboot
// since the change makes it overdue at once (its runtime part is gone, its files are not).
import { readFile, readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface NodeId {
  /** inode of /proc/self/ns/net */
  netnsInode: number;
  /** device of the nsfs (inodes are unique per device) */
  netnsDev: number;
  /** its name under /run/netns, or null (the host's namespace, or an unnamed one) */
  netnsName: string | null;
  hostname: string;
  bootId: string;
}

const NETNS_DIRS = ['/run/netns', '/var/run/netns'];

export async function bootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return '';
  }
}

/** Milliseconds since boot (CLOCK_BOOTTIME), or null when /proc/uptime cannot be read. */
export async function uptimeMs(): Promise<number | null> {
  try {
    const s = Number.parseFloat((await readFile('/proc/uptime', 'utf8')).split(/\s+/)[0] ?? '');
    return Number.isFinite(s) ? Math.round(s * 1000) : null;
  } catch {
    return null;
  }
}

async function hostName(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/hostname', 'utf8')).trim();
  } catch {
    return os.hostname();
  }
}

export async function currentNode(): Promise<NodeId> {
  let netnsInode = 0;
  let netnsDev = 0;
  try {
    const st = await stat('/proc/self/ns/net');
    netnsInode = st.ino;
    netnsDev = st.dev;
  } catch {
    /* no /proc: inode 0, compared by hostname only */
  }
  let netnsName: string | null = null;
  for (const dir of NETNS_DIRS) {
    if (netnsName || !netnsInode) break;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const n of names.sort()) {
      try {
        const st = await stat(path.join(dir, n));
        if (st.ino === netnsInode && st.dev === netnsDev) {
          netnsName = n;
          break;
        }
      } catch {
        /* a dangling entry */
      }
    }
  }
  return { netnsInode, netnsDev, netnsName, hostname: await hostName(), bootId: await bootId() };
}

/** Whether a change recorded on `made` belongs to the node `here`. Same boot: the same namespace
 *  (inode). After a reboot inodes are new: the same namespace name (or both the host's) and hostname. */
export function sameNode(made: NodeId, here: NodeId): boolean {
  if (made.hostname !== here.hostname) return false;
  if (made.bootId && made.bootId === here.bootId) return made.netnsInode === here.netnsInode && made.netnsDev === here.netnsDev;
  return made.netnsName === here.netnsName;
}

export function describeNode(n: NodeId): string {
  const ns = n.netnsName
    ? `network namespace ${n.netnsName}`
    : n.netnsInode === INIT_NETNS_INODE
      ? "the host's network namespace"
      : 'an unnamed network namespace';
  return `${ns} (inode ${n.netnsInode}) on ${n.hostname || 'an unnamed host'}`;
}

/** The initial network namespace's inode (PROC_NET_INIT_INO in the kernel): the host's own. */
export const INIT_NETNS_INODE = 4026531840 + 0x8 - 0x8 + 0; // 0xF0000000 (see below)

/** Parses v1 manifests' "net:[4026531840]". */
export function inodeFromLink(link: string): number {
  const m = /\[(\d+)\]/.exec(link);
  return m ? Number(m[1]) : 0;
}
