// The keepalived daemon itself, from the verified process tree (src/keepalived/daemon.ts): more
// than one daemon in this namespace, a daemon without the capabilities VRRP needs, and a stale PID
// file that keeps keepalived from starting.
import type { Check } from '../src/check.js';
import { finding, SkipCheck } from '../src/context.js';
import type { Evidence, Finding } from '../src/types.js';
import { DEFAULT_PID_FILES, missingCapabilities } from '../src/keepalived/daemon.js';
import { parseKeepalivedArgs } from '../src/keepalived/records.js';
import { daemonStatus, keepalivedProcesses } from '../src/state.js';
import { PROBE_KEEPALIVED_PROCESSES, pidFileProbeId } from '../src/probes/ids.js';

const procLine = (p: { pid: number; argv: string[]; startedAt?: string }) =>
  `pid ${p.pid}${p.startedAt ? ` (started ${p.startedAt})` : ''}: ${p.argv.join(' ')}`;

const duplicate: Check = {
  id: 'keepalived-duplicate',
  title: 'one keepalived daemon in this network namespace',
  codes: ['keepalived-duplicate'],
  run(ctx) {
    ctx.require(PROBE_KEEPALIVED_PROCESSES, 'the process list');
    const st = daemonStatus(ctx);
    if (st.running === 'unknown') throw new SkipCheck(st.why ?? 'keepalived could not be verified', true);
    if (st.daemons.length < 2) return [];
    const configs = st.daemons.map((d) => parseKeepalivedArgs(d.argv).config ?? '/etc/keepalived/keepalived.conf');
    const sameConfig = new Set(configs).size === 1;
    return [
      finding('keepalived-duplicate', {
        title: `${st.daemons.length} keepalived daemons run in this network namespace`,
        detail:
          `Each daemon runs its own VRRP instances on the same interfaces: they ${sameConfig ? 'advertise the same VRIDs against each other' : `read different configurations (${[...new Set(configs)].join(', ')}), so an old one keeps announcing what the new one changed`}, add and remove the same VIPs, and run the notify scripts twice. ` +
          'Usually a second start by hand or by another unit (a container, an old init script) beside the service. Stop every daemon but the one the service manager runs (kill the others by pid), then check the VIPs.',
        evidence: st.daemons.map((d) => ({ probe: PROBE_KEEPALIVED_PROCESSES, excerpt: procLine(d) })),
      }),
    ];
  },
};

const capabilities: Check = {
  id: 'keepalived-capabilities',
  title: 'keepalived can do its work (capabilities, PID file)',
  codes: ['keepalived-capabilities-missing'],
  run(ctx) {
    ctx.require(PROBE_KEEPALIVED_PROCESSES, 'the process list');
    const st = daemonStatus(ctx);
    if (st.running === 'unknown') throw new SkipCheck(st.why ?? 'keepalived could not be verified', true);
    const out: Finding[] = [];
    if (st.running === 'yes') {
      const tree = keepalivedProcesses(ctx).filter((p) => st.daemons.some((d) => d.pid === p.pid || d.pid === p.ppid));
      const lacking = tree.map((p) => ({ p, missing: missingCapabilities(p.capEff) })).filter((x) => x.missing.length);
      if (lacking.length) {
        const missing = [...new Set(lacking.flatMap((x) => x.missing))];
        out.push(
          finding('keepalived-capabilities-missing', {
            title: `keepalived runs without ${missing.join(' and ')}`,
            detail:
              `The daemon's effective capabilities (CapEff) lack ${missing.join(' and ')}: ${missing.includes('CAP_NET_RAW') ? 'it cannot open the VRRP raw socket or send adverts ("send advert error … Operation not permitted"), ' : ''}${missing.includes('CAP_NET_ADMIN') ? 'it cannot add or remove the VIPs or set up its interfaces, ' : ''}so this node can neither announce nor take over the VIP. ` +
              'In a container grant NET_ADMIN and NET_RAW (docker --cap-add / Kubernetes securityContext.capabilities.add); under systemd look for CapabilityBoundingSet= or AmbientCapabilities= in the unit and its drop-ins.',
            evidence: lacking.slice(0, 3).map(({ p, missing: m }) => ({
              probe: PROBE_KEEPALIVED_PROCESSES,
              excerpt: `pid ${p.pid}${p.daemon ? ` (${p.daemon})` : ''}: CapEff ${p.capEff} lacks ${m.join(', ')}`,
            })),
          }),
        );
      }
      return out;
    }
    // not running: a PID file naming a live process that is not keepalived makes keepalived refuse to start
    const stale: Evidence[] = [];
    for (const file of DEFAULT_PID_FILES) {
      const text = ctx.output(pidFileProbeId(file));
      if (!text) continue;
      let f: { pid?: number | null; alive?: boolean; comm?: string | null };
      try {
        f = JSON.parse(text) as typeof f;
      } catch {
        continue;
      }
      if (f.pid && f.alive && f.comm !== null && !/^keepalived/i.test(f.comm ?? ''))
        stale.push({ probe: pidFileProbeId(file), excerpt: `${file} holds pid ${f.pid}, which is now "${f.comm}", not keepalived` });
    }
    if (stale.length) {
      out.push(
        finding('keepalived-capabilities-missing', {
          title: 'a stale keepalived PID file blocks the start',
          detail:
            'keepalived refuses to start ("daemon is already running") when its PID file names a live process, whatever that process is. The PID was reused by another program after an unclean stop. Remove the stale file and start keepalived.',
          evidence: stale,
        }),
      );
    }
    return out;
  },
};

export const daemonChecks: Check[] = [duplicate, capabilities];
