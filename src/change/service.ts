// How keepalived is (re)started on this node, for installing a generated pair member: the
// service manager of the host (systemd, OpenRC, sysvinit `service`), or, inside a network
// namespace other than the host's, never a host service: this namespace's own keepalived is
// reloaded (SIGHUP re-reads the config), or the exact command to start it is said.
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';

export type KeepalivedRestart =
  | { kind: 'systemd' | 'openrc' | 'sysvinit'; argv: string[]; how: string }
  | { kind: 'signal'; argv: string[]; pid: number; how: string }
  | { kind: 'none'; how: string };

async function inode(p: string): Promise<string | null> {
  try {
    const st = await stat(p);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** keepalived's parent process in this network namespace (not its VRRP/checker children). */
async function keepalivedHere(): Promise<{ pid: number; cmdline: string } | null> {
  const mine = await inode('/proc/self/ns/net');
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if ((await readFile(`/proc/${name}/comm`, 'utf8')).trim() !== 'keepalived') continue;
      if ((await inode(`/proc/${name}/ns/net`)) !== mine) continue;
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      const parent = ppid ? (await readFile(`/proc/${ppid}/comm`, 'utf8').catch(() => '')).trim() : '';
      if (parent === 'keepalived') continue;
      const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0').filter(Boolean).join(' ');
      return { pid: Number(name), cmdline };
    } catch {
      /* gone meanwhile */
    }
  }
  return null;
}

async function netnsName(): Promise<string | null> {
  const mine = await inode('/proc/self/ns/net');
  for (const dir of ['/run/netns', '/var/run/netns']) {
    for (const n of await readdir(dir).catch(() => [] as string[])) if ((await inode(`${dir}/${n}`)) === mine) return n;
  }
  return null;
}

const onPath = (names: string[]) => names.find((p) => existsSync(p));

export async function detectKeepalivedRestart(): Promise<KeepalivedRestart> {
  const mine = await inode('/proc/self/ns/net');
  const host = await inode('/proc/1/ns/net');
  const running = await keepalivedHere();
  const reload = (where: string): KeepalivedRestart => ({
    kind: 'signal',
    pid: running!.pid,
    argv: ['kill', '-HUP', String(running!.pid)],
    how: `reload ${where} keepalived (pid ${running!.pid}, started as \`${running!.cmdline}\`): SIGHUP re-reads the configuration`,
  });
  // /proc/1/ns/net may be unreadable (a container, ptrace rules): then a named network namespace
  // (ip netns) still tells we are not the host's, and a host service must not be used
  const ns = mine ? await netnsName() : null;
  if (mine && (host ? mine !== host : ns !== null)) {
    const where = ns ? `network namespace ${ns}'s` : "this network namespace's";
    if (running) return reload(where);
    return {
      kind: 'none',
      how: `keepalived is not running in ${ns ? `network namespace ${ns}` : 'this network namespace'}, and a host service would start it in the host's namespace: start it yourself, e.g. \`${ns ? `ip netns exec ${ns} ` : ''}keepalived -f /etc/keepalived/keepalived.conf\``,
    };
  }
  if (existsSync('/run/systemd/system')) return { kind: 'systemd', argv: ['systemctl', 'restart', 'keepalived'], how: 'systemd: systemctl restart keepalived' };
  if (existsSync('/run/openrc') && onPath(['/sbin/rc-service', '/usr/sbin/rc-service', '/bin/rc-service']))
    return { kind: 'openrc', argv: ['rc-service', 'keepalived', 'restart'], how: 'OpenRC: rc-service keepalived restart' };
  if (existsSync('/etc/init.d/keepalived') && onPath(['/usr/sbin/service', '/sbin/service']))
    return { kind: 'sysvinit', argv: ['service', 'keepalived', 'restart'], how: 'sysvinit: service keepalived restart' };
  if (running) return reload('the running');
  const init = await readlink('/proc/1/exe').catch(() => 'pid 1');
  return {
    kind: 'none',
    how: `no service manager that knows keepalived was found (pid 1 is ${init}) and keepalived is not running: start it yourself, e.g. \`keepalived -f /etc/keepalived/keepalived.conf\``,
  };
}
