// Who and what this node is: host, keepalived version, role per VRRP instance, VIPs held.
import React from 'react';
import { Box } from 'ink';
import { ToneText } from './theme.js';
import { Spinner } from './spinner.js';
import { useAppContext, useSession } from '../context.js';

export function Header() {
  const { services } = useAppContext();
  const { run } = useSession();
  const report = run?.report;
  const demo = services.demo ? `  DEMO "${services.demo.scenario}": fixes are shown, never applied` : '';
  if (!report) {
    return (
      <Box flexDirection="column">
        <Box>
          <ToneText bold>{`hagw-doctor${demo}  `}</ToneText>
          {run?.phase === 'failed' ? (
            <ToneText tone="error">{`could not read this host: ${run.error ?? ''}`}</ToneText>
          ) : (
            <>
              <Spinner />
              <ToneText tone="muted">{` reading this host… ${run?.probes ?? 0} probes`}</ToneText>
            </>
          )}
        </Box>
        <ToneText tone="muted"> </ToneText>
      </Box>
    );
  }
  const h = report.host;
  const instances = report.instances.length
    ? report.instances
        .map((i) => `${i.name} ${i.state}${i.vips.length ? ` (${i.vipsHeld.length ? `holds ${i.vipsHeld.join(' ')}` : 'no VIP held'})` : ''}`)
        .join(' · ')
    : 'no VRRP instance configured here';
  const roleTone = report.role === 'master' ? 'ok' : report.role === 'fault' ? 'error' : report.role === 'backup' ? 'info' : 'muted';
  return (
    <Box flexDirection="column">
      <Box>
        <ToneText bold>{`hagw-doctor · ${h.hostname}`}</ToneText>
        <ToneText tone="muted">{` · keepalived ${h.keepalived ?? 'not installed'} · `}</ToneText>
        <ToneText tone={roleTone} bold>
          {report.role.toUpperCase()}
        </ToneText>
      </Box>
      {/* its own line: at 80 columns it does not fit beside the host line */}
      {demo ? <ToneText tone="warning">{demo.trim()}</ToneText> : null}
      <ToneText tone="muted">{instances}</ToneText>
    </Box>
  );
}
