// IPVS (LVS directors and dsnat gateways, seed): the module, real servers quiesced or missing,
// NAT real servers whose replies never come back, persistence templates pinned to quiesced servers.
import { daemonStatus } from '../src/state.js';
import type { Check } from '../src/check.js';
import { finding, SkipCheck, type CheckContext } from '../src/context.js';
import type { Finding } from '../src/types.js';
import type { VirtualServer } from '../src/keepalived/model.js';
import { keepalivedConfig } from '../src/keepalived/from-snapshot.js';
import {
  IpvsParseError,
  mergeStats,
  parseIpvsConnections,
  parseIpvsList,
  parseIpvsStats,
  parseLocalAddresses,
  parseProcIpVs,
  type IpvsConnection,
  type IpvsTable,
} from '../src/ipvs/ipvsadm.js';
import { dsnatStatus, ipvsAvailability, isDsnatService, realServerProblems, type RealServerProblem } from '../src/ipvs/analyze.js';
import {
  PROBE_IPVS_CONNS,
  PROBE_IPVS_EXPIRE_QUIESCENT,
  PROBE_IPVS_LADDR,
  PROBE_IPVS_LIST,
  PROBE_IPVS_MODINFO,
  PROBE_IPVS_MODULE_DIR,
  PROBE_IPVS_STATS,
  PROBE_PROC_IPVS,
  type ProbeId,
} from '../src/probes/ids.js';

function virtualServers(ctx: CheckContext): VirtualServer[] {
  return keepalivedConfig(ctx).result?.config.virtualServers ?? [];
}

const ran = (ctx: CheckContext, id: ProbeId) => {
  const r = ctx.probe(id);
  return r ? { ok: r.status === 'ok', exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, ...(r.reason ? { reason: r.reason } : {}) } : undefined;
};

export function availability(ctx: CheckContext) {
  return ctx.memo('ipvs:availability', () =>
    ipvsAvailability({
      ...(ctx.probe(PROBE_IPVS_MODULE_DIR) ? { sysModule: ran(ctx, PROBE_IPVS_MODULE_DIR)! } : {}),
      ...(ctx.probe(PROBE_PROC_IPVS) ? { procIpVs: ran(ctx, PROBE_PROC_IPVS)! } : {}),
      ...(ctx.probe(PROBE_IPVS_MODINFO) ? { modinfo: ran(ctx, PROBE_IPVS_MODINFO)! } : {}),
      ...(ctx.probe(PROBE_IPVS_LIST) ? { ipvsadm: ran(ctx, PROBE_IPVS_LIST)! } : {}),
    }),
  );
}

/** The IPVS table: ipvsadm -Ln (with --stats merged), else /proc/net/ip_vs; skips when neither ran. */
export function ipvsTable(ctx: CheckContext): { table: IpvsTable; probe: string } {
  return ctx.memo('ipvs:table', () => {
    const list = ctx.probe(PROBE_IPVS_LIST);
    try {
      if (list?.status === 'ok' && list.exitCode === 0) {
        const stats = ctx.probe(PROBE_IPVS_STATS);
        const st = stats?.status === 'ok' && stats.exitCode === 0 ? parseIpvsStats(stats.stdout) : undefined;
        return { table: mergeStats(parseIpvsList(list.stdout), st), probe: PROBE_IPVS_LIST };
      }
      const proc = ctx.output(PROBE_PROC_IPVS);
      if (proc !== undefined) return { table: parseProcIpVs(proc), probe: PROBE_PROC_IPVS };
    } catch (err) {
      if (err instanceof IpvsParseError) throw new SkipCheck(`IPVS table unreadable: ${err.message}`);
      throw err;
    }
    const why = list?.reason ?? (list ? `ipvsadm exited ${list.exitCode}: ${list.stderr.split('\n')[0] ?? ''}` : 'ipvsadm -Ln was not collected');
    throw new SkipCheck(`IPVS table not available (${why})`);
  });
}

function connections(ctx: CheckContext): IpvsConnection[] | undefined {
  const r = ctx.probe(PROBE_IPVS_CONNS);
  if (r?.status !== 'ok' || r.exitCode !== 0) return undefined;
  try {
    return parseIpvsConnections(r.stdout);
  } catch {
    return undefined;
  }
}

export const ipvsModule: Check = {
  id: 'ipvs-module',
  title: 'IPVS available for virtual_server blocks',
  codes: ['ipvs-module-missing'],
  run(ctx) {
    const all = virtualServers(ctx);
    if (all.length === 0) return [];
    const a = availability(ctx);
    if (a.state === 'loaded') return [];
    if (a.state === 'unknown') throw new SkipCheck(`cannot tell whether IPVS is available: ${a.evidence}`);
    const running = daemonStatus(ctx).daemon !== undefined;
    if (a.state === 'loadable' && !running) return []; // keepalived's checker loads ip_vs when it starts
    const plain = all.filter((vs) => !isDsnatService(vs));
    const loc = (plain[0] ?? all[0])!.loc;
    if (plain.length === 0) {
      return [
        finding('ipvs-module-missing', {
          severity: 'info',
          title: 'the dsnat (0.0.0.0:0 + local_address_group) service needs a patched IPVS, which this kernel does not have',
          detail:
            'The config describes a dsnat/FNAT-SNAT gateway: a 0.0.0.0:0 virtual service that SNATs through a local address pool. Stock kernels have no such forwarding method, so IPVS cannot hold it; ' +
            'that is expected on a stock kernel, not a fault of this host. Run it on the patched kernel the design calls for, or do the SNAT with iptables/nftables instead. (Lowered to info: nothing else depends on it here.)',
          evidence: [{ probe: PROBE_IPVS_LIST, excerpt: a.evidence }],
          location: { file: loc.file, line: loc.line },
          subject: 'ip_vs',
        }),
      ];
    }
    return [
      finding('ipvs-module-missing', {
        title:
          a.state === 'loadable'
            ? 'keepalived runs virtual_server blocks but ip_vs is not loaded'
            : 'the config has virtual_server blocks but this kernel has no IPVS',
        detail:
          a.state === 'loadable'
            ? `keepalived's checker loads ip_vs when it starts; it is installed (${a.evidence}) but not loaded, so the checker could not load it (a container without CAP_SYS_MODULE, or modprobe blocked). Load it (modprobe ip_vs) and persist it in /etc/modules-load.d/ipvs.conf.`
            : `${plain.length} virtual_server block(s) need IPVS (${a.evidence}). Without it keepalived's checker cannot create any virtual service and no traffic is balanced. Install the kernel's extra modules (ip_vs) or use a kernel built with CONFIG_IP_VS.`,
        evidence: [{ probe: PROBE_IPVS_MODULE_DIR, excerpt: a.evidence }],
        location: { file: loc.file, line: loc.line },
        subject: 'ip_vs',
      }),
    ];
  },
};

function describe(p: RealServerProblem, expireQuiescent: number | undefined): { title: string; detail: string; excerpt: string } {
  switch (p.kind) {
    case 'service-missing':
      return {
        title: `virtual service ${p.key} is not in IPVS`,
        detail: `keepalived's config declares ${p.key} with ${p.vs.realServers.length} real server(s), but the kernel's IPVS table has no such service: every real server of it is missing. keepalived's checker did not create it (check its log for ipvs errors).`,
        excerpt: `${p.key}: not in the IPVS table`,
      };
    case 'missing':
      return {
        title: `real server ${p.address}:${p.port} is missing from ${p.key}`,
        detail: `keepalived removes a real server whose health check fails (without inhibit_on_failure), so clients are balanced over the remaining ones only. Its health check is failing: check the service on ${p.address}.`,
        excerpt: `${p.key}: no -> ${p.address}:${p.port}`,
      };
    case 'quiesced': {
      const pinned = p.pinnedClients.length;
      return {
        title: `real server ${p.rs.address}:${p.rs.port} of ${p.key} has weight 0 (quiesced)`,
        detail:
          `Weight 0 means no new connections (inhibit_on_failure after a failed health check, or set by hand). ` +
          (pinned
            ? `${pinned} persistence template(s) still pin clients to it, and while a template lives those clients keep being sent to this server` +
              (expireQuiescent === 1 ? '.' : `; net.ipv4.vs.expire_quiescent_template=1 lets them expire so the clients move to a healthy server.`)
            : 'Check why its health check fails.'),
        excerpt: p.rs.raw.trim(),
      };
    }
    case 'nat-no-reply':
      // reported under ipvs-realserver-down: a real server whose replies never come back is down for every client
      return {
        title: `NAT real server ${p.rs.address}:${p.rs.port} of ${p.key} never replies through the director`,
        detail:
          `IPVS forwarded ${p.rs.stats!.inPkts}${p.rs.stats!.approximate ? '+' : ''} packets to it in NAT (Masq) mode and saw 0 come back. In LVS-NAT the real server must route its replies back through the director's inside VIP ` +
          `(default route, or policy routing: "ip rule add from ${p.rs.address} table lvs_nat" and "ip route add default via INSIDE_VIP table lvs_nat"); otherwise replies leave another way and clients drop them.`,
        excerpt: p.rs.raw.trim(),
      };
  }
}

export const ipvsRealServers: Check = {
  id: 'ipvs-realservers',
  title: 'IPVS real servers present, weighted and replying',
  codes: ['ipvs-realserver-down'],
  run(ctx) {
    const vss = virtualServers(ctx);
    // no virtual_server and no IPVS in the kernel: nothing to balance, nothing to judge
    if (vss.length === 0 && availability(ctx).state === 'absent') return [];
    const { table, probe } = ipvsTable(ctx);
    const running = daemonStatus(ctx).daemon !== undefined;
    const conns = connections(ctx);
    const expire = Number(ctx.output(PROBE_IPVS_EXPIRE_QUIESCENT)?.trim() ?? NaN);
    // without a running keepalived nothing manages IPVS: missing services are keepalived-not-running's finding
    const problems = realServerProblems(table, running ? vss : [], conns);
    return problems.map((p): Finding => {
      const d = describe(p, Number.isNaN(expire) ? undefined : expire);
      const stats = p.kind === 'nat-no-reply';
      const loc = 'vs' in p && p.vs ? p.vs.loc : undefined;
      return finding('ipvs-realserver-down', {
        title: d.title,
        detail: d.detail,
        evidence: [
          { probe: stats ? PROBE_IPVS_STATS : probe, excerpt: d.excerpt },
          ...(p.kind === 'quiesced'
            ? p.pinnedClients.slice(0, 3).map((c) => ({
                probe: PROBE_IPVS_CONNS,
                excerpt: `${c.protocol} NONE ${c.client}:0 -> ${c.virtual}:${c.virtualPort} -> ${c.destination}:${c.destinationPort} (${c.expire}s left)`,
              }))
            : []),
        ],
        subject: p.key,
        ...(loc ? { location: { file: loc.file, line: loc.line } } : {}),
      });
    });
  },
};

export const ipvsDsnat: Check = {
  id: 'ipvs-dsnat',
  title: 'dsnat local address pools',
  codes: ['ipvs-module-missing'],
  run(ctx) {
    const dsnat = virtualServers(ctx).filter(isDsnatService);
    if (dsnat.length === 0) return [];
    const a = availability(ctx);
    // no IPVS at all: ipvs-module reports it (and explains the dsnat case)
    if (a.state !== 'loaded') return [];
    const laddr = ctx.probe(PROBE_IPVS_LADDR);
    if (!laddr) throw new SkipCheck('ipvsadm -G was not collected');
    if (laddr.status === 'skipped' || laddr.status === 'missing') throw new SkipCheck(`ipvsadm -G: ${laddr.reason ?? laddr.status}`);
    let pools;
    try {
      pools = laddr.exitCode === 0 ? parseLocalAddresses(laddr.stdout) : undefined;
    } catch {
      pools = undefined;
    }
    let table: IpvsTable | undefined;
    try {
      table = ipvsTable(ctx).table;
    } catch {
      table = undefined;
    }
    const out: Finding[] = [];
    for (const vs of dsnat) {
      const s = dsnatStatus(vs, table, laddr, pools);
      if (s.kind !== 'unsupported') continue;
      out.push(
        finding('ipvs-module-missing', {
          severity: 'info',
          title: `this IPVS has no local address pools: the dsnat service ${vs.address ?? '0.0.0.0'}:${vs.port ?? 0} needs the FNAT/SNAT-patched kernel and ipvsadm`,
          detail:
            'IPVS is loaded, but `ipvsadm -G` (local addresses) is not supported: the stock kernel and ipvsadm. The 0.0.0.0:0 service with local_address_group only exists on the patched build; on this kernel its absence is expected, not a fault. (Lowered to info.)',
          evidence: [{ probe: PROBE_IPVS_LADDR, excerpt: s.why }],
          location: { file: vs.loc.file, line: vs.loc.line },
          subject: 'dsnat',
        }),
      );
    }
    return out;
  },
};

export const ipvsChecks: Check[] = [ipvsModule, ipvsRealServers, ipvsDsnat];
