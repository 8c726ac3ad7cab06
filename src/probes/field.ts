// Probes for the field-failure checks (issue 14, part B): what keepalived's scripts really get
// (its PATH, the script user, where bare commands live, SELinux), the network managers that can
// remove VIPs (networkd.conf, .network drop-ins, running managers), conntrackd, and the VMAC sysctls.
import { readFile, readdir, readlink, access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import type { ProbeProvider, ProbeRecord, ProbeSpec } from '../types.js';
import { configFromRecords, configScripts, ourKeepalived, notifyScriptPaths } from '../keepalived/records.js';
import { scriptProbeId } from './ids.js';
import { extrasFromRecords } from '../keepalived/extras.js';
import { NETWORKD_DIRS } from '../routing/files.js';
import { ifaceSysctlPath } from './nic.js';
import {
  PROBE_FIELD_PROCESSES,
  PROBE_KEEPALIVED_ENV,
  PROBE_SCRIPT_USERS,
  PROBE_SELINUX_ENFORCE,
  PROBE_AUDIT_LOG,
  PROBE_CONNTRACKD_STATS,
  PROBE_ARP_FILTER_ALL,
  PROBE_ACCEPT_LOCAL_ALL,
  PROBE_IGMP_LL_REPORTS,
  PROBE_ARP_ANNOUNCE_ALL,
  ifaceSysctlId,
  whichProbeId,
  fileProbeId,
  dirListing,
  dirProbeId,
} from './ids.js';
import { CONNTRACKD_CONF, DEFAULT_SCRIPT_USER, NETWORKD_CONF, NETWORKD_CONF_DIR, watchedFrom, type WatchedProcess } from '../field-facts.js';

export { CONNTRACKD_CONF, DEFAULT_SCRIPT_USER, NETWORKD_CONF, NETWORKD_CONF_DIR, watchedFrom };
export type { WatchedProcess } from '../field-facts.js';
export { PROBE_FIELD_PROCESSES, PROBE_KEEPALIVED_ENV, PROBE_SCRIPT_USERS, PROBE_SELINUX_ENFORCE, PROBE_AUDIT_LOG, PROBE_CONNTRACKD_STATS, whichProbeId };

import { commandNames } from '../keepalived/script-commands.js';

/** Processes whose presence in this namespace matters here (comm is cut to 15 characters). */
const WATCHED = new Set(['conntrackd', 'NetworkManager', 'systemd-network', 'dhclient', 'dhcpcd', 'wicked']);
/** Where `which:` looks for a program besides the doctor's own PATH. */
export const WHICH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/snap/bin', '/opt/bin'];
const MAX_WHICH = 48;
const SAFE_NAME = /^[A-Za-z_][\w.+-]{0,63}$/;

async function watchedProcesses(): Promise<string> {
  const selfNs = await readlink('/proc/self/ns/net').catch(() => '');
  const out: WatchedProcess[] = [];
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  await Promise.all(
    pids.map(async (pid) => {
      try {
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
        if (!WATCHED.has(comm)) return;
        const ns = await readlink(`/proc/${pid}/ns/net`).catch(() => '');
        out.push({ pid: Number(pid), comm, ours: ns !== '' && ns === selfNs });
      } catch {
        // gone
      }
    }),
  );
  return JSON.stringify(out.sort((a, b) => a.pid - b.pid));
}

/** keepalived's PATH and the names (never the values) of its other environment variables. */
async function keepalivedEnviron(pid: number): Promise<string> {
  const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
  const vars = raw.split('\0').filter(Boolean);
  const pathVar = vars.find((v) => v.startsWith('PATH='));
  const names = vars.map((v) => v.split('=')[0]).filter((n) => n && n !== 'PATH');
  return JSON.stringify({ path: pathVar ? pathVar.slice(5) : null, names: names.slice(0, 200) });
}

/** Where a program exists: every directory (of WHICH_DIRS and the doctor's PATH) holding an executable NAME. */
async function whichAll(name: string): Promise<string> {
  const dirs = [...new Set([...WHICH_DIRS, ...(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/'))])];
  const found: string[] = [];
  for (const dir of dirs) {
    if (
      await access(path.join(dir, name), fsConstants.X_OK).then(
        () => true,
        () => false,
      )
    )
      found.push(dir);
  }
  return JSON.stringify(found);
}

const listing = dirListing;

/** The bare program names the config and its scripts run, for `which:` probes. */
export function bareCommandNames(records: Readonly<Record<string, ProbeRecord>>, override: string | undefined): string[] {
  const config = configFromRecords(records, override);
  if (!config) return [];
  const names = new Set<string>();
  for (const { ref } of configScripts(config)) {
    if (!ref.path.startsWith('/')) names.add(ref.path);
    const text = records[scriptProbeId(ref.path)];
    if (text?.status === 'ok') for (const n of commandNames(text.stdout).names) names.add(n);
  }
  return [...names]
    .filter((n) => SAFE_NAME.test(n))
    .sort()
    .slice(0, MAX_WHICH);
}

export const fieldProvider: ProbeProvider = {
  name: 'field',
  probes: ({ round, records, options }) => {
    if (round === 0) {
      return [
        { id: fileProbeId(NETWORKD_CONF), kind: 'file', path: NETWORKD_CONF },
        { id: dirProbeId(NETWORKD_CONF_DIR), kind: 'dir', path: NETWORKD_CONF_DIR },
        { id: PROBE_FIELD_PROCESSES, kind: 'internal', run: watchedProcesses },
        { id: whichProbeId('conntrackd'), kind: 'internal', run: () => whichAll('conntrackd') },
        { id: fileProbeId(CONNTRACKD_CONF), kind: 'file', path: CONNTRACKD_CONF },
        { id: PROBE_SELINUX_ENFORCE, kind: 'file', path: '/sys/fs/selinux/enforce' },
        { id: PROBE_AUDIT_LOG, kind: 'file', path: '/var/log/audit/audit.log', tail: true, maxBytes: 2 * 1024 * 1024, needsRoot: true },
        { id: PROBE_ARP_FILTER_ALL, kind: 'file', path: '/proc/sys/net/ipv4/conf/all/arp_filter' },
        { id: PROBE_ACCEPT_LOCAL_ALL, kind: 'file', path: '/proc/sys/net/ipv4/conf/all/accept_local' },
        { id: PROBE_IGMP_LL_REPORTS, kind: 'file', path: '/proc/sys/net/ipv4/igmp_link_local_mcast_reports' },
        { id: PROBE_ARP_ANNOUNCE_ALL, kind: 'file', path: '/proc/sys/net/ipv4/conf/all/arp_announce' },
      ];
    }
    const specs: ProbeSpec[] = [];
    // systemd-networkd: .network drop-in directories and networkd.conf.d
    // a .network file's drop-ins are read from NAME.network.d in every networkd directory
    const networks = new Set(NETWORKD_DIRS.flatMap((d) => listing(records, d).filter((n) => n.endsWith('.network'))));
    for (const n of [...networks].sort().slice(0, 64)) {
      for (const d of NETWORKD_DIRS) {
        const dropDir = path.join(d, `${n}.d`);
        specs.push({ id: dirProbeId(dropDir), kind: 'dir', path: dropDir });
        for (const f of listing(records, dropDir))
          if (f.endsWith('.conf')) specs.push({ id: fileProbeId(path.join(dropDir, f)), kind: 'file', path: path.join(dropDir, f), maxBytes: 256 * 1024 });
      }
    }
    for (const f of listing(records, NETWORKD_CONF_DIR))
      if (f.endsWith('.conf'))
        specs.push({ id: fileProbeId(path.join(NETWORKD_CONF_DIR, f)), kind: 'file', path: path.join(NETWORKD_CONF_DIR, f), maxBytes: 256 * 1024 });

    const config = configFromRecords(records, options.config);
    if (config) {
      // track scripts are read like notify scripts (bounded), to see which commands they run
      const notify = new Set(notifyScriptPaths(config));
      for (const { ref } of configScripts(config)) {
        if (ref.path.startsWith('/') && !notify.has(ref.path)) specs.push({ id: scriptProbeId(ref.path), kind: 'file', path: ref.path, maxBytes: 256 * 1024 });
      }
      const scripts = configScripts(config);
      if (scripts.length) {
        const users = new Set([DEFAULT_SCRIPT_USER]);
        if (config.globalDefs.scriptUser) users.add(config.globalDefs.scriptUser);
        for (const s of config.vrrpScripts) if (s.user) users.add(s.user);
        for (const { ref } of scripts) if (ref.user) users.add(ref.user);
        const safe = [...users].filter((u) => /^[A-Za-z_][\w.-]{0,31}$/.test(u)).sort();
        specs.push({ id: PROBE_SCRIPT_USERS, kind: 'command', argv: ['getent', 'passwd', ...safe] });
      }
      for (const name of bareCommandNames(records, options.config)) specs.push({ id: whichProbeId(name), kind: 'internal', run: () => whichAll(name) });
      // VMAC: the sysctls keepalived sets on the base and the VMAC interface
      const extras = extrasFromRecords(records, options.config);
      for (const vi of config.vrrpInstances) {
        const vmac = extras?.instances.get(vi.name)?.vmac;
        const base = vi.interface ?? config.globalDefs.defaultInterface;
        if (!vmac || !base || !/^[A-Za-z0-9_.:@-]{1,15}$/.test(vmac.ifname) || !/^[A-Za-z0-9_.:@-]{1,15}$/.test(base)) continue;
        for (const [ifname, leaves] of [
          [base, ['arp_ignore', 'arp_filter', 'arp_announce', 'rp_filter']],
          [vmac.ifname, ['arp_ignore', 'arp_filter', 'accept_local', 'rp_filter']],
        ] as const) {
          for (const leaf of leaves) specs.push({ id: ifaceSysctlId(ifname, leaf), kind: 'file', path: ifaceSysctlPath(ifname, leaf) });
        }
      }
    }
    const proc = ourKeepalived(records);
    if (proc) specs.push({ id: PROBE_KEEPALIVED_ENV, kind: 'internal', run: () => keepalivedEnviron(proc.pid), needsRoot: true });
    if (watchedFrom(records)?.some((p) => p.comm === 'conntrackd' && p.ours)) {
      specs.push({ id: PROBE_CONNTRACKD_STATS, kind: 'command', argv: ['conntrackd', '-s'], needsRoot: true, timeoutMs: 3000 });
    }
    return specs;
  },
};
