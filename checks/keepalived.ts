// keepalived itself: installed, running in this namespace, config accepted, VIPs matching state.
import type { Check } from '../src/check.js';
import { finding, probeBlind, SkipCheck } from '../src/context.js';
import type { Evidence, Finding } from '../src/types.js';
import { keepalivedConfig } from '../src/keepalived/from-snapshot.js';
import { daemonStatus, instanceStates, keepalivedProcesses, localAddresses } from '../src/state.js';
import { gradeConfigtest, type GradedMessage } from '../src/keepalived/configtest.js';
import {
  PROBE_CONFIGTEST,
  PROBE_IP_ADDR,
  PROBE_KEEPALIVED_BINARY,
  PROBE_KEEPALIVED_PROCESSES,
  PROBE_KEEPALIVED_VERSION,
  configFileProbeId,
} from '../src/probes/ids.js';

export function keepalivedInstalled(ctx: Parameters<Check['run']>[0]): boolean {
  const bin = ctx.probe(PROBE_KEEPALIVED_BINARY);
  const version = ctx.probe(PROBE_KEEPALIVED_VERSION);
  // keepalived-binary is a PATH lookup: its output is the path, empty when not found
  return (bin?.status === 'ok' && bin.stdout.trim() !== '' && (bin.exitCode ?? 0) === 0) || (version?.status === 'ok' && version.exitCode === 0);
}

const installed: Check = {
  id: 'keepalived-installed',
  title: 'keepalived installed',
  codes: ['keepalived-not-installed'],
  run(ctx) {
    if (!ctx.probe(PROBE_KEEPALIVED_BINARY) && !ctx.probe(PROBE_KEEPALIVED_VERSION)) throw new SkipCheck('keepalived probes not collected');
    if (keepalivedInstalled(ctx)) return [];
    // a lookup that failed or timed out (a loaded host) proves nothing: never "not installed" from it
    const blind = [ctx.probe(PROBE_KEEPALIVED_BINARY), ctx.probe(PROBE_KEEPALIVED_VERSION)].filter((r) => probeBlind(r));
    if (blind.length)
      throw new SkipCheck(`cannot tell whether keepalived is installed: ${blind.map((r) => `${r!.id}: ${r!.reason ?? r!.status}`).join('; ')}`, true);
    return [
      finding('keepalived-not-installed', {
        title: 'keepalived is not installed',
        detail:
          'No keepalived binary is on the PATH, so nothing runs VRRP here: this host cannot hold or hand over a VIP. Install it (apt-get install keepalived / dnf install keepalived).',
        evidence: [{ probe: PROBE_KEEPALIVED_BINARY, excerpt: 'keepalived: not found on the PATH (nor in /usr/sbin, /sbin)' }],
      }),
    ];
  },
};

const running: Check = {
  id: 'keepalived-running',
  title: 'keepalived running in this network namespace',
  codes: ['keepalived-not-running'],
  run(ctx) {
    ctx.require(PROBE_KEEPALIVED_PROCESSES, 'the process list');
    if (!keepalivedInstalled(ctx)) throw new SkipCheck('keepalived is not installed');
    const st = daemonStatus(ctx);
    if (st.running === 'yes') return [];
    // not root: the processes named keepalived cannot be verified, which is not an incident
    if (st.running === 'unknown') throw new SkipCheck(st.why ?? 'keepalived could not be verified', true);
    const procs = keepalivedProcesses(ctx);
    const others = procs.filter((p) => !p.ours && p.netns !== '');
    const elsewhere = others.filter((p) => !others.some((q) => q.pid === p.ppid));
    const impostors = procs.filter((p) => p.ours && p.verified === false && p.notVerified);
    const evidence: Evidence[] = [
      { probe: PROBE_KEEPALIVED_PROCESSES, excerpt: `no keepalived daemon in this network namespace (${ctx.snapshot.host.netns})` },
    ];
    // what is named keepalived here but is not the daemon first: that is what an operator would take for it
    for (const p of impostors.slice(0, 3))
      evidence.push({ probe: PROBE_KEEPALIVED_PROCESSES, excerpt: `pid ${p.pid} is named keepalived but is not the daemon: ${p.notVerified}` });
    for (const p of elsewhere.slice(0, 3))
      evidence.push({ probe: PROBE_KEEPALIVED_PROCESSES, excerpt: `pid ${p.pid} runs in another namespace (${p.netns}): ${p.argv.join(' ')}` });
    return [
      finding('keepalived-not-running', {
        title: 'keepalived is not running here',
        detail: `keepalived is installed but no keepalived process runs in this network namespace, so this node neither advertises nor takes over the VIP.${elsewhere.length ? ' keepalived processes in other namespaces do not count for this one.' : ''} Start it (systemctl start keepalived) and look at its log if it stops again.`,
        evidence,
      }),
    ];
  },
};

const GRADE_SEVERITY = { info: 'info', warning: 'warning', error: 'error' } as const;
const MAX_QUOTED = 8;

const configValid: Check = {
  id: 'keepalived-config',
  title: 'keepalived configuration',
  codes: ['keepalived-config-invalid'],
  run(ctx) {
    const cfg = keepalivedConfig(ctx);
    if (cfg.probe?.status !== 'ok') {
      // a read that could not look (not collected, timed out, not run, denied to a non-root run) says nothing about the file
      ctx.answer(configFileProbeId(cfg.path), cfg.path);
      // no config where keepalived would look, and no keepalived running: an unconfigured host, not a broken one
      if (cfg.source === 'default' && !daemonStatus(ctx).daemon) throw new SkipCheck(`no keepalived configuration at ${cfg.path}`);
      const why =
        cfg.probe?.status === 'missing'
          ? 'missing'
          : cfg.probe?.status === 'denied'
            ? 'not readable (permission denied)'
            : (cfg.probe?.reason ?? 'not collected');
      return [
        finding('keepalived-config-invalid', {
          title: `keepalived's configuration ${cfg.path} cannot be read`,
          detail: `The configuration ${cfg.source === 'process' ? 'the running keepalived was started with' : cfg.source === '--config' ? 'given with --config' : 'keepalived reads by default'} is ${why}: keepalived runs with no VRRP instance from it.`,
          evidence: [{ probe: configFileProbeId(cfg.path), excerpt: `${cfg.path}: ${cfg.probe?.reason ?? 'not collected'}` }],
          location: { file: cfg.path },
        }),
      ];
    }
    const test = ctx.probe(PROBE_CONFIGTEST);
    if (!test || test.status !== 'ok') throw new SkipCheck(`keepalived -t could not run: ${test?.reason ?? 'not collected'}`);
    // keepalived exits 5 on any message, a note included: the messages decide, graded by meaning
    const graded = gradeConfigtest(`${test.stderr}\n${test.stdout}`, cfg.path);
    // messages keepalived prints after parsing carry no "(FILE: Line N)", only "(INSTANCE) …":
    // locate them at the instance (or sync group) they name, so every quote has its file:line
    const blocks = [...(cfg.result?.config.vrrpInstances ?? []), ...(cfg.result?.config.vrrpSyncGroups ?? [])];
    for (const m of graded) {
      if (m.file) continue;
      const name = /^\((.+?)\) /.exec(m.message)?.[1];
      const block = name !== undefined ? blocks.find((b) => b.name === name) : undefined;
      if (block) Object.assign(m, { file: block.loc.file, line_no: block.loc.line });
    }
    const code = test.exitCode ?? 0;
    const out: Finding[] = [];
    const counts = (['error', 'environment', 'warning', 'info'] as const)
      .map((g) => [g, graded.filter((m) => m.grade === g).length] as const)
      .filter(([, n]) => n > 0);
    const head: Evidence = {
      probe: PROBE_CONFIGTEST,
      excerpt: `keepalived -t -f ${cfg.path}: exit status ${code}${counts.length ? `; ${counts.map(([g, n]) => `${n} ${g}`).join(', ')}` : ''}`,
    };
    const quote = (ms: GradedMessage[]): Evidence[] => [
      ...ms.slice(0, MAX_QUOTED).map((m) => ({ probe: PROBE_CONFIGTEST, excerpt: m.file && m.line_no ? `${m.file}:${m.line_no}: ${m.message}` : m.line })),
      ...(ms.length > MAX_QUOTED ? [{ probe: PROBE_CONFIGTEST, excerpt: `… and ${ms.length - MAX_QUOTED} more` }] : []),
    ];
    const where = (m: GradedMessage | undefined) =>
      m?.file ? { location: { file: m.file, ...(m.line_no ? { line: m.line_no } : {}) } } : { location: { file: cfg.path } };
    const at = (m: GradedMessage) => (m.file && m.line_no ? `${m.file} line ${m.line_no}` : cfg.path);
    if (test.truncated) {
      out.push(
        finding('keepalived-config-invalid', {
          severity: 'warning',
          title: `keepalived -t printed more than the doctor keeps; only the first part was graded`,
          detail: `keepalived -t -f ${cfg.path} wrote more than the capture limit, so messages past it were not read. Run it by hand to see them all.`,
          evidence: [head],
          location: { file: cfg.path },
        }),
      );
    }
    const errors = graded.filter((m) => m.grade === 'error');
    if (errors.length) {
      const meaning: Record<number, string> = {
        4: 'keepalived cannot run with this configuration',
        6: 'notify or track scripts are configured but script security is not enabled',
      };
      out.push(
        finding('keepalived-config-invalid', {
          title: `keepalived rejects ${at(errors[0]!)}: ${errors[0]!.message}`,
          detail: `${meaning[code] ?? 'keepalived drops, ignores or cannot use what these lines configure; it would still start, without them'}. The lines below are keepalived's own words (messages it does not document as harmless count as errors); fix them and run keepalived -t -f ${cfg.path} again.`,
          evidence: [head, ...quote(errors)],
          ...where(errors[0]),
        }),
      );
    }
    const env = graded.filter((m) => m.grade === 'environment');
    if (env.length) {
      // on the node whose running keepalived uses this file, a missing interface, script or user
      // is a real outage of what it configures; a file checked with --config may be meant for another host
      const live = cfg.source !== '--config' && daemonStatus(ctx).daemon !== undefined;
      out.push(
        finding('keepalived-config-invalid', {
          severity: live ? 'error' : 'warning',
          title: `on this host, keepalived lacks what ${at(env[0]!)} names: ${env[0]!.message}`,
          detail: `${env[0]!.meaning ?? 'Something the configuration names is missing on this host'}. These messages are about this host (interfaces, scripts, the script user, includes), not the file's syntax${live ? ': the running keepalived works without what they configure' : '; on the host the file is meant for they may not apply'}.`,
          evidence: [head, ...quote(env)],
          ...where(env[0]),
        }),
      );
    }
    for (const grade of ['warning', 'info'] as const) {
      const ms = graded.filter((m) => m.grade === grade);
      if (!ms.length) continue;
      out.push(
        finding('keepalived-config-invalid', {
          severity: GRADE_SEVERITY[grade],
          title: grade === 'warning' ? `keepalived warns about ${at(ms[0]!)}: ${ms[0]!.message}` : `keepalived notes about ${at(ms[0]!)}: ${ms[0]!.message}`,
          detail:
            grade === 'warning'
              ? `${ms[0]!.meaning ?? 'keepalived accepts these lines but not as written'}. keepalived runs with them; tidy them so the configuration does what it says.`
              : `${ms[0]!.meaning ?? 'a note'}. Nothing to fix: keepalived -t reports it (and exits ${code}) but the configuration does what it says.`,
          evidence: [head, ...quote(ms)],
          ...where(ms[0]),
        }),
      );
    }
    if (!graded.length && code !== 0) {
      out.push(
        finding('keepalived-config-invalid', {
          title: `keepalived -t fails on ${cfg.path} (exit ${code}) without a message`,
          detail: `keepalived -t exits with ${code} and prints nothing the doctor could grade; run keepalived -t -f ${cfg.path} by hand.`,
          evidence: [head],
          location: { file: cfg.path },
        }),
      );
    }
    return out;
  },
};

const vipState: Check = {
  id: 'vip-state',
  title: 'VIPs match the VRRP state',
  codes: ['vip-state-mismatch'],
  run(ctx) {
    ctx.require(PROBE_IP_ADDR, 'ip addr');
    ctx.ourConfig();
    const daemon = daemonStatus(ctx);
    if (daemon.running === 'unknown') throw new SkipCheck(daemon.why ?? 'keepalived could not be verified', true);
    if (daemon.running === 'no') throw new SkipCheck('keepalived is not running here');
    const out: Finding[] = [];
    for (const st of instanceStates(ctx)) {
      const missing = st.vips.filter((v) => !st.vipsHeld.includes(v));
      const addrEvidence = (vip: string): Evidence => {
        const a = localAddresses(ctx).find((x) => x.address === vip);
        return { probe: PROBE_IP_ADDR, excerpt: a ? `${a.ifname}: inet ${a.address}/${a.prefix}` : `${vip}: not on any interface` };
      };
      const stateEvidence: Evidence = {
        probe: 'state',
        excerpt: `${st.name} is ${st.state} (from ${st.source})${st.since ? ` since ${st.since}` : ''}${st.contested ? `; ${st.contested}` : ''}`,
      };
      if (st.state === 'MASTER' && missing.length) {
        out.push(
          finding('vip-state-mismatch', {
            title: `${st.name} is MASTER but does not hold ${missing.join(', ')}`,
            detail:
              'keepalived says this node is MASTER, yet the VIPs it should hold are not on any interface: clients send to an address nobody answers. Something removed them (a network restart, an ifdown, another tool).',
            evidence: [stateEvidence, ...missing.map(addrEvidence)],
            subject: st.name,
          }),
        );
      } else if ((st.state === 'BACKUP' || st.state === 'FAULT') && st.vipsHeld.length) {
        out.push(
          finding('vip-state-mismatch', {
            title: `${st.name} is ${st.state} but still holds ${st.vipsHeld.join(', ')}`,
            detail:
              'A VIP on a node that is not MASTER answers ARP and traffic in competition with the real master: clients flip between the two nodes. Usually a stray address left by hand or by a script.',
            evidence: [stateEvidence, ...st.vipsHeld.map(addrEvidence)],
            subject: st.name,
          }),
        );
      }
    }
    return out;
  },
};

export const keepalivedChecks: Check[] = [installed, running, configValid, vipState];
