// The Changes screen's state: this node's changes from the engine, reloaded after each action.
import { useCallback, useEffect, useState } from 'react';
import type { AppServices, ChangeSummary } from '../services.js';

export interface ChangesState {
  list: ChangeSummary[] | undefined;
  error?: string;
  busy: boolean;
  note?: { ok: boolean; text: string };
  reload(): void;
  confirm(id: string): Promise<void>;
  undo(id: string): Promise<void>;
}

/** `node`: hostname and netns of this node; changes made elsewhere (another netns) are not listed. */
export function useChanges(services: AppServices, node: { host?: string; netns?: string }): ChangesState {
  const [list, setList] = useState<ChangeSummary[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<ChangesState['note']>();
  const [gen, setGen] = useState(0);
  const reload = useCallback(() => setGen((g) => g + 1), []);

  useEffect(() => {
    if (!services.changes) return;
    let alive = true;
    services.changes().then(
      (all) => alive && setList(all.filter((c) => (!node.host || c.host === node.host) && (!node.netns || c.netns === node.netns))),
      (err: Error) => alive && setError(err.message),
    );
    return () => {
      alive = false;
    };
  }, [services, gen, node.host, node.netns]);

  const act = async (fn: () => Promise<{ ok: boolean; message: string }>) => {
    setBusy(true);
    try {
      const r = await fn();
      setNote({ ok: r.ok, text: r.message });
    } catch (err) {
      setNote({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
      reload();
    }
  };

  return {
    list,
    ...(error ? { error } : {}),
    busy,
    ...(note ? { note } : {}),
    reload,
    confirm: (id) => act(async () => ({ ok: true, message: services.confirm ? await services.confirm(id) : 'this session cannot confirm changes' })),
    undo: (id) => act(() => (services.undo ? services.undo(id) : Promise.resolve({ ok: false, message: 'this session cannot undo changes' }))),
  };
}
