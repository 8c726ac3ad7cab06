// One finding: what is wrong, why it matters on a gateway, the evidence, and the fix.
import React from 'react';
import { useKeys } from '../components/keys.js';
import type { Finding } from '../../types.js';
import { wrapText, describeStep } from '../../report/text.js';
import { Screen } from '../components/screen.js';
import { ScrollView, type Line } from '../components/scroll-view.js';
import { SEVERITY_LABEL, ToneText } from '../components/theme.js';
import { findFinding, routeOf, useAppContext, useSession } from '../context.js';
import { whyItMatters } from '../logic/findings.js';
import { useCopyKey } from '../components/clipboard.js';

export function findingLines(f: Finding, width: number): Line[] {
  const w = Math.max(40, width - 2);
  const out: Line[] = [];
  out.push({ text: `${SEVERITY_LABEL[f.severity]}  ${f.code}${f.subject ? `  [${f.subject}]` : ''}`, tone: f.severity, bold: true });
  out.push({ text: '' });
  out.push({ text: 'What is wrong', bold: true });
  out.push(...wrapText(f.title, w, '  ').map((text) => ({ text })));
  if (f.location) out.push({ text: `  at ${f.location.file}${f.location.line ? `:${f.location.line}` : ''}`, tone: 'muted' });
  out.push({ text: '' });
  out.push({ text: 'Why it matters', bold: true });
  out.push(...wrapText(whyItMatters(f), w, '  ').map((text) => ({ text })));
  out.push({ text: '' });
  out.push({ text: 'Evidence', bold: true });
  if (!f.evidence.length) out.push({ text: '  (none recorded)', tone: 'muted' });
  for (const e of f.evidence) out.push({ text: `  [${e.probe}] ${e.excerpt}`, tone: 'muted' });
  out.push({ text: '' });
  out.push({ text: 'Fix', bold: true });
  if (!f.fix) out.push({ text: '  The doctor cannot apply a fix for this one: see "why it matters".', tone: 'muted' });
  else {
    out.push(...wrapText(f.fix.summary, w, '  ').map((text) => ({ text })));
    out.push({
      text: `  risk: ${f.fix.risk} · ${f.fix.persistence.persistent ? 'persistent' : 'not persistent'}: ${f.fix.persistence.how}`,
      tone: f.fix.risk === 'disruptive' ? 'warning' : 'muted',
    });
    for (const s of f.fix.steps) out.push({ text: `  $ ${describeStep(s)}`, tone: 'accent' });
    out.push({ text: '  Press f to see the exact changes and apply them.', tone: 'muted' });
  }
  return out;
}

export function FindingScreen({ code, subject }: { code: string; subject?: string }) {
  const { pop, push, active, bodyHeight, columns } = useAppContext();
  const { run } = useSession();
  const f = findFinding(run?.report?.findings, code, subject);
  // y: the fix's exact commands on the clipboard
  const commands = f?.fix?.steps.map((st) => describeStep(st)).join('\n');
  const copied = useCopyKey(commands, active);

  useKeys(
    (input, key) => {
      if (key.escape) pop();
      else if (f?.fix && (input === 'f' || key.return)) push(routeOf(f, 'fix'));
    },
    { isActive: active },
  );

  if (!f) {
    return (
      <Screen title={code} keys={[['Esc', 'back']]}>
        <ToneText tone="ok">{`${code} is no longer reported by the latest check.`}</ToneText>
      </Screen>
    );
  }
  return (
    <Screen
      title={f.title}
      keys={[
        ['j/k', 'scroll'],
        ...(f.fix
          ? ([
              ['f', 'fix'],
              ['y', 'copy commands'],
            ] as Array<[string, string]>)
          : []),
        ['Esc', 'back'],
      ]}
    >
      <ScrollView lines={findingLines(f, columns)} height={copied ? bodyHeight - 1 : bodyHeight} isFocused={active} />
      {copied ? <ToneText tone="ok">{copied}</ToneText> : null}
    </Screen>
  );
}
