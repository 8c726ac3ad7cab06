// The two nodes side by side (--peer HOST): role, each instance's state and since when, the VIPs
// each holds, findings per node; or why the peer could not be read. The lines are the text
// report's (src/peer/text.ts pairLines): one layout for `check --peer` and the app.
import React from 'react';
import { Box } from 'ink';
import type { Report } from '../../types.js';
import { pairLines } from '../../peer/text.js';
import { style } from '../../report/ansi.js';
import { ToneText } from './theme.js';

const PLAIN = style(false);

const panelLines = (report: Report, columns: number) => pairLines(report, PLAIN, Math.max(40, columns - 1)).filter((l) => l !== '');

/** Rows the panel takes (0 without a peer): the screen gives the rest to the findings. */
export function pairPanelRows(report: Report, columns: number): number {
  return report.peer ? panelLines(report, columns).length + 2 : 0;
}

export function PairPanel({ report, columns }: { report: Report; columns: number }) {
  const peer = report.peer;
  if (!peer) return null;
  const lines = panelLines(report, columns);
  return (
    <Box flexDirection="column" marginBottom={1}>
      <Box>
        {/* ToneText, not @inkjs/ui's Badge: its colours ignore NO_COLOR / --no-color */}
        <ToneText tone={peer.reachable ? 'ok' : 'warning'} bold>
          {peer.reachable ? 'PAIR' : 'PEER UNREACHABLE'}
        </ToneText>
        <ToneText tone="muted">{` read ${peer.via === 'ssh' ? 'over SSH' : 'from a snapshot'}`}</ToneText>
      </Box>
      {lines.map((l, i) => (
        <ToneText key={i} tone={i === 0 && !peer.reachable ? 'warning' : /^\s*note:/.test(l) ? 'muted' : 'plain'} bold={i === 0}>
          {l}
        </ToneText>
      ))}
    </Box>
  );
}
