// The live event stream behind Triage: the same Watcher as `hagw-doctor watch`, started on the
// session's first diagnosis (no second full check), stopped when the screen goes. The view
// re-renders on every event and once a second (the "12 s ago" counters).
import { useEffect, useState } from 'react';
import type { AppServices, LiveWatch } from '../services.js';
import type { Session } from '../session.js';
import type { WatchEvent } from '../../watch/events.js';

export interface LiveTriage {
  /** undefined until started, and always in the demo (no host to follow) */
  watch: LiveWatch | undefined;
  events: WatchEvent[];
  error?: string;
  now: number;
}

const KEEP_EVENTS = 100;

export function useLiveTriage(session: Session, services: AppServices): LiveTriage {
  const [watch, setWatch] = useState<LiveWatch | undefined>();
  const [events, setEvents] = useState<WatchEvent[]>([]);
  const [error, setError] = useState<string | undefined>();
  // the clock the "12 s ago" counters read: moved once a second and on every state change
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (!services.watch) return;
    let alive = true;
    let w: LiveWatch | undefined;
    const offs: Array<() => void> = [];
    void (async () => {
      try {
        const report = await session.diagnose();
        const snapshot = session.getState().run?.snapshot;
        if (!alive) return;
        w = await services.watch!(report && snapshot ? { snapshot, report } : undefined);
        if (!alive) return;
        offs.push(w.on((e) => setEvents((list) => [...list.slice(-(KEEP_EVENTS - 1)), e])));
        offs.push(w.onState(() => setNow(Date.now())));
        setWatch(w);
        await w.start();
      } catch (err) {
        if (alive) setError((err as Error).message);
      }
    })();
    return () => {
      alive = false;
      for (const off of offs) off();
      w?.stop();
    };
  }, [session, services]);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  return { watch, events, now, ...(error ? { error } : {}) };
}
