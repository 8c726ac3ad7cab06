// Forwarding: a SNAT gateway that does not forward drops every client packet (seed).
import type { Check } from '../src/check.js';
import { finding, SkipCheck, type CheckContext } from '../src/context.js';
import type { Evidence } from '../src/types.js';
import { bootValue, SYSCTL_DROP_IN } from '../src/kernel/sysctl.js';
import { FORWARD, forwardingPersistPlan, forwardingPlan } from '../src/kernel/fixes.js';
import { sysctlFiles } from '../src/kernel/files.js';
import { keepalivedProcesses, nodeRole } from '../src/state.js';
import { keepalivedConfig } from '../src/keepalived/from-snapshot.js';
import { notifyScriptText } from '../src/keepalived/records.js';
import { fileProbeId, sysctlProbeId } from '../src/probes/ids.js';

/** Every sysctl file that exists, in the order sysctl --system applies them. */
export function sysctlFileTexts(ctx: CheckContext): Array<{ file: string; text: string }> {
  return sysctlFiles(ctx.snapshot.probes).flatMap((file) => {
    const text = ctx.output(fileProbeId(file));
    return text === undefined ? [] : [{ file, text }];
  });
}

/** Does a notify_master script of the config turn forwarding on? (the design documents' way) */
function notifyMasterEnablesForwarding(ctx: CheckContext): string | undefined {
  const cfg = keepalivedConfig(ctx).result?.config;
  if (!cfg) return undefined;
  const scripts = [...cfg.vrrpInstances.map((i) => i.notify.master), ...cfg.vrrpSyncGroups.map((g) => g.notify.master)];
  for (const s of scripts) {
    if (!s) continue;
    const text = notifyScriptText(ctx.snapshot.probes, s.path);
    if (text && /ip_forward|net\/ipv4\/ip_forward/.test(text) && /(=\s*1|echo\s+1|-w)/.test(text)) return s.path;
  }
  return undefined;
}

function isGatewayHost(ctx: CheckContext): boolean {
  const cfg = keepalivedConfig(ctx);
  return cfg.result !== undefined || keepalivedProcesses(ctx).some((p) => p.ours);
}

const ipForward: Check = {
  id: 'ip-forward',
  title: 'IPv4 forwarding',
  codes: ['ip-forward-off', 'ip-forward-not-persistent'],
  run(ctx) {
    const value = ctx.require(sysctlProbeId(FORWARD), FORWARD).trim();
    if (!isGatewayHost(ctx)) throw new SkipCheck('no keepalived configuration or process here: not a gateway');
    const role = nodeRole(ctx);
    const evidence: Evidence[] = [{ probe: sysctlProbeId(FORWARD), excerpt: `${FORWARD} = ${value}` }];
    const viaNotify = notifyMasterEnablesForwarding(ctx);
    if (value === '0') {
      // a backup whose notify_master turns forwarding on is fine: it will forward when it becomes master
      if (role === 'backup' && viaNotify) return [];
      return [
        finding('ip-forward-off', {
          title: `IPv4 forwarding is off on this ${role === 'unknown' ? 'gateway' : role}`,
          detail:
            role === 'master'
              ? 'This node is MASTER and holds the VIP the clients route through, but the kernel does not forward: every packet from the client networks is dropped here.'
              : `This node ${role === 'backup' ? 'is BACKUP and' : ''} will have to forward when it takes over the VIP, and nothing (no notify_master script) turns forwarding on: after a failover clients lose their way out.`,
          evidence,
          fix: forwardingPlan(ctx.output(fileProbeId(SYSCTL_DROP_IN)) ?? ''),
        }),
      ];
    }
    const boot = bootValue(sysctlFileTexts(ctx), FORWARD);
    if (boot?.value === '1' || viaNotify) return [];
    const bootEvidence: Evidence[] = boot
      ? [{ probe: fileProbeId(boot.file), excerpt: `${boot.file}:${boot.line}: ${boot.raw.trim()}` }]
      : [
          {
            probe: 'sysctl-files',
            excerpt: `no file in ${['/etc/sysctl.conf', '/etc/sysctl.d', '/run/sysctl.d', '/usr/lib/sysctl.d'].join(', ')} sets ${FORWARD}`,
          },
        ];
    return [
      finding('ip-forward-not-persistent', {
        title: 'IPv4 forwarding is on now but will be off after a reboot',
        detail: `Forwarding was turned on at run time only${boot ? `, and ${boot.file} sets it to ${boot.value} at boot` : ''}. After a reboot this gateway stops forwarding until someone notices.`,
        evidence: [...evidence, ...bootEvidence],
        fix: forwardingPersistPlan(ctx.output(fileProbeId(SYSCTL_DROP_IN)) ?? ''),
      }),
    ];
  },
};

export const kernelChecks: Check[] = [ipForward];
