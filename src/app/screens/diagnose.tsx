// Diagnose: every check with live progress (finished rows in <Static>), then the findings by
// severity, worst first. Enter opens a finding, r runs everything again.
import { ScrollView, type Line } from '../components/scroll-view.js';
import { rowMark, rowTone } from '../components/check-row.js';
import type { CheckRow } from '../session.js';
import { summaryHead } from '../logic/summary.js';
import React, { useEffect, useMemo, useState } from 'react';
import { Box } from 'ink';
import { useKeys } from '../components/keys.js';
import type { Finding } from '../../types.js';
import { Menu, type MenuItem } from '../components/menu.js';
import { Screen } from '../components/screen.js';
import { Spinner } from '../components/spinner.js';
import { SEVERITY_LABEL, ToneText } from '../components/theme.js';
import { useAppContext, useSession, routeOf } from '../context.js';
import { groupBySeverity } from '../logic/findings.js';
import { PairPanel, pairPanelRows } from '../components/pair-panel.js';

export function findingItems(findings: readonly Finding[]): MenuItem[] {
  const items: MenuItem[] = [];
  for (const g of groupBySeverity(findings)) {
    items.push({ id: `h:${g.severity}`, heading: true, label: `${SEVERITY_LABEL[g.severity]} (${g.findings.length})`, tone: g.severity });
    g.findings.forEach((f, i) => {
      items.push({
        id: `${f.code}|${f.subject ?? ''}|${i}`,
        // with a peer: which node it concerns
        label: `${f.code}${f.subject ? ` [${f.subject}]` : ''}${f.node && f.node !== 'local' ? ` · peer ${f.node}` : ''}`,
        hint: `${f.title}${f.fix ? '  (fix)' : ''}`,
        tone: f.severity,
      });
    });
  }
  return items;
}

export function Diagnose() {
  const { session, services, push, pop, active, bodyHeight, columns } = useAppContext();
  // l: every check as a ✓/✗ checklist, the passing ones too
  const [checklist, setChecklist] = useState(false);
  const { run } = useSession();

  useEffect(() => {
    void session.diagnose();
  }, [session]);

  useKeys(
    (input, key) => {
      if (key.escape) {
        if (checklist) setChecklist(false);
        else pop();
      } else if (input === 'l' && run?.phase === 'done') setChecklist((c) => !c);
      else if (input === 'r' && run?.phase !== 'collecting' && run?.phase !== 'analysing') void session.diagnose(true);
    },
    { isActive: active },
  );

  const rows = run?.rows;
  const finished = useMemo(() => (rows ?? []).filter((r) => r.status !== 'pending'), [rows]);
  const pending = (rows ?? []).filter((r) => r.status === 'pending');
  const runId = run?.id ?? 0;
  // finished rows go to the app's one <Static> (Ink cannot unmount a <Static>); publishing a row twice prints it once
  useEffect(() => session.publishRows(runId, finished), [session, runId, finished]);
  const running = !run || run.phase === 'collecting' || run.phase === 'analysing';
  const report = run?.phase === 'done' ? run.report : undefined;

  const items = report ? findingItems(report.findings) : [];
  const byId = new Map<string, Finding>();
  if (report) {
    for (const g of groupBySeverity(report.findings)) g.findings.forEach((f, i) => byId.set(`${f.code}|${f.subject ?? ''}|${i}`, f));
  }
  const s = report?.summary;
  const counts = report
    ? (['pass', 'fail', 'skip', 'error'] as const).map((st) => `${report.checks.filter((c) => c.status === st).length} ${st}`).join(', ')
    : '';

  return (
    <>
      <Screen
        title={checklist ? 'Diagnose this gateway · every check' : 'Diagnose this gateway'}
        keys={
          report
            ? [
                ['↑↓/jk', 'move'],
                ['Enter', 'open'],
                ['l', checklist ? 'findings' : 'every check'],
                ['r', 're-run'],
                ['Esc', 'back'],
              ]
            : [['Esc', 'back']]
        }
      >
        {checklist && report ? (
          <ScrollView lines={checklistLines(rows ?? [])} height={bodyHeight} isFocused={active} />
        ) : running ? (
          <Box flexDirection="column">
            <Box>
              <Spinner />
              <ToneText>
                {run?.phase === 'analysing'
                  ? ' analysing…'
                  : ` collecting from this host${services.peer ? ` and the peer ${services.peer}` : ''}: ${run?.probes ?? 0} probes done`}
              </ToneText>
            </Box>
            {pending.slice(0, Math.max(1, bodyHeight - 2)).map((r) => (
              <Box key={r.id}>
                <Spinner />
                <ToneText tone="muted">{` ${r.title}`}</ToneText>
              </Box>
            ))}
            {pending.length > bodyHeight - 2 ? <ToneText tone="muted">{`  and ${pending.length - (bodyHeight - 2)} more`}</ToneText> : null}
          </Box>
        ) : run?.phase === 'failed' ? (
          <ToneText tone="error">{`The diagnosis could not run: ${run.error ?? 'unknown error'}. Press r to try again.`}</ToneText>
        ) : report && s ? (
          <Box flexDirection="column">
            <PairPanel report={report} columns={columns} />
            <ToneText tone={s.status === 'ok' ? 'ok' : s.status === 'warning' ? 'warning' : 'critical'}>
              {`${summaryHead(s)}  (${report.checks.length} checks: ${counts})`}
            </ToneText>
            {report.findings.length === 0 && s.notJudged?.length ? (
              <ToneText tone="warning" wrap="wrap">{`No problem found in what could be judged; ${s.notJudged.length} check(s) could not judge: ${s.notJudged
                .slice(0, 3)
                .map((n) => `${n.check} (${n.reason})`)
                .join('; ')}. Press r to check again.`}</ToneText>
            ) : report.findings.length === 0 ? (
              <ToneText tone="ok">No problems found. Press r to check again.</ToneText>
            ) : (
              <Menu
                key={run?.id}
                items={items}
                height={Math.max(3, bodyHeight - 1 - pairPanelRows(report, columns))}
                isFocused={active}
                onSelect={(item) => {
                  const f = byId.get(item.id);
                  if (f) push(routeOf(f, 'finding'));
                }}
              />
            )}
          </Box>
        ) : null}
      </Screen>
    </>
  );
}

/** Every check, passing ones too: ✓ pass, ✗/! fail, - could not judge (with why), ✗ the check failed. */
export function checklistLines(rows: readonly CheckRow[]): Line[] {
  const n = (st: string) => rows.filter((r) => r.status === st).length;
  return [
    { text: `${rows.length} checks: ${n('pass')} ✓ pass, ${n('fail')} ✗ fail, ${n('skip')} - not judged, ${n('error')} failed to run`, bold: true },
    ...rows.map((r) => ({
      text: `${rowMark(r)} ${r.title}${r.status === 'fail' ? `  ${r.findings.map((f) => f.code).join(', ')}` : r.status === 'skip' ? `  (not judged: ${r.reason ?? ''})` : r.status === 'error' ? `  (check failed: ${r.reason ?? ''})` : ''}`,
      tone: rowTone(r),
    })),
  ];
}
