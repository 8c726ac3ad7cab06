// Changes made here: what the doctor changed on this node (the change engine's manifests), each
// with its state; Enter shows its steps; c keeps a pending change (commit-confirmed); u undoes one
// from its backup after a typed confirmation. Everything goes through the engine's functions.
import React, { useState } from 'react';
import { Box } from 'ink';
import { useKeys } from '../components/keys.js';
import { Menu, type MenuItem } from '../components/menu.js';
import { Screen } from '../components/screen.js';
import { ScrollView, type Line } from '../components/scroll-view.js';
import { Spinner } from '../components/spinner.js';
import { ToneText } from '../components/theme.js';
import { useAppContext, useSession } from '../context.js';
import { useChanges } from '../hooks/use-changes.js';
import type { ChangeSummary } from '../services.js';

export function changeLines(c: ChangeSummary): Line[] {
  return [
    { text: `${c.id}  ${c.state.toUpperCase()}`, bold: true, tone: c.state === 'pending' ? 'warning' : c.state === 'failed' ? 'error' : 'plain' },
    { text: c.summary },
    { text: `made ${c.when} by ${c.who}`, tone: 'muted' },
    ...(c.deadline ? [{ text: `rolls itself back at ${c.deadline} unless confirmed (c)`, tone: 'warning' as const }] : []),
    ...(c.result ? [{ text: `result: ${c.result}`, tone: 'muted' as const }] : []),
    { text: '' },
    { text: 'Steps', bold: true },
    ...c.steps.map((s) => ({ text: `  $ ${s}`, tone: 'accent' as const })),
  ];
}

/** A yes/no that needs the operator's explicit answer (No by default; Enter and Esc keep the change).
 *  Keys come through the app's key bus, so a y typed in the same read as the u is not lost. */
function ConfirmUndo({ change, onYes, onNo }: { change: ChangeSummary; onYes(): void; onNo(): void }) {
  const { active } = useAppContext();
  useKeys(
    (input, key) => {
      if (input === 'y' || input === 'Y') onYes();
      else if (input === 'n' || input === 'N' || key.return || key.escape) onNo();
    },
    { isActive: active },
  );
  return (
    <Box flexDirection="column">
      <ToneText tone="warning" wrap="wrap">{`Undo change ${change.id} (${change.summary})? Its backup is restored and its commands undone.`}</ToneText>
      <Box>
        <ToneText>{'Undo it? '}</ToneText>
        <ToneText tone="accent">y/N</ToneText>
      </Box>
    </Box>
  );
}

export function ChangesScreen() {
  const { services, pop, active, bodyHeight } = useAppContext();
  const { run } = useSession();
  const host = run?.report?.host;
  const state = useChanges(services, { ...(host?.hostname ? { host: host.hostname } : {}), ...(host?.netns ? { netns: host.netns } : {}) });
  const [current, setCurrent] = useState(0);
  const [open, setOpen] = useState<ChangeSummary | undefined>();
  const [asking, setAsking] = useState<ChangeSummary | undefined>();
  const list = state.list ?? [];
  const selected = open ?? list[current];

  useKeys(
    (input, key) => {
      if (key.escape) {
        if (open) setOpen(undefined);
        else pop();
      } else if (input === 'r') state.reload();
      else if (input === 'c' && selected?.state === 'pending' && !state.busy) void state.confirm(selected.id);
      else if (input === 'u' && selected && (selected.state === 'confirmed' || selected.state === 'pending') && !state.busy) setAsking(selected);
    },
    { isActive: active && !asking },
  );

  if (!services.changes) {
    return (
      <Screen title="Changes made here" keys={[['Esc', 'back']]}>
        <ToneText tone="muted">Demo: nothing is ever changed here, so there are no changes to list.</ToneText>
      </Screen>
    );
  }
  const keys: Array<[string, string]> = [
    ['↑↓', 'move'],
    ['Enter', 'steps'],
    ['c', 'confirm pending'],
    ['u', 'undo'],
    ['r', 'reload'],
    ['Esc', 'back'],
  ];
  const footer = state.busy ? (
    <Box>
      <Spinner />
      <ToneText> working through the change engine…</ToneText>
    </Box>
  ) : state.note ? (
    <ToneText tone={state.note.ok ? 'ok' : 'error'} wrap="wrap">
      {state.note.text}
    </ToneText>
  ) : null;

  if (asking) {
    return (
      <Screen
        title="Changes made here · undo"
        keys={[
          ['y', 'undo it'],
          ['n/Enter', 'keep it'],
        ]}
      >
        <ConfirmUndo
          change={asking}
          onYes={() => {
            setAsking(undefined);
            void state.undo(asking.id);
          }}
          onNo={() => setAsking(undefined)}
        />
      </Screen>
    );
  }
  if (open) {
    return (
      <Screen title={`Change ${open.id}`} keys={keys}>
        <ScrollView lines={changeLines(open)} height={bodyHeight - (footer ? 2 : 0)} isFocused={active} />
        {footer}
      </Screen>
    );
  }
  const items: MenuItem[] = list.map((c, i) => ({
    id: String(i),
    label: `${c.state.padEnd(11)} ${c.id}`,
    hint: c.summary,
    tone: c.state === 'pending' ? 'warning' : c.state === 'failed' ? 'error' : undefined,
  }));
  return (
    <Screen title="Changes made here" keys={keys}>
      {state.error ? <ToneText tone="error" wrap="wrap">{`The change list could not be read: ${state.error}`}</ToneText> : null}
      {state.list === undefined && !state.error ? <ToneText tone="muted">reading the change engine's state…</ToneText> : null}
      {state.list && !list.length ? (
        <ToneText tone="muted" wrap="wrap">
          The doctor has made no change on this node.
        </ToneText>
      ) : null}
      {list.length ? (
        <Menu
          items={items}
          height={Math.max(3, bodyHeight - 3)}
          isFocused={active}
          onHighlight={(it) => setCurrent(Number(it.id))}
          onSelect={(it) => setOpen(list[Number(it.id)])}
        />
      ) : null}
      {footer}
    </Screen>
  );
}
