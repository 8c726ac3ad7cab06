// Several findings' plans as one change (pure: the app uses it too).
import type { FixPlan } from '../types.js';

/** Several findings' plans as one change: one backup, one lock, all or nothing. */
export function mergePlans(plans: FixPlan[]): FixPlan {
  const unique = plans.filter((p, i) => plans.findIndex((q) => JSON.stringify(q) === JSON.stringify(p)) === i);
  if (unique.length === 1) return unique[0]!;
  const union = <T extends string>(xs: Array<T[] | undefined>): T[] => [...new Set(xs.flatMap((x) => x ?? []))];
  return {
    summary: unique.map((p) => p.summary).join('; '),
    risk: unique.some((p) => p.risk === 'disruptive') ? 'disruptive' : 'safe',
    steps: unique.flatMap((p) => p.steps),
    touches: {
      iptables: union(unique.map((p) => p.touches.iptables)),
      nft: unique.some((p) => p.touches.nft),
      sysctl: union(unique.map((p) => p.touches.sysctl)),
      files: union(unique.map((p) => p.touches.files)),
      routes: unique.some((p) => p.touches.routes),
      conntrack: unique.some((p) => p.touches.conntrack),
    },
    persistence: {
      persistent: unique.every((p) => p.persistence.persistent),
      how: unique.map((p) => p.persistence.how).join('; '),
    },
    verifies: union(unique.map((p) => p.verifies)),
  };
}
