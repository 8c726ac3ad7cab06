// HAGW_DOCTOR_TRACE=1: where a run's time goes, on stderr, each line stamped with the milliseconds
// since the process started (so the local and the peer's collection can be laid side by side).
export const tracing = (): boolean => Boolean(process.env.HAGW_DOCTOR_TRACE);

export function trace(message: string): void {
  if (tracing()) process.stderr.write(`+${Math.round(performance.now())} ms ${message}\n`);
}
