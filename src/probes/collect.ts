// Runs every provider's probes in parallel rounds and assembles the snapshot.
import type { CollectOptions, ProbeProvider, ProbeRecord, ProbeSpec, Snapshot } from '../types.js';
import { SNAPSHOT_SCHEMA } from '../types.js';
import { DEFAULT_TIMEOUT_MS, recordFor, runProbe } from './run.js';
import { WIRE_PROBE_PREFIX } from './vrrp.js';
import { hostFactsFromRecords } from './host.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { trace, tracing } from '../trace.js';

const MAX_ROUNDS = 6;

/** The whole collection's time budget: the longest timeout of the first round's probes (at least
 *  this much). Rounds run one after another, so without it a host where every probe hangs would
 *  cost a timeout per round; with it, every later probe's timeout is cut to what is left, and
 *  probes asked after the budget is spent are recorded as timed out without running. The wire
 *  capture (--wire) runs for its own window on top. */
export const COLLECT_BUDGET_MS = 5000;

function withinBudget(spec: ProbeSpec, left: number): ProbeSpec {
  if (spec.id.startsWith(WIRE_PROBE_PREFIX)) return spec;
  return { ...spec, timeoutMs: Math.max(1, Math.min(spec.timeoutMs ?? DEFAULT_TIMEOUT_MS, left)) } as ProbeSpec;
}

function budgetSpent(spec: ProbeSpec): ProbeRecord {
  return { ...recordFor(spec), status: 'timeout', reason: `not run: the collection's time budget was spent (earlier probes hung)` };
}

export interface CollectHooks {
  /** called as each probe finishes (the wizard shows progress) */
  onProbe?: (record: ProbeRecord) => void;
  /** run a round somewhere else than here (the peer over SSH); default: runProbe each spec locally */
  runRound?: (specs: ProbeSpec[], records: Readonly<Record<string, ProbeRecord>>) => Promise<ProbeRecord[]>;
}

export async function collectRecords(
  providers: readonly ProbeProvider[],
  options: CollectOptions,
  isRoot: boolean,
  hooks: CollectHooks = {},
): Promise<Record<string, ProbeRecord>> {
  const records: Record<string, ProbeRecord> = {};
  const started0 = performance.now();
  let deadline = Infinity;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const wanted = new Map<string, ProbeSpec>();
    for (const provider of providers) {
      let specs: ProbeSpec[];
      try {
        specs = provider.probes({ round, records, options, isRoot });
      } catch (err) {
        // a provider bug must not stop the others: record it as a failed probe
        const id = `provider-error:${provider.name}`;
        if (!records[id]) {
          records[id] = { id, kind: 'internal', status: 'error', stdout: '', stderr: '', ms: 0, reason: (err as Error).message };
        }
        continue;
      }
      for (const spec of specs) if (!records[spec.id] && !wanted.has(spec.id)) wanted.set(spec.id, spec);
    }
    if (wanted.size === 0) break;
    const started = performance.now();
    if (round === 0) {
      const longest = Math.max(
        COLLECT_BUDGET_MS,
        ...[...wanted.values()]
          .filter((w) => !w.id.startsWith(WIRE_PROBE_PREFIX))
          .map((w) => (w.kind === 'command' || w.kind === 'internal' || w.kind === 'file' ? (w.timeoutMs ?? DEFAULT_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS)),
      );
      deadline = started0 + longest;
    }
    // what is left is read as each probe starts: starting many commands takes a while on a busy host
    const results = hooks.runRound
      ? await hooks.runRound([...wanted.values()], records)
      : await Promise.all(
          [...wanted.values()].map((spec) => {
            const left = Math.floor(deadline - performance.now());
            return left <= 0 && !spec.id.startsWith(WIRE_PROBE_PREFIX) ? Promise.resolve(budgetSpent(spec)) : runProbe(withinBudget(spec, left), isRoot);
          }),
        );
    // HAGW_DOCTOR_TRACE=1: where a run's time goes, round by round
    if (tracing()) {
      const slowest = results.reduce((a, b) => (b.ms > a.ms ? b : a), results[0]!);
      trace(
        `${hooks.runRound ? 'peer ' : ''}round ${round}: ${results.length} probes in ${Math.round(performance.now() - started)} ms (slowest ${slowest.id} ${slowest.ms} ms)`,
      );
    }
    for (const r of results) {
      records[r.id] = r;
      hooks.onProbe?.(r);
    }
  }
  return records;
}

export async function collectSnapshot(providers: readonly ProbeProvider[], options: CollectOptions, hooks: CollectHooks = {}): Promise<Snapshot> {
  const isRoot = typeof process.getuid === 'function' ? process.getuid() === 0 : false;
  const probes = await collectRecords(providers, options, isRoot, hooks);
  return {
    schema: SNAPSHOT_SCHEMA,
    createdAt: new Date().toISOString(),
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    options: stripUndefined(options),
    host: hostFactsFromRecords(probes),
    probes,
  };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
