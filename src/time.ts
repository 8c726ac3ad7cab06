// Times for machines: ISO 8601 with milliseconds and the local zone offset
// ("2026-12-02T04:35:57.123+01:00"), beside the human forms the views keep.

export function isoTime(ms: number = Date.now()): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** A copy of `value` where every object with a numeric `ts` (ms since the epoch) also carries `timeIso`,
 *  and numeric `now`/`since` get `nowIso`/`sinceIso`: ISO times added beside the existing fields. */
export function withIsoTimes<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => withIsoTimes(v)) as T;
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = withIsoTimes(v);
    if (typeof v === 'number' && Number.isFinite(v)) {
      if (k === 'ts') out.timeIso = isoTime(v);
      else if (k === 'now' || k === 'since') out[`${k}Iso`] = isoTime(v);
    }
  }
  return out as T;
}
