// keepalived itself: installed, running in this namespace, config accepted, VIPs matching state.
import type { Check } from '../src/check.js';
import { finding, SkipCheck } from '../src/context.js';
import type { Evidence, Finding } from '../src/types.js';
import { keepalivedConfig } from '../src/keepalived/from-snapshot.js';
import { ourKeepalived, processesFrom } from '../src/probes/keepalived.js';
import { daemonStatus, instanceStates, localAddresses } from '../src/state.js';
import { daemonChecks } from './keepalived-daemon.js';

export function keepalivedInstalled(ctx: Parameters<Check['run']>[0]): boolean {
  const bin = ctx.probe('keepalived-binary');
  const version = ctx.probe('keepalived-version');
  // keepalived-binary is a PATH lookup: its output is the path, empty when not found
  return (bin?.status === 'ok' && bin.stdout.trim() !== '' && (bin.exitCode ?? 0) === 0) || (version?.status === 'ok' && version.exitCode === 0);
}

const installed: Check = {
  id: 'keepalived-installed',
  title: 'keepalived installed',
  codes: ['keepalived-not-installed'],
  run(ctx) {
    if (!ctx.probe('keepalived-binary') && !ctx.probe('keepalived-version')) throw new SkipCheck('keepalived probes not collected');
    if (keepalivedInstalled(ctx)) return [];
    return [
      finding('keepalived-not-installed', {
        title: 'keepalived is not installed',
        detail: 'No keepalived binary is on the PATH, so nothing runs VRRP here: this host cannot hold or hand over a VIP. Install it (apt-get install keepalived / dnf install keepalived).',
        evidence: [{ probe: 'keepalived-binary', excerpt: 'keepalived: not found on the PATH (nor in /usr/sbin, /sbin)' }],
      }),
    ];
  },
};

const running: Check = {
  id: 'keepalived-running',
  title: 'keepalived running in this network namespace',
  codes: ['keepalived-not-running'],
  run(ctx) {
    ctx.require('keepalived-processes', 'the process list');
    if (!keepalivedInstalled(ctx)) throw new SkipCheck('keepalived is not installed');
    const st = daemonStatus(ctx);
    if (st.running === 'yes') return [];
    // not root: the processes named keepalived cannot be verified, which is not an incident
    if (st.running === 'unknown') throw new SkipCheck(st.why ?? 'keepalived could not be verified', true);
    const procs = processesFrom(ctx.snapshot.probes);
    const elsewhere = procs.filter((p) => !p.ours && p.verified !== false && p.daemon !== 'vrrp' && p.daemon !== 'checker' && p.daemon !== 'child');
    const impostors = procs.filter((p) => p.ours && p.verified === false && p.notVerified);
    const evidence: Evidence[] = [{ probe: 'keepalived-processes', excerpt: `no keepalived daemon in this network namespace (${ctx.snapshot.host.netns})` }];
    // what is named keepalived here but is not the daemon first: that is what an operator would take for it
    for (const p of impostors.slice(0, 3)) evidence.push({ probe: 'keepalived-processes', excerpt: `pid ${p.pid} is named keepalived but is not the daemon: ${p.notVerified}` });
    for (const p of elsewhere.slice(0, 3)) evidence.push({ probe: 'keepalived-processes', excerpt: `pid ${p.pid} runs in another namespace (${p.netns}): ${p.argv.join(' ')}` });
    return [
      finding('keepalived-not-running', {
        title: 'keepalived is not running here',
        detail: `keepalived is installed but no keepalived process runs in this network namespace, so this node neither advertises nor takes over the VIP.${elsewhere.length ? ' keepalived processes in other namespaces do not count for this one.' : ''} Start it (systemctl start keepalived) and look at its log if it stops again.`,
        evidence,
      }),
    ];
  },
};

// keepalived -t prints "(FILE: Line N) message" for each problem (2.x)
const CONFIGTEST_LINE = /^\((.+?): Line (\d+)\)\s*(.*)$/;

const configValid: Check = {
  id: 'keepalived-config',
  title: 'keepalived configuration',
  codes: ['keepalived-config-invalid'],
  run(ctx) {
    const cfg = keepalivedConfig(ctx);
    if (cfg.probe?.status !== 'ok') {
      // no config where keepalived would look, and no keepalived running: an unconfigured host, not a broken one
      // not root and the file is root's: missing privilege, not a broken config
      if (cfg.probe?.status === 'denied' && !ctx.isRoot) throw new SkipCheck(`needs root: ${cfg.path} is not readable (permission denied)`, true);
      if (cfg.source === 'default' && !ourKeepalived(ctx.snapshot.probes)) throw new SkipCheck(`no keepalived configuration at ${cfg.path}`);
      const why = cfg.probe?.status === 'missing' ? 'missing' : cfg.probe?.status === 'denied' ? 'not readable (permission denied)' : (cfg.probe?.reason ?? 'not collected');
      return [
        finding('keepalived-config-invalid', {
          title: `keepalived's configuration ${cfg.path} cannot be read`,
          detail: `The configuration ${cfg.source === 'process' ? 'the running keepalived was started with' : cfg.source === '--config' ? 'given with --config' : 'keepalived reads by default'} is ${why}: keepalived runs with no VRRP instance from it.`,
          evidence: [{ probe: `kconf:${cfg.path}`, excerpt: `${cfg.path}: ${cfg.probe?.reason ?? 'not collected'}` }],
          location: { file: cfg.path },
        }),
      ];
    }
    const test = ctx.probe('keepalived-configtest');
    if (!test || test.status !== 'ok') throw new SkipCheck(`keepalived -t could not run: ${test?.reason ?? 'not collected'}`);
    const lines = `${test.stderr}\n${test.stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
    const located = lines.map((l) => CONFIGTEST_LINE.exec(l)).filter((m): m is RegExpExecArray => m !== null);
    const code = test.exitCode ?? 0;
    if (code === 0 && located.length === 0) return [];
    const first = located[0];
    const evidence: Evidence[] = [
      { probe: 'keepalived-configtest', excerpt: `keepalived -t -f ${cfg.path}: exit status ${code}` },
      ...(located.length ? located : lines.map((l) => [l] as unknown as RegExpExecArray)).slice(0, 6).map((m) => ({ probe: 'keepalived-configtest', excerpt: m[0] })),
    ];
    const meaning: Record<number, string> = {
      4: 'keepalived cannot run with this configuration',
      5: 'keepalived found errors; it would start, but without what those lines configure',
      6: 'notify or track scripts are configured but script security is not enabled',
    };
    return [
      finding('keepalived-config-invalid', {
        title: first ? `keepalived rejects ${first[1]} line ${first[2]}: ${first[3]}` : `keepalived -t fails on ${cfg.path} (exit ${code})`,
        detail: `${meaning[code] ?? (code === 0 ? 'keepalived accepts the file but warns about it' : `keepalived -t exits with ${code}`)}. The lines below are keepalived's own words; fix them and run keepalived -t -f ${cfg.path} again.`,
        evidence,
        ...(code === 0 ? { severity: 'warning' as const } : {}),
        ...(first ? { location: { file: first[1]!, line: Number(first[2]) } } : { location: { file: cfg.path } }),
      }),
    ];
  },
};

const vipState: Check = {
  id: 'vip-state',
  title: 'VIPs match the VRRP state',
  codes: ['vip-state-mismatch'],
  run(ctx) {
    ctx.require('ip-addr', 'ip addr');
    const cfg = keepalivedConfig(ctx).result?.config;
    if (!cfg) throw new SkipCheck('no readable keepalived configuration');
    const daemon = daemonStatus(ctx);
    if (daemon.running === 'unknown') throw new SkipCheck(daemon.why ?? 'keepalived could not be verified', true);
    if (daemon.running === 'no') throw new SkipCheck('keepalived is not running here');
    const out: Finding[] = [];
    for (const st of instanceStates(ctx)) {
      const missing = st.vips.filter((v) => !st.vipsHeld.includes(v));
      const addrEvidence = (vip: string): Evidence => {
        const a = localAddresses(ctx).find((x) => x.address === vip);
        return { probe: 'ip-addr', excerpt: a ? `${a.ifname}: inet ${a.address}/${a.prefix}` : `${vip}: not on any interface` };
      };
      const stateEvidence: Evidence = { probe: 'state', excerpt: `${st.name} is ${st.state} (from ${st.source})${st.since ? ` since ${st.since}` : ''}${st.contested ? `; ${st.contested}` : ''}` };
      if (st.state === 'MASTER' && missing.length) {
        out.push(
          finding('vip-state-mismatch', {
            title: `${st.name} is MASTER but does not hold ${missing.join(', ')}`,
            detail: 'keepalived says this node is MASTER, yet the VIPs it should hold are not on any interface: clients send to an address nobody answers. Something removed them (a network restart, an ifdown, another tool).',
            evidence: [stateEvidence, ...missing.map(addrEvidence)],
            subject: st.name,
          }),
        );
      } else if ((st.state === 'BACKUP' || st.state === 'FAULT') && st.vipsHeld.length) {
        out.push(
          finding('vip-state-mismatch', {
            title: `${st.name} is ${st.state} but still holds ${st.vipsHeld.join(', ')}`,
            detail: 'A VIP on a node that is not MASTER answers ARP and traffic in competition with the real master: clients flip between the two nodes. Usually a stray address left by hand or by a script.',
            evidence: [stateEvidence, ...st.vipsHeld.map(addrEvidence)],
            subject: st.name,
          }),
        );
      }
    }
    return out;
  },
};

export const keepalivedChecks: Check[] = [installed, running, configValid, vipState, ...daemonChecks];
