// The doctor's own changes: a commit-confirmed change past its deadline that is still in place.
import type { Check } from '../src/check.js';
import { finding } from '../src/context.js';
import { PROBE_CHANGES_OVERDUE } from '../src/probes/ids.js';

interface Overdue {
  id: string;
  summary: string;
  deadline: string | null;
  overdueSeconds: number;
  timerAlive: boolean;
}

export const changeOverdueCheck: Check = {
  id: 'change-pending-overdue',
  title: 'no commit-confirmed change is past its deadline',
  codes: ['change-pending-overdue'],
  run(ctx) {
    const text = ctx.require(PROBE_CHANGES_OVERDUE);
    let data: { stateDir?: string; overdue?: Overdue[] };
    try {
      data = JSON.parse(text) as typeof data;
    } catch {
      return [];
    }
    return (data.overdue ?? []).map((o) =>
      finding('change-pending-overdue', {
        title: `change ${o.id} is ${o.overdueSeconds} s past its confirm deadline and still in place`,
        detail:
          `"${o.summary}" was applied with --confirm-timeout and never confirmed; its deadline was ${o.deadline ?? '?'}. ` +
          (o.timerAlive
            ? 'Its rollback timer is still running but has not rolled it back (the lock may be busy). '
            : 'Its rollback timer is gone (killed, or the host rebooted). ') +
          `Any hagw-doctor run as root rolls it back first; or run \`hagw-doctor undo ${o.id} --yes\`, or \`hagw-doctor confirm\` is too late: apply it again if it is wanted.`,
        evidence: [{ probe: PROBE_CHANGES_OVERDUE, excerpt: `${o.id} deadline ${o.deadline ?? '?'} (${data.stateDir ?? ''})` }],
        subject: o.id,
      }),
    );
  },
};

export const changeChecks: readonly Check[] = [changeOverdueCheck];
