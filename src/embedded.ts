// What the single executable (npm run release) embeds in place of the package directory: the
// version, and the demo snapshots. Set by its start-up script (scripts/sea-boot.cjs) before the
// CLI loads; absent when the doctor runs from an npm install or a clone.

export interface Embedded {
  /** the package version the executable was built from */
  version: string;
  /** the demo snapshots by scenario name (their JSON text), read lazily from the executable */
  demoNames: string[];
  demoText(name: string): string | undefined;
}

const KEY = '__hagwDoctorEmbedded';

export function embedded(): Embedded | undefined {
  return (globalThis as Record<string, unknown>)[KEY] as Embedded | undefined;
}

/** The argument the single executable takes to run as the change engine's rollback timer
 *  (an npm install runs dist/src/change/rollback-timer.js with node instead). */
export const ROLLBACK_TIMER_ARG = '--hagw-doctor-rollback-timer';
