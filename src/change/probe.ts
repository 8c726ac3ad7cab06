// The probe behind change-pending-overdue: this node's commit-confirmed changes that are past
// their deadline and still pending (their rollback timer died, or could not roll back yet).
// JSON: { overdue: [{ id, summary, deadline, overdueSeconds, timerAlive }] }.
import { readFile } from 'node:fs/promises';
import type { ProbeProvider } from '../types.js';
import { changePaths } from './paths.js';
import { PROBE_CHANGES_OVERDUE } from '../probes/ids.js';

async function timerAlive(pid: number | undefined, id: string): Promise<boolean> {
  if (!pid) return false;
  try {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('rollback-timer') && cmd.includes(id);
  } catch {
    return false;
  }
}

export async function overdueProbe(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const paths = changePaths(env);
  // the engine is loaded only when there is a state directory to look at
  const { existsSync } = await import('node:fs');
  if (!existsSync(paths.changesDir)) return JSON.stringify({ stateDir: paths.stateDir, overdue: [] });
  const { msUntilDeadline, overdueChanges } = await import('./engine.js');
  const overdue = [];
  for (const m of await overdueChanges(paths)) {
    overdue.push({
      id: m.id,
      summary: m.plan.summary,
      deadline: m.confirm?.deadline ?? null,
      overdueSeconds: Math.max(0, Math.round(-(await msUntilDeadline(m)) / 1000)),
      timerAlive: await timerAlive(m.confirm?.timerPid, m.id),
    });
  }
  return JSON.stringify({ stateDir: paths.stateDir, overdue });
}

export const changeProvider: ProbeProvider = {
  name: 'change',
  probes: ({ round }) => (round > 0 ? [] : [{ id: PROBE_CHANGES_OVERDUE, kind: 'internal', run: () => overdueProbe(), needsRoot: true }]),
};
