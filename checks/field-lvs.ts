// LVS directors that are real servers of their own service (catalogue 29). keepalived loads every
// virtual_server on both directors, MASTER or BACKUP. With LVS-DR (and TUN) a request keeps the VIP
// as its destination, so when the master sends one to the other director (a real server too), that
// director's IPVS table balances it again, possibly back to the master: the directors bounce
// packets between them. The known remedy is a fwmark virtual_server whose mark is set only on
// packets that do not come from the other director, so the config's shape is the evidence.
import ipaddr from 'ipaddr.js';
import type { Check } from '../src/check.js';
import { SkipCheck, finding, type CheckContext } from '../src/context.js';
import { firewallFromRecords } from '../src/netfilter/firewall.js';
import { allRules, isSnatAction, type Rule } from '../src/netfilter/rules.js';
import { PROBE_IPVS_CONNTRACK } from '../src/probes/routing.js';
import type { Finding } from '../src/types.js';
import { localAddresses } from '../src/state.js';
import { ownConfig } from './keepalived-config.js';
import { confEvidence, location } from './field-common.js';

const directorLoop: Check = {
  id: 'lvs-director-loop',
  title: 'LVS directors that are real servers of their own DR/TUN service',
  codes: ['lvs-director-loop'],
  run(ctx: CheckContext) {
    const cfg = ownConfig(ctx);
    if (!cfg.virtualServers.length) return [];
    ctx.require('ip-addr', 'the addresses (ip -j addr)');
    const mine = new Set(localAddresses(ctx).map((a) => a.address));
    const out: Finding[] = [];
    for (const vs of cfg.virtualServers) {
      const kind = (vs.method ?? '').toUpperCase();
      if (kind !== 'DR' && kind !== 'TUN') continue;
      // a fwmark service is the documented way to keep the other director's forwarded packets out of IPVS
      if (vs.fwmark !== undefined) continue;
      const self = vs.realServers.filter((rs) => mine.has(rs.address));
      const others = vs.realServers.filter((rs) => !mine.has(rs.address));
      if (!self.length || !others.length) continue;
      const name = vs.address ? `${vs.address}${vs.port !== undefined ? ` ${vs.port}` : ''}` : (vs.group ?? '?');
      out.push(
        finding('lvs-director-loop', {
          title: `virtual_server ${name} (lb_kind ${kind}) lists this director (${self.map((r) => r.address).join(', ')}) as a real server: the directors can forward requests back and forth`,
          detail:
            `keepalived loads this IPVS service on both directors, whichever is MASTER. With ${kind} a request keeps the VIP as its destination, so when the other director is MASTER and sends one to this node as a real server, this node's IPVS table balances it again, possibly back to the master (also a real server here: ${others.map((r) => r.address).join(', ')}): a loop that grows with load and looks like dropped or slow connections. ` +
            'Use a fwmark virtual_server instead: mark the VIP traffic in the mangle table only when it does not come from the other director (`iptables -t mangle -A PREROUTING -d VIP -p tcp --dport PORT -m mac ! --mac-source OTHER_DIRECTOR_MAC -j MARK --set-mark 1`, on both directors) and write `virtual_server fwmark 1 { ... }`. Or keep the directors out of their own real-server list.',
          evidence: [
            confEvidence(vs.loc, `virtual_server ${name} lb_kind ${vs.method}`),
            ...self.map((rs) => confEvidence(rs.loc, `real_server ${rs.address}${rs.port !== undefined ? ` ${rs.port}` : ''} (an address of this node)`)),
          ],
          location: location(vs.loc),
          subject: name,
        }),
      );
    }
    return out;
  },
};

/** Does an address fall inside one of the cidrs (a bare address is a /32 or /128)? */
function inCidrs(address: string, cidrs: string[]): boolean {
  return cidrs.some((c) => {
    try {
      const [net, len] = c.includes('/') ? ipaddr.parseCIDR(c) : [ipaddr.parse(c), ipaddr.parse(c).kind() === 'ipv4' ? 32 : 128];
      const a = ipaddr.parse(address);
      return a.kind() === net.kind() && a.match(net, len);
    } catch {
      return false;
    }
  });
}

/** The SNAT/MASQUERADE rules of a POSTROUTING chain that name a real server as their destination. */
function snatToRealServers(rules: Rule[], realServers: string[]): Array<{ rule: Rule; servers: string[] }> {
  const out: Array<{ rule: Rule; servers: string[] }> = [];
  for (const r of rules) {
    if (!isSnatAction(r.action) || !/postrouting/i.test(r.chain)) continue;
    const dst = r.conds.filter((c): c is Extract<Rule['conds'][number], { kind: 'addr' }> => c.kind === 'addr' && c.dir === 'dst' && !c.neg);
    // only a rule written for the real servers: a general MASQUERADE for the internet is not about IPVS
    if (!dst.length) continue;
    const servers = realServers.filter((a) => dst.every((c) => inCidrs(a, c.cidrs)));
    if (servers.length) out.push({ rule: r, servers });
  }
  return out;
}

/** catalogue 28: SNAT written for the traffic IPVS forwards to the real servers only works when
 *  IPVS keeps netfilter connection tracking for it (net.ipv4.vs.conntrack = 1); with 0, IPVS
 *  packets skip the nat table and the rule never applies, so the real servers answer the client
 *  directly and the client drops the replies. */
const ipvsSnatConntrack: Check = {
  id: 'lvs-snat-conntrack',
  title: 'SNAT on IPVS traffic and net.ipv4.vs.conntrack',
  codes: ['lvs-snat-conntrack-off'],
  run(ctx: CheckContext) {
    const cfg = ownConfig(ctx);
    const servers = [...new Set(cfg.virtualServers.flatMap((vs) => vs.realServers.map((r) => r.address)))];
    if (!servers.length) return [];
    const fw = firewallFromRecords(ctx.snapshot.probes);
    if (!fw.tables.length)
      throw new SkipCheck(`the rule set could not be read (${fw.unavailable.map((u) => `${u.probe}: ${u.reason}`).join('; ') || 'not collected'})`);
    const hits = fw.tables.flatMap((t) => snatToRealServers(allRules(t), servers).map((h) => ({ ...h, probe: t.probe })));
    if (!hits.length) return [];
    const rec = ctx.probe(PROBE_IPVS_CONNTRACK);
    if (!rec || rec.status !== 'ok') throw new SkipCheck('net.ipv4.vs.conntrack was not read (the ip_vs module is not loaded, or the file is missing)');
    const value = rec.stdout.trim();
    if (value !== '0') return [];
    const h = hits[0]!;
    return [
      finding('lvs-snat-conntrack-off', {
        title: `SNAT for the real servers (${h.servers.join(', ')}) never applies to IPVS traffic: net.ipv4.vs.conntrack = 0`,
        detail:
          `The rule below rewrites the source of packets to ${h.servers.join(', ')}, the real servers of this node's virtual_server(s), so that their replies come back through this director. IPVS forwards its packets without netfilter connection tracking unless net.ipv4.vs.conntrack = 1, so they skip the nat table: the real servers see the client's address, answer it directly, and the client drops replies from an address it never spoke to. ` +
          'Set `sysctl -w net.ipv4.vs.conntrack=1` (and in /etc/sysctl.d; the key exists once ip_vs is loaded, so load it early or set it in notify_master), on both directors. It costs a conntrack entry per IPVS connection: size nf_conntrack_max for it.',
        evidence: [
          { probe: PROBE_IPVS_CONNTRACK, excerpt: `net.ipv4.vs.conntrack = ${value}` },
          ...hits.slice(0, 3).map((x) => ({ probe: x.probe, excerpt: `${x.rule.chain}: ${x.rule.text}` })),
        ],
        subject: h.servers.join(','),
      }),
    ];
  },
};

export const fieldLvsChecks: Check[] = [directorLoop, ipvsSnatConntrack];
