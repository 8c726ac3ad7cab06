// The fix screen's judgements, pure: findings are the same when code and subject are (a fix of
// one VRRP instance is judged on that instance, never on another one with the same code).
import type { Finding } from '../../types.js';

export const sameFinding = (a: Pick<Finding, 'code' | 'subject'>, b: Pick<Finding, 'code' | 'subject'>) =>
  a.code === b.code && (a.subject ?? '') === (b.subject ?? '');

/** Which of the targets a fresh report still has. */
export function stillReported<T extends Pick<Finding, 'code' | 'subject'>>(targets: readonly T[], fresh: readonly Pick<Finding, 'code' | 'subject'>[]): T[] {
  return targets.filter((t) => fresh.some((x) => sameFinding(t, x)));
}
