// Home: four actions, the first focused so that Enter starts it.
import React from 'react';
import { Box } from 'ink';
import { Menu, type MenuItem } from '../components/menu.js';
import { Screen } from '../components/screen.js';
import { ToneText } from '../components/theme.js';
import { useAppContext, useSession, type Route } from '../context.js';
import { summaryHead } from '../logic/summary.js';

const ACTIONS: Array<MenuItem & { route: Route }> = [
  { id: 'diagnose', label: 'Diagnose this gateway', hint: 'run every check, open a finding, fix it', route: { name: 'diagnose' } },
  { id: 'setup', label: 'Set up a new HA pair', hint: 'first-time setup of this node, step by step', route: { name: 'setup', mode: 'setup' } },
  { id: 'triage', label: 'Failover triage', hint: 'who is master since when, and why it changed', route: { name: 'triage' } },
  { id: 'generate', label: 'Generate configs', hint: 'the setup form, ending in files only', route: { name: 'setup', mode: 'generate' } },
  { id: 'changes', label: 'Changes made here', hint: 'what the doctor changed on this node: confirm, undo', route: { name: 'changes' } },
];

export function Home() {
  const { push, active } = useAppContext();
  const { run } = useSession();
  const report = run?.report;
  const summary = report?.summary;
  // a laptop or a fresh host: say so plainly, and point at the demo rather than at a list of criticals
  const notAGateway =
    report !== undefined &&
    report.instances.length === 0 &&
    report.findings.some((f) => f.code === 'keepalived-not-installed' || f.code === 'keepalived-not-running');
  return (
    <Screen
      title="What do you want to do?"
      keys={[
        ['↑↓/jk', 'move'],
        ['Enter', 'start'],
      ]}
    >
      <Menu items={ACTIONS} isFocused={active} onSelect={(item) => push(ACTIONS.find((a) => a.id === item.id)!.route)} />
      <Box marginTop={1}>
        {notAGateway ? (
          <Box flexDirection="column">
            <ToneText tone="warning" wrap="wrap">
              No keepalived runs in this network namespace: this host does not look like an HA gateway (yet).
            </ToneText>
            <ToneText wrap="wrap">Set up a new HA pair here, or quit (q) and run `hagw-doctor demo` to see the doctor on a broken lab pair.</ToneText>
          </Box>
        ) : summary ? (
          <ToneText tone={summary.status === 'ok' ? 'ok' : summary.status === 'warning' ? 'warning' : 'critical'}>
            {summary.status === 'ok'
              ? 'No problems found on this node.'
              : summary.critical + summary.error + summary.warning + summary.info === 0 && summary.notJudged?.length
                ? `${summary.status.toUpperCase()}: ${summary.notJudged.length} check(s) could not judge${summary.notJudged.some((n) => /needs root/.test(n.reason)) ? ' (needs root)' : ''}: choose Diagnose to see which.`
                : `${summaryHead(summary)}: choose Diagnose to see them.`}
          </ToneText>
        ) : (
          <ToneText tone="muted">Checking this node in the background…</ToneText>
        )}
      </Box>
    </Screen>
  );
}
