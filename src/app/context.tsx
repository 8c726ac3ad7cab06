// What every screen can reach: the session, the services, navigation and the space it has.
import { createContext, useContext, useEffect, useSyncExternalStore } from 'react';
import type { Finding } from '../types.js';
import type { AppServices } from './services.js';
import type { Session, SessionState } from './session.js';

export type Route =
  | { name: 'home' }
  | { name: 'diagnose' }
  | { name: 'finding'; code: string; subject?: string }
  | { name: 'fix'; code: string; subject?: string }
  | { name: 'setup'; mode: 'setup' | 'generate' }
  | { name: 'triage' }
  | { name: 'changes' };

export interface AppContextValue {
  session: Session;
  services: AppServices;
  push(route: Route): void;
  pop(): void;
  /** back to the nearest route of this name (or push it) */
  popTo(name: Route['name']): void;
  /** rows for a screen's body (between its title and the footer) */
  bodyHeight: number;
  columns: number;
  /** false while the help overlay is open or the app is quitting: screens take no keys */
  active: boolean;
  setTyping(typing: boolean): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useAppContext(): AppContextValue {
  const v = useContext(AppContext);
  if (!v) throw new Error('useAppContext outside <App>');
  return v;
}

export function useSession(): SessionState {
  const { session } = useAppContext();
  return useSyncExternalStore(session.subscribe, session.getState, session.getState);
}

/** A screen with a text field focused says so: q and ? then type instead of quitting. */
export function useTyping(typing: boolean): void {
  const { setTyping } = useAppContext();
  useEffect(() => {
    setTyping(typing);
    return () => setTyping(false);
  }, [typing, setTyping]);
}

/** The finding a route names, in the latest report. */
export function findFinding(findings: readonly Finding[] | undefined, code: string, subject?: string): Finding | undefined {
  return findings?.find((f) => f.code === code && (subject === undefined || f.subject === subject));
}

export function routeOf(f: Finding, name: 'finding' | 'fix'): Route {
  return { name, code: f.code, ...(f.subject ? { subject: f.subject } : {}) };
}
