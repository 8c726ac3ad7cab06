// The summary's verdict, honest about blindness: a check that errored, or was skipped because it
// could not look (a probe failed, timed out, or needs root), keeps the summary from OK; when a core
// judgement could not be made (is keepalived running, the VRRP state, the firewall path of the
// adverts) and nothing judged is critical, the status is UNKNOWN (exit 3).
import type { CheckContext } from './context.js';
import { probeBlind } from './context.js';
import type { CheckRun, NotJudged, Report } from './types.js';
import { daemonStatus, instanceStates } from './state.js';
import { keepalivedConfig } from './keepalived/from-snapshot.js';
import { PROBE_IPT_LEGACY, PROBE_IPT_NFT, PROBE_IPT_SAVE, PROBE_NFT } from './netfilter/firewall.js';

/** The checks whose judgement decides the status: keepalived found, the VRRP state, the adverts' firewall path. */
export const CORE_CHECKS: ReadonlySet<string> = new Set(['keepalived-running', 'vip-state', 'netfilter-vrrp-filter']);

export function notJudged(ctx: CheckContext, runs: readonly CheckRun[]): NotJudged[] {
  const out: NotJudged[] = runs
    .filter((r) => r.blind || r.status === 'error')
    .map((r) => ({ check: r.id, reason: `${r.status === 'error' ? 'the check failed: ' : ''}${r.reason ?? r.status}`, core: CORE_CHECKS.has(r.id) }));
  const has = (id: string) => out.some((n) => n.check === id);
  const ran = (...ids: string[]) => runs.some((r) => ids.includes(r.id));
  // judgements made outside one check count only where a check that needs them ran (--only narrows the run)
  try {
    if (!ran('keepalived-running', 'vip-state')) throw new Skip();
    const daemon = daemonStatus(ctx);
    const cfg = keepalivedConfig(ctx).result?.config;
    if (daemon.running === 'unknown' && (cfg || daemon.why?.startsWith('needs root')) && !has('keepalived-running')) {
      out.push({ check: 'keepalived-running', reason: daemon.why ?? 'keepalived could not be verified', core: true });
    }
    const states = instanceStates(ctx);
    if (daemon.running === 'yes' && states.length && states.every((s) => s.state === 'UNKNOWN')) {
      out.push({ check: 'vrrp-state', reason: `no instance state could be told (${states[0]!.source})`, core: true });
    }
  } catch (err) {
    if (!(err instanceof Skip)) out.push({ check: 'vrrp-state', reason: `the state could not be derived: ${(err as Error).message}`, core: true });
  }
  // one firewall backend unreadable while another was read: the checks ran on part of the rules
  const fwProbes = [PROBE_IPT_SAVE, PROBE_IPT_NFT, PROBE_IPT_LEGACY, PROBE_NFT].map((id) => ctx.probe(id));
  const blindFw = fwProbes.filter((r) => r?.status === 'timeout' || r?.status === 'error');
  if (blindFw.length && fwProbes.some((r) => r?.status === 'ok' && r.exitCode === 0) && ran('netfilter-vrrp-filter') && !has('netfilter-vrrp-filter')) {
    out.push({
      check: 'firewall',
      reason: `judged on part of the rules only: ${blindFw.map((r) => `${r!.id}: ${r!.reason ?? r!.status}`).join('; ')}`,
      core: false,
    });
  }
  return out;
}

class Skip extends Error {}

export function summaryStatus(counts: { critical: number; error: number; warning: number }, blind: readonly NotJudged[]): Report['summary']['status'] {
  if (counts.critical + counts.error > 0) return 'critical';
  if (blind.some((n) => n.core)) return 'unknown';
  if (counts.warning > 0 || blind.length > 0) return 'warning';
  return 'ok';
}

export { probeBlind };
