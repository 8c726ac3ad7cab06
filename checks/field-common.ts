// Helpers shared by the field-failure checks (issue 14, part B): config evidence, whether this
// host is a gateway, the keepalived log lines that matter, the hypervisor, effective sysctls.
import type { CheckContext } from '../src/context.js';
import type { Evidence } from '../src/types.js';
import type { Loc } from '../src/keepalived/model.js';
import { keepalivedConfig } from '../src/keepalived/from-snapshot.js';
import { configFileProbeId, scriptProbeId } from '../src/keepalived/files.js';
import { notifyScripts } from '../src/netfilter/vrrp-paths.js';
import { firewall } from '../src/netfilter/firewall.js';
import { allRules, isSnatAction } from '../src/netfilter/rules.js';
import { keepalivedLogText } from '../src/state.js';
import { PROBE_DMI_PRODUCT_NAME, PROBE_DMI_SYS_VENDOR, PROBE_IP_FORWARD, ifaceSysctlId } from '../src/probes/ids.js';

export const at = (loc: Loc) => `${loc.file}:${loc.line}`;
export const confEvidence = (loc: Loc, excerpt: string): Evidence => ({ probe: configFileProbeId(loc.file), excerpt: `${at(loc)}: ${excerpt}` });
export const location = (loc: Loc) => ({ file: loc.file, line: loc.line });

/** Why this host counts as a gateway (it SNATs, forwards, or its notify_master adds SNAT); empty when it does not. */
export function gatewayEvidence(ctx: CheckContext): Evidence[] {
  return ctx.memo('field-gateway-evidence', () => {
    const out: Evidence[] = [];
    const fw = firewall(ctx);
    for (const t of fw.tables) {
      const r = allRules(t).find((x) => isSnatAction(x.action));
      if (r) {
        out.push({ probe: fw.read[0] ?? 'iptables-save', excerpt: `${r.chain}: ${r.text}` });
        break;
      }
    }
    const cfg = keepalivedConfig(ctx).result?.config;
    if (cfg) {
      for (const n of notifyScripts(cfg)) {
        const text = ctx.output(scriptProbeId(n.script.path)) ?? '';
        const line = text.split('\n').find((l) => !/^\s*#/.test(l) && /-j\s+(SNAT|MASQUERADE)\b|\b(snat|masquerade)\b/.test(l));
        if (line) {
          out.push({ probe: scriptProbeId(n.script.path), excerpt: line.trim() });
          break;
        }
      }
      if (cfg.virtualServers.some((v) => (v.method ?? '').toUpperCase() === 'NAT'))
        out.push({ probe: configFileProbeId(cfg.files[0] ?? ''), excerpt: 'virtual_server with lb_kind NAT (this node routes for the real servers)' });
    }
    if (ctx.output(PROBE_IP_FORWARD)?.trim() === '1' && out.length) out.push({ probe: PROBE_IP_FORWARD, excerpt: 'net.ipv4.ip_forward = 1' });
    return out;
  });
}

/** keepalived log lines matching re (our process's lines only on shared logs), newest last, at most max. */
export function logLines(ctx: CheckContext, re: RegExp, max = 5, opts: { sinceStart?: boolean } = {}): { probe: string; lines: string[] } | undefined {
  const log = keepalivedLogText(ctx);
  if (!log) return undefined;
  const pidRe = log.pids?.length ? new RegExp(`\\[(${log.pids.join('|')})\\]`) : undefined;
  let all = log.text.split('\n').filter((l) => !pidRe || pidRe.test(l) || !/\[\d+\]/.test(l));
  if (opts.sinceStart) {
    // only what the running daemon did: from its latest start or reload on
    let from = -1;
    all.forEach((l, i) => {
      if (START_OR_RELOAD.test(l)) from = i;
    });
    if (from >= 0) all = all.slice(from);
  }
  return { probe: log.probe, lines: all.filter((l) => re.test(l)).slice(-max) };
}

const START_OR_RELOAD = /Starting Keepalived v|Starting VRRP child process|Reloading\b|Got SIGHUP, reloading/;

/** The hypervisor this guest runs on, from DMI (null on bare metal or when unknown). */
export function hypervisor(ctx: CheckContext): { name: string; evidence: Evidence } | null {
  for (const id of [PROBE_DMI_SYS_VENDOR, PROBE_DMI_PRODUCT_NAME]) {
    const v = ctx.output(id)?.trim();
    if (!v) continue;
    const ev = { probe: id, excerpt: v };
    if (/vmware/i.test(v)) return { name: 'VMware ESXi', evidence: ev };
    if (/virtualbox|innotek/i.test(v)) return { name: 'VirtualBox', evidence: ev };
    if (/microsoft/i.test(v) || /^Virtual Machine$/i.test(v)) return { name: 'Hyper-V', evidence: ev };
    if (/qemu|kvm|bochs/i.test(v)) return { name: 'KVM/QEMU', evidence: ev };
    if (/xen/i.test(v)) return { name: 'Xen', evidence: ev };
    if (/proxmox/i.test(v)) return { name: 'Proxmox (KVM)', evidence: ev };
  }
  return null;
}

/** A sysctl of an interface (or all/default) as collected, or undefined. */
export function ifaceSysctl(ctx: CheckContext, ifname: string, leaf: string): number | undefined {
  const v = ctx.output(ifaceSysctlId(ifname, leaf))?.trim();
  return v === undefined || v === '' || !/^-?\d+$/.test(v) ? undefined : Number(v);
}
