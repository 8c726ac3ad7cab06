// Checks of the keepalived-config area: what the doctor's own parser finds in keepalived.conf that
// `keepalived -t` does not (script security, unicast peers, smells), and pair consistency.
import type { Check } from '../src/check.js';
import { SkipCheck, finding, type CheckContext } from '../src/context.js';
import type { Evidence, FileStat, Finding } from '../src/types.js';
import { keepalivedConfig } from '../src/keepalived/from-snapshot.js';
import type { Loc } from '../src/keepalived/model.js';
import { configScripts } from '../src/keepalived/records.js';
import { detectCloud } from '../src/host-facts.js';
import { localAddresses } from '../src/state.js';
import { authPassLength } from '../src/secrets.js';
import { PROBE_CONFIGTEST, PROBE_IP_ADDR, configFileProbeId, scriptStatProbeId } from '../src/probes/ids.js';

const at = (loc: Loc) => `${loc.file}:${loc.line}`;
const conf = (loc: Loc, excerpt: string): Evidence => ({ probe: configFileProbeId(loc.file), excerpt: `${at(loc)}: ${excerpt}` });

// keepalived -t prints "(FILE: Line N) message", or "(Line N) ..." for brace errors
const CONFIGTEST_LINE = /^\((?:(.+?): )?Line (\d+)\)/;

/** FILE:LINE places keepalived -t already complained about, so the parser's findings do not repeat them. */
function configtestPlaces(ctx: CheckContext): Array<{ file?: string; line: number }> {
  const r = ctx.probe(PROBE_CONFIGTEST);
  if (r?.status !== 'ok') return [];
  const out: Array<{ file?: string; line: number }> = [];
  for (const l of `${r.stderr}\n${r.stdout}`.split('\n')) {
    const m = CONFIGTEST_LINE.exec(l.trim());
    if (m) out.push({ ...(m[1] ? { file: m[1] } : {}), line: Number(m[2]) });
  }
  return out;
}

function namedByConfigtest(places: Array<{ file?: string; line: number }>, loc: Loc): boolean {
  // keepalived prints included files as written in the include line, which may be relative
  return places.some((p) => p.line === loc.line && (!p.file || p.file === loc.file || loc.file.endsWith(`/${p.file}`)));
}

const MAX_PARSER_FINDINGS = 20;

const parserDiagnostics: Check = {
  id: 'keepalived-config-parse',
  title: "keepalived.conf, read by the doctor's parser",
  codes: ['keepalived-config-invalid'],
  run(ctx) {
    const loaded = keepalivedConfig(ctx);
    // an unreadable main file is reported by the keepalived-config check
    if (!loaded.result) throw new SkipCheck(`keepalived configuration ${loaded.path} not readable`);
    const places = configtestPlaces(ctx);
    const out: Finding[] = [];
    for (const d of loaded.result.diagnostics) {
      if (d.kind) continue; // reported by a dedicated check under its own code
      if (namedByConfigtest(places, d.loc)) continue;
      out.push(
        finding('keepalived-config-invalid', {
          title: `${at(d.loc)}: ${d.message}`,
          detail:
            d.severity === 'error'
              ? `The doctor's parser rejects this line: keepalived ignores or misreads it, so the instance does not do what the file says.`
              : `The doctor's parser flags this line (lowered to warning: keepalived still runs with it).`,
          evidence: [conf(d.loc, d.message)],
          location: { file: d.loc.file, line: d.loc.line },
          ...(d.severity === 'warning' ? { severity: 'warning' as const } : {}),
        }),
      );
      if (out.length >= MAX_PARSER_FINDINGS) break;
    }
    // keywords the doctor does not know: only worth saying when keepalived -t could not run to judge them
    // (when it ran, it either named the line itself or accepted a keyword the doctor merely does not model)
    if (ctx.probe(PROBE_CONFIGTEST)?.status !== 'ok') {
      for (const u of loaded.result.config.unknown.slice(0, MAX_PARSER_FINDINGS)) {
        out.push(
          finding('keepalived-config-invalid', {
            title: `${at(u.loc)}: unknown keyword '${u.keyword}' in ${u.context}`,
            detail:
              'The doctor does not know this keyword and keepalived -t could not run to confirm it; keepalived ignores keywords it does not know, so check the spelling. (Reported as info: it may be valid for this keepalived.)',
            evidence: [conf(u.loc, u.keyword)],
            location: { file: u.loc.file, line: u.loc.line },
            severity: 'info',
          }),
        );
      }
    }
    return out;
  },
};

/** keepalived's script security test, as check_script_secure does it for a script run as root. */
export function scriptProblems(st: FileStat, scriptSecurity: boolean): string[] {
  if (!st.exists) return ['does not exist'];
  const problems: string[] = [];
  if (!st.isFile) problems.push('is not a regular file');
  else if ((st.mode & 0o111) === 0) problems.push(`is not executable (mode ${st.mode.toString(8).padStart(4, '0')})`);
  if (scriptSecurity) {
    if (st.uid !== 0) problems.push(`is owned by uid ${st.uid}, not root`);
    if (st.mode & 0o022) problems.push(`is group/world-writable (mode ${st.mode.toString(8).padStart(4, '0')})`);
    for (const p of st.parents) {
      if (p.uid !== 0) problems.push(`its directory ${p.path} is owned by uid ${p.uid}, not root`);
      else if (p.mode & 0o022) problems.push(`its directory ${p.path} is group/world-writable (mode ${p.mode.toString(8).padStart(4, '0')})`);
    }
  }
  return problems;
}

const notifyScripts: Check = {
  id: 'keepalived-notify-scripts',
  title: 'notify and track scripts',
  codes: ['notify-script-invalid'],
  run(ctx) {
    const config = ctx.ourConfig();
    const scripts = configScripts(config).filter((s) => s.ref.path.startsWith('/'));
    if (scripts.length === 0) return [];
    const security = config.globalDefs.enableScriptSecurity;
    const out: Finding[] = [];
    let judged = 0;
    for (const { ref, owner, role } of scripts) {
      const rec = ctx.probe(scriptStatProbeId(ref.path));
      if (rec?.status !== 'ok') continue;
      let st: FileStat;
      try {
        st = JSON.parse(rec.stdout) as FileStat;
      } catch {
        continue;
      }
      judged++;
      const problems = scriptProblems(st, security);
      if (problems.length === 0) continue;
      const missing = !st.exists;
      out.push(
        finding('notify-script-invalid', {
          title: `${role} of ${owner}: ${ref.path} ${problems[0]}`,
          detail:
            `keepalived ${missing ? 'cannot run it' : 'disables the script and logs it'} when the state changes, so ` +
            (role === 'script'
              ? 'the track script never fails or succeeds as intended.'
              : `whatever ${role} should do (SNAT rules, routes) is not done on that transition.`) +
            (security && !missing
              ? ' With enable_script_security, keepalived refuses scripts that a non-root user could change: the file and every directory above it must be root-owned and not group/world-writable.'
              : '') +
            ' keepalived -t does not check this.',
          evidence: [conf(ref.loc, `${role} ${ref.command}`), ...problems.map((p) => ({ probe: scriptStatProbeId(ref.path), excerpt: `${ref.path} ${p}` }))],
          location: { file: ref.loc.file, line: ref.loc.line },
          subject: owner.replace(/^\S+ /, ''),
        }),
      );
    }
    if (judged === 0) throw new SkipCheck('the scripts were not examined (no stat probes collected)');
    return out;
  },
};

const unicastPeers: Check = {
  id: 'keepalived-unicast-peers',
  title: 'unicast source and peers',
  codes: ['unicast-peer-invalid'],
  run(ctx) {
    const config = ctx.ourConfig();
    const haveAddrs = ctx.output(PROBE_IP_ADDR) !== undefined;
    const local = new Set(localAddresses(ctx).map((a) => a.address));
    const out: Finding[] = [];
    for (const vi of config.vrrpInstances) {
      if (vi.unicastKeywords && vi.unicastPeers.length === 0) {
        out.push(
          finding('unicast-peer-invalid', {
            title: `(${vi.name}) unicast keywords without any unicast_peer: keepalived falls back to multicast`,
            detail:
              'With unicast_src_ip or an empty unicast_peer block and no peer address, keepalived silently sends multicast adverts, which clouds do not deliver: both nodes become MASTER. List the other node in unicast_peer.',
            evidence: [conf(vi.loc, `vrrp_instance ${vi.name}: unicast_peer { }`)],
            location: { file: vi.loc.file, line: vi.loc.line },
            subject: vi.name,
          }),
        );
      }
      if (!haveAddrs) continue;
      if (vi.unicastSrcIp && !local.has(vi.unicastSrcIp)) {
        out.push(
          finding('unicast-peer-invalid', {
            title: `(${vi.name}) unicast_src_ip ${vi.unicastSrcIp} is not an address of this node`,
            detail:
              "keepalived sends adverts from unicast_src_ip; an address this node does not hold means the adverts cannot be sent (or the peer drops them as not from a unicast peer). Use this node's own address on the VRRP interface.",
            evidence: [
              conf(vi.loc, `unicast_src_ip ${vi.unicastSrcIp}`),
              { probe: PROBE_IP_ADDR, excerpt: `local addresses: ${[...local].join(' ') || 'none'}` },
            ],
            location: { file: vi.loc.file, line: vi.loc.line },
            subject: vi.name,
          }),
        );
      }
      for (const p of vi.unicastPeers) {
        if (!local.has(p.address)) continue;
        out.push(
          finding('unicast-peer-invalid', {
            title: `(${vi.name}) unicast_peer ${p.address} is this node itself`,
            detail:
              'A node listed as its own peer sends adverts to itself; the other node is then either missing from the list or gets adverts from an address it does not expect. unicast_peer lists the other node(s) only.',
            evidence: [conf(p.loc, `unicast_peer ${p.address}`), { probe: PROBE_IP_ADDR, excerpt: `${p.address} is a local address` }],
            location: { file: p.loc.file, line: p.loc.line },
            subject: vi.name,
          }),
        );
      }
    }
    if (!haveAddrs && out.length === 0 && config.vrrpInstances.some((v) => v.unicastSrcIp || v.unicastPeers.length))
      throw new SkipCheck('ip addr was not collected');
    return out;
  },
};

const multicastInCloud: Check = {
  id: 'keepalived-multicast-cloud',
  title: 'multicast VRRP on a cloud instance',
  codes: ['vrrp-multicast-in-cloud'],
  run(ctx) {
    const config = ctx.ourConfig();
    const cloud = detectCloud(ctx.snapshot.probes);
    if (!cloud) return [];
    return config.vrrpInstances
      .filter((vi) => vi.unicastPeers.length === 0)
      .map((vi) =>
        finding('vrrp-multicast-in-cloud', {
          title: `(${vi.name}) sends multicast adverts on ${cloud.cloud}`,
          detail: `This host runs on ${cloud.cloud}, whose VPC networks do not deliver multicast: the nodes never hear each other and both become MASTER. Use unicast_src_ip (this node) and unicast_peer (the other node), and allow IP protocol 112 between them in the security group (the security group is not visible from the host, so the doctor cannot check it).`,
          evidence: [{ probe: 'dmi', excerpt: cloud.evidence }, conf(vi.loc, `vrrp_instance ${vi.name}: no unicast_peer`)],
          location: { file: vi.loc.file, line: vi.loc.line },
          subject: vi.name,
        }),
      );
  },
};

const smells: Check = {
  id: 'keepalived-config-smells',
  title: 'keepalived.conf settings that do not do what they seem',
  codes: ['keepalived-config-invalid'],
  run(ctx) {
    const config = ctx.ourConfig();
    const out: Finding[] = [];
    const smell = (loc: Loc, title: string, detail: string, excerpt: string, subject?: string, severity: 'warning' | 'error' = 'warning') =>
      out.push(
        finding('keepalived-config-invalid', {
          title,
          detail: `${detail}${severity === 'warning' ? ' (Reported as a warning: keepalived accepts the file.)' : ''}`,
          evidence: [conf(loc, excerpt)],
          location: { file: loc.file, line: loc.line },
          severity,
          ...(subject ? { subject } : {}),
        }),
      );
    for (const vi of config.vrrpInstances) {
      // nopreempt with state MASTER and weights against the peer's priority: checks/field-config.ts (nopreempt-ineffective)
      const auth = vi.authentication;
      // never the value (nor its first 8 characters): the length only, which a redacted snapshot keeps
      if (auth?.pass !== undefined && authPassLength(auth.pass) > 8)
        smell(
          auth.loc,
          `(${vi.name}) auth_pass is longer than 8 characters and is truncated to 8`,
          `keepalived uses only the first 8 of its ${authPassLength(auth.pass)} characters; a peer configured with the full or a differently truncated password fails authentication ("received an invalid passwd!"). Use at most 8 characters.`,
          'auth_pass (over 8 characters)',
          vi.name,
        );
    }
    for (const vs of config.virtualServers) {
      if (vs.method && vs.method !== vs.method.toUpperCase()) {
        const upper = vs.method.toUpperCase();
        // keepalived 2.2.7: "unknown [nat] routing method for virtual server", then NAT by default
        smell(
          vs.loc,
          `virtual_server ${vs.address ?? ''} ${vs.port ?? ''}: lb_kind ${vs.method} must be upper case`,
          `keepalived does not recognise "${vs.method}" and falls back to NAT${upper === 'NAT' ? ', which happens to be meant here' : `, not ${upper}: the service forwards the wrong way`}. Write lb_kind ${upper}.`,
          `lb_kind ${vs.method}`,
          undefined,
          upper === 'NAT' ? 'warning' : 'error',
        );
      }
    }
    return out;
  },
};

export const keepalivedConfigChecks: Check[] = [parserDiagnostics, notifyScripts, unicastPeers, multicastInCloud, smells];
