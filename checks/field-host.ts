// Field failures judged from the host around keepalived (issue 14, part B): network managers that
// drop keepalived's VIPs on a reload (catalogue 15), a SNAT pair without a working conntrackd (25),
// and scripts that run differently under keepalived than in a shell (19, 21).
import path from 'node:path';
import type { Check } from '../src/check.js';
import { SkipCheck, finding, type CheckContext } from '../src/context.js';
import type { Evidence, Finding } from '../src/types.js';
import type { KeepalivedConfig, ScriptRef } from '../src/keepalived/model.js';
import { configExtras } from '../src/keepalived/extras.js';
import { configScripts } from '../src/keepalived/records.js';
import { scriptProbeId } from '../src/keepalived/files.js';
import { commandNames } from '../src/keepalived/script-commands.js';
import { NETWORKD_DIRS, NETPLAN_DIR, NM_DIR, INTERFACES_FILE, INTERFACES_DIR } from '../src/routing/files.js';
import { CONNTRACKD_CONF, DEFAULT_SCRIPT_USER, NETWORKD_CONF, NETWORKD_CONF_DIR, watchedFrom } from '../src/field-facts.js';
import { confEvidence, gatewayEvidence, location, logLines } from './field-common.js';
import {
  PROBE_AUDIT_LOG,
  PROBE_CONNTRACKD_STATS,
  PROBE_FIELD_PROCESSES,
  PROBE_KEEPALIVED_ENV,
  PROBE_SCRIPT_USERS,
  PROBE_SELINUX_ENFORCE,
  dirListing,
  fileProbeId,
  whichProbeId,
} from '../src/probes/ids.js';
import { networkdKeepPlan } from '../src/routing/fix.js';

// ------------------------------------------------------------------ network-manager-removes-vip (15)

/** The interfaces keepalived puts addresses and routes on. */
function vrrpInterfaces(config: KeepalivedConfig): Set<string> {
  const out = new Set<string>();
  for (const vi of config.vrrpInstances) {
    const base = vi.interface ?? config.globalDefs.defaultInterface;
    if (base) out.add(base);
    for (const v of [...vi.virtualIpaddresses, ...vi.virtualIpaddressesExcluded]) if (v.dev) out.add(v.dev);
  }
  return out;
}

/** systemd's glob (fnmatch) as networkd's [Match] Name= uses it; "!" negates the list. */
function nameMatches(pattern: string, ifname: string): boolean {
  const words = pattern.trim().split(/\s+/).filter(Boolean);
  const neg = words[0]?.startsWith('!') ?? false;
  const hit = words.some((w) => {
    const p = w.replace(/^!/, '');
    const re = new RegExp(
      `^${p
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    return re.test(ifname);
  });
  return neg ? !hit : hit;
}

interface IniLine {
  section: string;
  key: string;
  value: string;
  line: string;
}

function ini(text: string): IniLine[] {
  const out: IniLine[] = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#') || l.startsWith(';')) continue;
    const s = /^\[([^\]]+)\]$/.exec(l);
    if (s) {
      section = s[1]!;
      continue;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(l);
    if (kv) out.push({ section, key: kv[1]!, value: kv[2]!.trim(), line: l });
  }
  return out;
}

const truthy = (v: string) => /^(yes|true|1|on|static)$/i.test(v);

const dirList = (ctx: CheckContext, dir: string): string[] => dirListing(ctx.snapshot.probes, dir);

interface NetworkdFile {
  name: string;
  file: string;
  text: string;
  /** drop-in files with their text, in the order networkd applies them */
  dropIns: Array<{ file: string; text: string }>;
}

/** The .network files networkd uses (/etc overrides /run of the same name) with their drop-ins. */
function networkdFiles(ctx: CheckContext): NetworkdFile[] {
  const byName = new Map<string, NetworkdFile>();
  for (const d of NETWORKD_DIRS) {
    for (const n of dirList(ctx, d)) {
      if (!n.endsWith('.network') || byName.has(n)) continue;
      const text = ctx.output(fileProbeId(path.join(d, n)));
      if (text === undefined) continue;
      const dropIns: NetworkdFile['dropIns'] = [];
      const names = new Map<string, string>();
      for (const dd of NETWORKD_DIRS)
        for (const f of dirList(ctx, path.join(dd, `${n}.d`))) if (f.endsWith('.conf') && !names.has(f)) names.set(f, path.join(dd, `${n}.d`, f));
      for (const f of [...names.keys()].sort()) {
        const t = ctx.output(fileProbeId(names.get(f)!));
        if (t !== undefined) dropIns.push({ file: names.get(f)!, text: t });
      }
      byName.set(n, { name: n, file: path.join(d, n), text, dropIns });
    }
  }
  // networkd applies the first file (in lexical order) that matches an interface
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function networkdSetting(f: NetworkdFile, section: string, key: string): IniLine | undefined {
  let last: IniLine | undefined;
  for (const text of [f.text, ...f.dropIns.map((d) => d.text)]) for (const l of ini(text)) if (l.section === section && l.key === key) last = l;
  return last;
}

function networkdConfSetting(ctx: CheckContext, key: string): { value: string; file: string } | undefined {
  let last: { value: string; file: string } | undefined;
  const files = [
    NETWORKD_CONF,
    ...dirList(ctx, NETWORKD_CONF_DIR)
      .filter((f) => f.endsWith('.conf'))
      .sort()
      .map((f) => path.join(NETWORKD_CONF_DIR, f)),
  ];
  for (const file of files)
    for (const l of ini(ctx.output(fileProbeId(file)) ?? '')) if (l.section === 'Network' && l.key === key) last = { value: l.value, file };
  return last;
}

function running(ctx: CheckContext, comm: string): boolean | undefined {
  const w = watchedFrom(ctx.snapshot.probes);
  return w === undefined ? undefined : w.some((p) => p.comm === comm && p.ours);
}

const networkManagers: Check = {
  id: 'field-network-manager',
  title: "network managers that drop keepalived's VIPs on a reload",
  codes: ['network-manager-removes-vip'],
  run(ctx) {
    const config = ctx.ourConfig();
    const ifaces = vrrpInterfaces(config);
    if (ifaces.size === 0) return [];
    const extras = configExtras(ctx);
    const hasVirtualRoutes = [...(extras?.instances.values() ?? [])].some((i) => i.virtualRoutes.length > 0) || (extras?.staticRoutes.length ?? 0) > 0;
    const out: Finding[] = [];

    // systemd-networkd (and netplan with the networkd renderer, which generates /run/systemd/network/10-netplan-*.network)
    const networkdRuns = running(ctx, 'systemd-network');
    const files = networkdFiles(ctx);
    for (const ifname of [...ifaces].sort()) {
      const f = files.find((x) => ini(x.text).some((l) => l.section === 'Match' && l.key === 'Name' && nameMatches(l.value, ifname)));
      if (!f) continue;
      const keep = networkdSetting(f, 'Network', 'KeepConfiguration');
      const keepsAll = keep !== undefined && /^(yes|true|1|on)$/i.test(keep.value);
      const foreignRoutes = networkdConfSetting(ctx, 'ManageForeignRoutes');
      const foreignRules = networkdConfSetting(ctx, 'ManageForeignRoutingPolicyRules');
      const routesAtRisk = hasVirtualRoutes && (!foreignRoutes || truthy(foreignRoutes.value) || !foreignRules || truthy(foreignRules.value));
      if (keepsAll && !routesAtRisk) continue;
      const problems: string[] = [];
      if (!keepsAll)
        problems.push(
          `${f.file} manages ${ifname} without KeepConfiguration=yes${keep ? ` (it says KeepConfiguration=${keep.value})` : ''}: on \`networkctl reload\`/\`reconfigure\`, a networkd restart (package upgrades do this) or \`netplan apply\`, networkd drops addresses it did not configure, which are keepalived's VIPs`,
        );
      if (routesAtRisk)
        problems.push(
          `networkd.conf leaves ManageForeignRoutes/ManageForeignRoutingPolicyRules on (the default): a networkd restart deletes keepalived's virtual_routes and rules`,
        );
      const fix = networkdKeepPlan({ ifname, network: f.name, networkFile: f.file, confDir: NETWORKD_CONF_DIR, keepsAll, routesAtRisk });
      out.push(
        finding('network-manager-removes-vip', {
          title: `systemd-networkd can drop keepalived's VIPs on ${ifname} (${path.basename(f.file)})`,
          detail: `${problems.join('. ')}. keepalived 2.x re-adds a deleted VIP only when it notices, and not the routes; before that the VIP is gone on the MASTER (keepalived #1385, #2479; systemd #13555). ${networkdRuns === false ? 'networkd is not running in this namespace now, so this is a latent risk (it runs at boot on this configuration). ' : ''}The fix adds a drop-in; it changes nothing until networkd next reads its configuration.`,
          evidence: [
            {
              probe: fileProbeId(f.file),
              excerpt: `${f.file}: [Match] Name=${ini(f.text).find((l) => l.section === 'Match' && l.key === 'Name')?.value ?? ''}${keep ? `; KeepConfiguration=${keep.value}` : '; no KeepConfiguration'}`,
            },
            ...(routesAtRisk
              ? [
                  {
                    probe: fileProbeId(NETWORKD_CONF),
                    excerpt: foreignRoutes ? `${foreignRoutes.file}: ManageForeignRoutes=${foreignRoutes.value}` : 'ManageForeignRoutes not set (default yes)',
                  },
                ]
              : []),
            ...(networkdRuns ? [{ probe: PROBE_FIELD_PROCESSES, excerpt: 'systemd-networkd runs in this network namespace' }] : []),
          ],
          fix,
          subject: ifname,
          ...(networkdRuns === false ? { severity: 'warning' as const } : {}),
        }),
      );
    }

    // netplan without generated networkd files collected: its YAML names the interface; `critical: true` is its KeepConfiguration
    const netplanFiles = dirList(ctx, NETPLAN_DIR)
      .filter((n) => n.endsWith('.yaml'))
      .map((n) => path.join(NETPLAN_DIR, n));
    for (const file of netplanFiles) {
      const text = ctx.output(fileProbeId(file));
      if (!text) continue;
      for (const ifname of ifaces) {
        if (out.some((f) => f.subject === ifname)) continue;
        const re = new RegExp(`^(\\s+)${ifname.replace(/[.]/g, '\\.')}:\\s*$`, 'm');
        const m = re.exec(text);
        if (!m) continue;
        const block = text
          .slice(m.index)
          .split('\n')
          .slice(1)
          .filter((l, i, a) => a.slice(0, i + 1).every((x) => !x.trim() || x.search(/\S/) > m[1]!.length))
          .join('\n');
        if (/^\s*critical:\s*(true|yes|on)\s*$/m.test(block)) continue;
        const nm = /renderer:\s*NetworkManager/.test(text);
        out.push(
          finding('network-manager-removes-vip', {
            title: `netplan configures ${ifname} without critical: true (${path.basename(file)})`,
            detail: `\`netplan apply\` (and package upgrades that run it) restarts ${nm ? "NetworkManager's connection" : 'systemd-networkd'} for ${ifname}, which drops the addresses netplan did not configure: keepalived's VIPs and virtual routes (keepalived #2575, #2528). Add \`critical: true\` to ${ifname} in ${file} (netplan writes it as KeepConfiguration=yes) and run \`netplan generate\`; the doctor does not rewrite netplan YAML.`,
            evidence: [{ probe: fileProbeId(file), excerpt: `${file}: ${m[0].trim()} (no critical: true)` }],
            subject: ifname,
          }),
        );
      }
    }

    // NetworkManager keyfiles that own the interface
    const nmRuns = running(ctx, 'NetworkManager');
    for (const n of dirList(ctx, NM_DIR).filter((x) => x.endsWith('.nmconnection'))) {
      const file = path.join(NM_DIR, n);
      const lines = ini(ctx.output(fileProbeId(file)) ?? '');
      const ifname = lines.find((l) => l.section === 'connection' && l.key === 'interface-name')?.value;
      if (!ifname || !ifaces.has(ifname) || out.some((f) => f.subject === ifname)) continue;
      out.push(
        finding('network-manager-removes-vip', {
          title: `NetworkManager manages ${ifname} (${n})`,
          detail: `\`nmcli connection up\`, \`nmcli device reapply\` or a NetworkManager restart re-applies the profile of ${ifname} and removes the addresses and routes it does not hold: keepalived's VIPs and virtual routes (keepalived #1465, #905). NetworkManager also removes the address after a carrier loss, which puts the instance in FAULT. Make ${ifname} unmanaged (\`[keyfile] unmanaged-devices=interface-name:${ifname}\` in NetworkManager.conf) and configure it another way, or never re-activate its profile on a running gateway. ${nmRuns === false ? 'NetworkManager is not running in this namespace now (a latent risk). ' : ''}The doctor does not change NetworkManager's configuration.`,
          evidence: [
            { probe: fileProbeId(file), excerpt: `${file}: interface-name=${ifname}` },
            ...(nmRuns ? [{ probe: PROBE_FIELD_PROCESSES, excerpt: 'NetworkManager runs in this network namespace' }] : []),
          ],
          subject: ifname,
          ...(nmRuns ? {} : { severity: 'warning' as const }),
        }),
      );
    }

    // ifupdown with DHCP on the VRRP interface: dhclient-script flushes the interface's addresses on a new lease
    const ifupdown = [INTERFACES_FILE, ...dirList(ctx, INTERFACES_DIR).map((n) => path.join(INTERFACES_DIR, n))];
    for (const file of ifupdown) {
      const text = ctx.output(fileProbeId(file));
      if (!text) continue;
      for (const m of text.matchAll(/^\s*iface\s+(\S+)\s+inet\s+dhcp\b.*$/gm)) {
        const ifname = m[1]!;
        if (!ifaces.has(ifname) || out.some((f) => f.subject === ifname)) continue;
        out.push(
          finding('network-manager-removes-vip', {
            title: `ifupdown runs DHCP on ${ifname} (${file})`,
            detail: `dhclient-script flushes every IPv4 address of ${ifname} when the lease changes (BOUND/REBOOT with a new address) and \`ifdown ${ifname}\` / \`systemctl restart networking\` always does: keepalived's VIPs go with them until keepalived notices. Give the VRRP interface a static address (keepalived also needs one that does not change for unicast_src_ip).`,
            evidence: [{ probe: fileProbeId(file), excerpt: `${file}: ${m[0].trim()}` }],
            subject: ifname,
            severity: 'warning',
          }),
        );
      }
    }
    return out;
  },
};

// ------------------------------------------------------------------ conntrack-sync-missing (25)

const conntrackSync: Check = {
  id: 'field-conntrack-sync',
  title: 'connection-state sync on a SNAT pair (conntrackd)',
  codes: ['conntrack-sync-missing'],
  run(ctx) {
    const config = ctx.ourConfig();
    if (config.vrrpInstances.length === 0) return [];
    const gw = gatewayEvidence(ctx).filter((e) => /SNAT|MASQUERADE|snat|masquerade/.test(e.excerpt));
    if (gw.length === 0) return [];
    const procs = watchedFrom(ctx.snapshot.probes);
    if (!procs) throw new SkipCheck('the process list was not collected');
    const conntrackd = procs.find((p) => p.comm === 'conntrackd' && p.ours);
    const notifies = configScripts(config).filter((s) => s.role !== 'script');
    const calls = notifies.flatMap((s) => {
      const text = ctx.output(scriptProbeId(s.ref.path)) ?? s.ref.command;
      const l = text.split('\n').find((x) => !/^\s*#/.test(x) && /conntrackd|primary-backup\.sh/.test(x));
      return l ? [{ probe: scriptProbeId(s.ref.path), excerpt: l.trim() }] : [];
    });
    const evidence: Evidence[] = [gw[0]!];
    let title: string | undefined;
    let detail = '';
    let severity: 'info' | undefined;
    if (!conntrackd) {
      const where = (() => {
        try {
          return JSON.parse(ctx.output(whichProbeId('conntrackd')) ?? '[]') as string[];
        } catch {
          return [];
        }
      })();
      const conf = ctx.output(fileProbeId(CONNTRACKD_CONF)) !== undefined;
      // a configuration is what says connection sync was meant: a binary alone (pulled in by a
      // package, or the lab host's) is not, so it stays info with the binary named
      const setUp = conf;
      title = setUp
        ? 'conntrackd is installed but does not run here: every connection breaks on failover'
        : 'a SNAT gateway pair without conntrackd: every connection breaks on failover';
      detail = `This node SNATs client traffic, but no conntrackd runs in its network namespace, so the backup knows none of the master's connection-tracking (NAT) entries. After a failover every established connection through the gateway is reset or hangs until the client retries. Run conntrackd on both nodes in FTFW mode over a dedicated link, and call its primary-backup.sh from the notify scripts (\`conntrackd -c\` commits the external cache before the new master takes traffic; keepalived #2254).${setUp ? '' : ' (Reported as info: nothing on this host is set up for connection sync, so stateless failover may be what was chosen.)'}`;
      evidence.push({ probe: PROBE_FIELD_PROCESSES, excerpt: 'no conntrackd process in this network namespace' });
      if (conf) evidence.push({ probe: fileProbeId(CONNTRACKD_CONF), excerpt: `${CONNTRACKD_CONF} exists` });
      if (where.length) evidence.push({ probe: whichProbeId('conntrackd'), excerpt: `conntrackd installed in ${where.join(', ')}` });
      if (!setUp) severity = 'info';
    } else if (calls.length === 0) {
      title = 'conntrackd runs, but no notify script commits its cache on failover';
      detail =
        "conntrackd keeps the peer's connections in its external cache; they reach the kernel only when someone runs `conntrackd -c` (primary-backup.sh primary) as the node becomes MASTER, and `conntrackd -n` / `-B` on the way to BACKUP. None of the notify scripts calls conntrackd, so the synced state is never used.";
      evidence.push({ probe: PROBE_FIELD_PROCESSES, excerpt: `conntrackd pid ${conntrackd.pid}` });
    } else {
      const stats = ctx.probe(PROBE_CONNTRACKD_STATS);
      if (stats && (stats.status !== 'ok' || (stats.exitCode !== 0 && stats.exitCode !== undefined))) {
        title = 'conntrackd runs but does not answer (stuck)';
        detail = `\`conntrackd -s\` ${stats.status === 'timeout' ? 'timed out' : `failed (${(stats.stderr || stats.stdout).trim().split('\n')[0] ?? stats.status})`}: the daemon is stuck or its control socket is gone, so the notify scripts' \`conntrackd -c\` will not commit anything on failover (freifunk-berlin/bbb-configs#96). Restart conntrackd and watch its "Lost msgs" counters.`;
        evidence.push({
          probe: PROBE_CONNTRACKD_STATS,
          excerpt: `conntrackd -s: ${stats.status}${stats.exitCode !== undefined ? ` exit ${stats.exitCode}` : ''}`,
        });
      }
    }
    if (!title) return [];
    return [finding('conntrack-sync-missing', { title, detail, evidence: [...evidence, ...calls.slice(0, 1)], ...(severity ? { severity } : {}) })];
  },
};

// ------------------------------------------------------------------ script-runs-differently (19, 21)

const PRIVILEGED = /^(iptables|ip6tables|iptables-restore|nft|ip|sysctl|conntrack|conntrackd|ipvsadm|systemctl|service|ethtool|arping|modprobe|tc)$/;

interface ScriptUse {
  ref: ScriptRef;
  owner: string;
  role: string;
}

function keepalivedPath(ctx: CheckContext): { dirs: string[]; source: string } | undefined {
  const text = ctx.output(PROBE_KEEPALIVED_ENV);
  if (text === undefined) return undefined;
  try {
    const env = JSON.parse(text) as { path: string | null };
    // keepalived's own fallback when its environment has no PATH (find_path: _PATH_DEFPATH)
    if (!env.path) return { dirs: ['/usr/bin', '/bin'], source: "keepalived's environment has no PATH (it falls back to /usr/bin:/bin)" };
    return { dirs: env.path.split(':').filter((d) => d.startsWith('/')), source: `keepalived's PATH=${env.path}` };
  } catch {
    return undefined;
  }
}

function whereIs(ctx: CheckContext, name: string): string[] | undefined {
  const t = ctx.output(whichProbeId(name));
  if (t === undefined) return undefined;
  try {
    return JSON.parse(t) as string[];
  } catch {
    return undefined;
  }
}

const scripts: Check = {
  id: 'field-scripts',
  title: 'scripts as keepalived runs them (user, PATH, SELinux, timeouts)',
  codes: ['script-runs-differently'],
  run(ctx) {
    const config = ctx.ourConfig();
    const uses: ScriptUse[] = configScripts(config);
    if (uses.length === 0) return [];
    const out: Finding[] = [];
    const g = config.globalDefs;

    // the user scripts run as
    const users = ctx.probe(PROBE_SCRIPT_USERS);
    if (users?.status === 'ok' && !g.scriptUser) {
      const defaultExists = users.stdout.split('\n').some((l) => l.startsWith(`${DEFAULT_SCRIPT_USER}:`));
      const withoutUser = uses.filter(
        (u) => !u.ref.user && !(u.role === 'script' && config.vrrpScripts.find((s) => `vrrp_script ${s.name}` === u.owner)?.user),
      );
      if (!defaultExists && g.enableScriptSecurity && withoutUser.length) {
        const tracked = withoutUser.filter((u) => u.role === 'script');
        out.push(
          finding('script-runs-differently', {
            title: `no script_user and no ${DEFAULT_SCRIPT_USER} user: keepalived removes ${withoutUser.length} script(s) under enable_script_security`,
            detail: `With enable_script_security and no script_user, keepalived runs scripts as the user ${DEFAULT_SCRIPT_USER}. That user does not exist here, so keepalived logs "Unable to set default user for vrrp script NAME - removing" and drops ${tracked.length ? `the track script(s) ${tracked.map((t) => t.owner.replace('vrrp_script ', '')).join(', ')} (their checks silently never affect the VIP)` : 'the scripts'}${withoutUser.length > tracked.length ? ' and the notify scripts' : ''} (keepalived #2184). \`keepalived -t\` says so; a shell test as root does not. Add \`script_user root\` (or a dedicated user) to global_defs, or create ${DEFAULT_SCRIPT_USER}.`,
            evidence: [
              { probe: PROBE_SCRIPT_USERS, excerpt: `getent passwd: no ${DEFAULT_SCRIPT_USER}` },
              ...(g.loc ? [confEvidence(g.loc, 'global_defs: enable_script_security, no script_user')] : []),
              ...withoutUser.slice(0, 3).map((u) => confEvidence(u.ref.loc, `${u.role === 'script' ? 'script' : u.role} ${u.ref.command}`)),
            ],
            ...(g.loc ? { location: location(g.loc) } : {}),
          }),
        );
      } else if (defaultExists) {
        for (const u of withoutUser) {
          const text = ctx.output(scriptProbeId(u.ref.path)) ?? '';
          const cmds = [...(u.ref.path.startsWith('/') ? [] : [u.ref.path]), ...commandNames(text).names].filter((c) => PRIVILEGED.test(c));
          if (cmds.length === 0) continue;
          out.push(
            finding('script-runs-differently', {
              title: `${u.role} of ${u.owner} runs as ${DEFAULT_SCRIPT_USER}, not root, but calls ${cmds.slice(0, 3).join(', ')}`,
              detail: `No script_user is set and the user ${DEFAULT_SCRIPT_USER} exists, so keepalived runs this script as ${DEFAULT_SCRIPT_USER}. ${cmds.join(', ')} need${cmds.length === 1 ? 's' : ''} root (netfilter, routes, sysctls), so the script fails under keepalived although it works when you test it as root. Set \`script_user root\` in global_defs, or \`${u.role === 'script' ? 'user root' : `${u.role} ${u.ref.command} root`}\` on this script.`,
              evidence: [
                confEvidence(u.ref.loc, `${u.role} ${u.ref.command}`),
                { probe: PROBE_SCRIPT_USERS, excerpt: users.stdout.split('\n').find((l) => l.startsWith(`${DEFAULT_SCRIPT_USER}:`)) ?? DEFAULT_SCRIPT_USER },
              ],
              location: location(u.ref.loc),
              subject: u.owner.replace(/^\S+ /, ''),
            }),
          );
        }
      }
    }

    // PATH: programs keepalived cannot find
    const kpath = keepalivedPath(ctx);
    const ret127 = logLines(ctx, /Script `?[\w.-]+`? now returning 127|exited with status 127|Cannot find script .* in path/, 20, { sinceStart: true });
    for (const u of uses) {
      const missing: Array<{ name: string; where: string[]; line?: string }> = [];
      if (!u.ref.path.startsWith('/')) {
        const where = whereIs(ctx, u.ref.path);
        if (where && kpath && !where.some((d) => kpath.dirs.includes(d))) missing.push({ name: u.ref.path, where });
      }
      const text = u.ref.path.startsWith('/') ? ctx.output(scriptProbeId(u.ref.path)) : undefined;
      // a script that sources another file may set PATH or define functions there: its commands are not judged
      if (text !== undefined && kpath && !/^\s*(\.|source)\s+\S/m.test(text)) {
        const cmds = commandNames(text);
        const dirs = cmds.setsPath && !cmds.extendsPath ? cmds.setsPath : [...(cmds.setsPath ?? []), ...kpath.dirs];
        for (const name of cmds.names) {
          const where = whereIs(ctx, name);
          if (!where || where.length === 0 || where.some((d) => dirs.includes(d))) continue;
          missing.push({
            name,
            where,
            line: text
              .split('\n')
              .find((l) => new RegExp(`(^|[\\s;|&(\`])${name.replace(/[.+]/g, '\\$&')}(\\s|$)`).test(l) && !/^\s*#/.test(l))
              ?.trim(),
          });
        }
      }
      if (missing.length === 0) continue;
      const name = u.owner.replace(/^\S+ /, '');
      const failing = ret127?.lines.filter((l) => l.includes(name) || missing.some((m) => l.includes(m.name))) ?? [];
      out.push(
        finding('script-runs-differently', {
          title: `${u.role} of ${u.owner}: ${missing.map((m) => m.name).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not on keepalived's PATH`,
          detail: `${missing.map((m) => `${m.name} is in ${m.where.join(', ')}`).join('; ')}, which ${missing.length === 1 && missing[0]!.where.length === 1 ? 'is' : 'are'} not on the PATH keepalived gives its scripts (${kpath!.source}). In a login shell the command is found; under keepalived it fails with "not found" (exit 127)${u.role === 'script' ? ', so the track script always fails' : `, so whatever ${u.role} should do is not done`}. Use absolute paths (${missing.map((m) => `${m.where[0]}/${m.name}`).join(', ')}) or set PATH at the top of the script.`,
          evidence: [
            confEvidence(u.ref.loc, `${u.role} ${u.ref.command}`),
            { probe: PROBE_KEEPALIVED_ENV, excerpt: kpath!.source },
            ...missing.map((m) => ({ probe: whichProbeId(m.name), excerpt: `${m.name}: ${m.where.join(', ')}${m.line ? ` (used: ${m.line})` : ''}` })),
            ...failing.slice(-2).map((l) => ({ probe: ret127!.probe, excerpt: l })),
          ],
          location: location(u.ref.loc),
          subject: name,
        }),
      );
    }

    // SELinux denials for keepalived and its scripts
    if (ctx.output(PROBE_SELINUX_ENFORCE)?.trim() === '1') {
      const audit = ctx.output(PROBE_AUDIT_LOG);
      const denials = (audit ?? '').split('\n').filter((l) => /avc:\s+denied/.test(l) && /keepalived_t\b|comm="keepalived"/.test(l));
      const dbus = logLines(ctx, /Failed to get D-Bus connection: Permission denied|Permission denied/, 3);
      if (denials.length || dbus?.lines.length) {
        out.push(
          finding('script-runs-differently', {
            title: `SELinux (enforcing) denies keepalived or its scripts (${denials.length} AVC denial(s))`,
            detail:
              'Scripts keepalived starts run in the keepalived_t domain, not your shell\'s unconfined_t, so what works by hand is refused under keepalived (keepalived #1322, #1984: systemctl in a script gets "Failed to get D-Bus connection: Permission denied"). Look at `ausearch -m avc -c keepalived`; turn on a matching boolean (`getsebool -a | grep keepalived`, e.g. keepalived_connect_any) or build a local module with audit2allow. Do not switch SELinux off on a gateway.',
            evidence: [
              { probe: PROBE_SELINUX_ENFORCE, excerpt: 'SELinux enforcing' },
              ...denials.slice(-3).map((l) => ({ probe: PROBE_AUDIT_LOG, excerpt: l.slice(0, 400) })),
              ...(dbus?.lines ?? []).map((l) => ({ probe: dbus!.probe, excerpt: l })),
            ],
          }),
        );
      }
    }

    // track scripts that time out or overlap
    const timing = logLines(
      ctx,
      /Track script \S+ is (already running|being timed out), expect idle - skipping run|VRRP_Script\(\S+\) timed_out|Script `?\S+?`? timed[_ ]out|Child \(PID \d+\) failed to terminate after kill/,
      200,
      { sinceStart: true },
    );
    const byScript = new Map<string, string[]>();
    for (const l of timing?.lines ?? []) {
      const m = /Track script (\S+) is|VRRP_Script\((\S+)\)|Script `?([^`\s]+?)`? timed/.exec(l);
      const name = m?.[1] ?? m?.[2] ?? m?.[3] ?? '?';
      byScript.set(name, [...(byScript.get(name) ?? []), l]);
    }
    for (const [name, lines] of byScript) {
      const vs = config.vrrpScripts.find((s) => s.name === name);
      const interval = vs?.interval ?? 1;
      const timeout = vs?.timeout;
      const overlap = lines.some((l) => /already running/.test(l));
      out.push(
        finding('script-runs-differently', {
          title: `track script ${name} ${overlap ? 'overlaps itself (still running at its next interval)' : 'times out'} (${lines.length} log line(s))`,
          detail: `keepalived runs ${name} every ${interval} s and kills it after ${timeout ?? interval} s${timeout === undefined ? ' (timeout defaults to the interval)' : ''}; a run that has not finished by then is counted as a failure and the next runs are skipped ("expect idle - skipping run"). A slow check (curl, kubectl, a busy daemon) thereby fails the VIP over on load, or never recovers (keepalived #946, #2289, #2217). Make the check cheaper (track_process instead of killall/pidof, a local socket instead of an HTTP round trip), give it \`timeout\` below \`interval\` and fall/rise to ride out one slow run.`,
          evidence: [
            ...(vs ? [confEvidence(vs.loc, `vrrp_script ${name}: interval ${interval}${timeout !== undefined ? `, timeout ${timeout}` : ''}`)] : []),
            ...lines.slice(-3).map((l) => ({ probe: timing!.probe, excerpt: l })),
          ],
          ...(vs ? { location: location(vs.loc) } : {}),
          subject: name,
        }),
      );
    }
    // a timeout longer than the interval makes runs overlap by design
    for (const vs of config.vrrpScripts) {
      if (vs.timeout === undefined || vs.interval === undefined || vs.timeout <= vs.interval || byScript.has(vs.name)) continue;
      out.push(
        finding('script-runs-differently', {
          title: `track script ${vs.name}: timeout ${vs.timeout} s is longer than its interval ${vs.interval} s`,
          detail: `A run that takes longer than ${vs.interval} s is still going when the next is due, so keepalived skips runs ("Track script ${vs.name} is already running, expect idle - skipping run") and reacts late. Keep timeout below interval.`,
          evidence: [confEvidence(vs.loc, `vrrp_script ${vs.name}: interval ${vs.interval}, timeout ${vs.timeout}`)],
          location: location(vs.loc),
          subject: vs.name,
          severity: 'warning',
        }),
      );
    }
    return out;
  },
};

export const fieldHostChecks: Check[] = [networkManagers, conntrackSync, scripts];
