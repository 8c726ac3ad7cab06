// The app shell: header, the current screen, help, and the keys that work everywhere
// (q quit, ? help, Ctrl+C always). Quitting never interrupts a change half-way.
import React, { Suspense, lazy, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Box, Static, useApp } from 'ink';
import { KeyBusProvider, useKeys } from './components/keys.js';
import { AppContext, useSession, type AppContextValue, type Route } from './context.js';
import { ColorContext, ToneText } from './components/theme.js';
import { Header } from './components/header.js';
import { useTerminalSize } from './components/terminal.js';
import { Screen } from './components/screen.js';
import { Home } from './screens/home.js';
import { CheckRowLine } from './components/check-row.js';
import { ScrollView } from './components/scroll-view.js';

// only Home is needed for the first frame; the other screens load behind it
const Diagnose = lazy(() => import('./screens/diagnose.js').then((m) => ({ default: m.Diagnose })));
const FindingScreen = lazy(() => import('./screens/finding.js').then((m) => ({ default: m.FindingScreen })));
const FixScreen = lazy(() => import('./screens/fix.js').then((m) => ({ default: m.FixScreen })));
const SetupScreen = lazy(() => import('./screens/setup.js').then((m) => ({ default: m.SetupScreen })));
const Triage = lazy(() => import('./screens/triage.js').then((m) => ({ default: m.Triage })));
const Changes = lazy(() => import('./screens/changes.js').then((m) => ({ default: m.ChangesScreen })));
import type { Session } from './session.js';

export interface AppProps {
  session: Session;
  color: boolean;
  /** the route to open first (tests); home otherwise */
  initial?: Route[];
  /** called once the app is about to exit */
  onExit?(): void;
}

// host line and instances line, and the demo notice in demo mode
const headerRows = (demo: boolean) => (demo ? 3 : 2);
// title + footer + one spare row so a frame never fills the terminal (Ink would clear it)
const CHROME_ROWS = 3;

export function App({ session, color, initial, onExit }: AppProps) {
  const [stack, setStack] = useState<Route[]>(initial ?? [{ name: 'home' }]);
  const [help, setHelp] = useState(false);
  const typing = useRef(false);
  const { rows, columns } = useTerminalSize();
  const { exit } = useApp();
  const bodyHeight = Math.max(5, rows - headerRows(session.services.demo !== undefined) - CHROME_ROWS);

  const push = useCallback((r: Route) => setStack((s) => [...s, r]), []);
  const pop = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  const popTo = useCallback(
    (name: Route['name']) =>
      setStack((s) => {
        const i = s.map((r) => r.name).lastIndexOf(name);
        return i >= 0 ? s.slice(0, i + 1) : [...s.slice(0, 1), { name } as Route];
      }),
    [],
  );
  // one key home from every screen (h, or the Home key even in a text field); never during a change
  const goHome = useCallback(() => setStack([{ name: 'home' }]), []);
  const setTyping = useCallback((t: boolean) => {
    typing.current = t;
  }, []);

  return (
    <ColorContext.Provider value={color}>
      <KeyBusProvider>
        <Shell session={session} help={help} setHelp={setHelp} typing={typing} exit={exit} onExit={onExit} goHome={goHome}>
          <AppContext.Provider
            value={useMemo<AppContextValue>(
              () => ({ session, services: session.services, push, pop, popTo, bodyHeight, columns, active: !help, setTyping }),
              [session, push, pop, popTo, bodyHeight, columns, help, setTyping],
            )}
          >
            <Box flexDirection="column" width={columns}>
              <Header />
              {help ? (
                <Help route={stack[stack.length - 1]!.name} />
              ) : (
                <Suspense fallback={<ToneText tone="muted">loading…</ToneText>}>
                  <Current route={stack[stack.length - 1]!} />
                </Suspense>
              )}
            </Box>
          </AppContext.Provider>
        </Shell>
      </KeyBusProvider>
    </ColorContext.Provider>
  );
}

function Current({ route }: { route: Route }) {
  switch (route.name) {
    case 'home':
      return <Home />;
    case 'diagnose':
      return <Diagnose />;
    case 'finding':
      return <FindingScreen code={route.code} {...(route.subject ? { subject: route.subject } : {})} />;
    case 'fix':
      return <FixScreen code={route.code} {...(route.subject ? { subject: route.subject } : {})} />;
    case 'setup':
      return <SetupScreen key={route.mode} mode={route.mode} />;
    case 'triage':
      return <Triage />;
    case 'changes':
      return <Changes />;
  }
}

interface ShellProps {
  session: Session;
  help: boolean;
  setHelp: React.Dispatch<React.SetStateAction<boolean>>;
  typing: React.RefObject<boolean>;
  exit: () => void;
  onExit?: (() => void) | undefined;
  goHome(): void;
  children: React.ReactNode;
}

/** The global keys, and the exit that waits for a change in progress. */
function Shell({ session, help, setHelp, typing, exit, onExit, goHome, children }: ShellProps) {
  const state = useSyncSession(session);
  const [note, setNote] = useState<string | undefined>();

  useEffect(() => {
    if (state.quitRequested && !state.applying) {
      onExit?.();
      exit();
    }
  }, [state.quitRequested, state.applying, exit, onExit]);

  useKeys(
    (input, key) => {
      if (key.ctrl && input === 'c') {
        // applying: the engine finishes the current step, rolls back, and apply returns; then the app exits
        if (session.getState().applying) session.cancelApply();
        session.requestQuit();
        return;
      }
      if (key.home || (input === 'h' && !typing.current && !key.ctrl && !key.meta)) {
        if (session.getState().applying) setNote('a change is being applied: h works once it is done');
        else {
          setHelp(false);
          goHome();
        }
        return;
      }
      if (typing.current) return;
      if (help) {
        if (key.escape || input === '?' || input === 'q') setHelp(false);
        return;
      }
      if (input === '?') setHelp(true);
      else if (input === 'q') {
        const { applying, applyingOn } = session.getState();
        if (applying && applyingOn)
          setNote(`${applyingOn}'s own hagw-doctor is installing there: q works once it answers (a failed step rolls back there by itself)`);
        else if (applying) setNote('a change is being applied: q works once it is done (Ctrl+C stops it and rolls back)');
        else session.requestQuit();
      }
    },
    { isActive: true },
  );

  return (
    <Box flexDirection="column">
      {/* the only <Static>, never unmounted: Ink keeps using a removed one's freed layout node */}
      <Static items={state.staticLog}>{(line) => <CheckRowLine key={line.key} row={line.row} />}</Static>
      {children}
      {note && state.applying ? <ToneText tone="warning">{note}</ToneText> : null}
    </Box>
  );
}

function useSyncSession(session: Session) {
  return React.useSyncExternalStore(session.subscribe, session.getState, session.getState);
}

/** What each screen is for, first in its help (? on every screen). */
const SCREEN_HELP: Record<Route['name'], string[]> = {
  home: ['Home: choose what to do. Diagnose runs every check; Triage follows a failover live.'],
  diagnose: ['Diagnose: every check, then the findings worst first. Enter opens one, l lists every', 'check (passing ones too), r checks again.'],
  finding: ['A finding: what is wrong, why it matters, the evidence and the fix. f opens the fix,', 'y copies its commands (OSC 52).'],
  fix: ['A fix: the exact commands and files first; nothing changes until you consent.'],
  setup: ['The form: one question a step, checked as you type and on Enter; Esc goes back one', 'question, h home (your answers are kept).'],
  triage: [
    'Triage, live: state since when, transitions with their causes, VIPs, the peer (w follows',
    'its adverts on the wire), the latest events; r re-checks. Nothing needs a key to update.',
  ],
  changes: ["Changes made here: this node's changes. Enter shows the steps, c confirms a pending one,", 'u undoes one (after y).'],
};

function Help({ route }: { route: Route['name'] }) {
  const lines = [
    ...SCREEN_HELP[route],
    '',
    'Keys (keyboard only):',
    '  ↑ ↓ or j k   move, or scroll long text',
    '  Enter        choose / open / next step',
    '  Esc          back (one step; in a form, the previous question)',
    '  h or Home    home, from any screen (Home also while typing)',
    '  r            run the checks again (Diagnose, Triage)',
    "  w            Triage: follow the peer's adverts on the wire (on/off)",
    '  y            copy the command shown to the clipboard (OSC 52) where offered',
    '  f            open the fix of a finding',
    '  a            apply a fix (after the preview; typed "apply" for disruptive ones)',
    '  c            commit-confirmed on/off when you are on SSH; Changes: confirm',
    '  l            Diagnose: every check as a ✓/✗ checklist',
    '  u            Changes: undo a change (after y)',
    '  ← → / Tab    next file (review) or pane (triage)',
    '  q            quit        ?  this help        Ctrl+C  quit at any time',
    '',
    'The app is a view over `hagw-doctor check`: nothing changes on this host until you',
    'confirm a fix, and every fix goes through the change engine (backup, apply, re-check,',
    'roll back on failure). Ctrl+C during a change stops after the current step and rolls back.',
  ];
  return (
    <Screen
      title="Help"
      keys={[
        ['j/k', 'scroll'],
        ['Esc/?', 'close'],
      ]}
    >
      <HelpBody lines={lines} />
    </Screen>
  );
}

function HelpBody({ lines }: { lines: string[] }) {
  const { bodyHeight } = React.useContext(AppContext)!;
  // scrolls on a small terminal (60x20) instead of losing its last lines
  return <ScrollView lines={lines.map((text) => ({ text }))} height={bodyHeight} isFocused />;
}

export { useSession };
