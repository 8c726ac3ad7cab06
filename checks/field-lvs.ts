// LVS directors that are real servers of their own service (catalogue 29). keepalived loads every
// virtual_server on both directors, MASTER or BACKUP. With LVS-DR (and TUN) a request keeps the VIP
// as its destination, so when the master sends one to the other director (a real server too), that
// director's IPVS table balances it again, possibly back to the master: the directors bounce
// packets between them. The known remedy is a fwmark virtual_server whose mark is set only on
// packets that do not come from the other director, so the config's shape is the evidence.
import type { Check } from '../src/check.js';
import { finding, type CheckContext } from '../src/context.js';
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

export const fieldLvsChecks: Check[] = [directorLoop];
