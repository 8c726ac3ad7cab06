// Fix plans for the kernel findings: sysctl steps with their undo, persisted in the doctor's drop-in.
import type { FixPlan } from '../types.js';
import { SYSCTL_DROP_IN, sysctlPersistStep } from './sysctl.js';

export const FORWARD = 'net.ipv4.ip_forward';

/** Turn IPv4 forwarding on now and keep it on at boot (ip-forward-off). dropIn: the drop-in's content now ('' when absent). */
export function forwardingPlan(dropIn: string): FixPlan {
  return {
    summary: `turn on ${FORWARD} now and keep it on at boot (${SYSCTL_DROP_IN})`,
    risk: 'safe',
    steps: [
      { argv: ['sysctl', '-w', `${FORWARD}=1`], undo: [['sysctl', '-w', `${FORWARD}=0`]], why: 'forward client traffic now' },
      sysctlPersistStep(dropIn, { [FORWARD]: '1' }, 'keep forwarding on after a reboot'),
    ],
    touches: { sysctl: [FORWARD], files: [SYSCTL_DROP_IN] },
    persistence: { persistent: true, how: `${SYSCTL_DROP_IN} (read by systemd-sysctl / sysctl --system at boot)` },
    verifies: ['ip-forward-off', 'ip-forward-not-persistent'],
  };
}

/** Forwarding is on now: only keep it on at boot (ip-forward-not-persistent). */
export function forwardingPersistPlan(dropIn: string): FixPlan {
  const full = forwardingPlan(dropIn);
  return {
    ...full,
    summary: `keep ${FORWARD} on at boot (${SYSCTL_DROP_IN})`,
    steps: full.steps.slice(1),
    touches: { files: [SYSCTL_DROP_IN] },
    verifies: ['ip-forward-not-persistent'],
  };
}
