// The pieces the screens are made of, on their own: the typed confirm (ink-testing-library, real
// keys), and the fix and setup state machines (pure reducers).
import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { TypedConfirm } from '../../../src/app/components/typed-confirm.js';
import { KeyBusProvider } from '../../../src/app/components/keys.js';
import { confirmAccepted, CONFIRM_WORD, confirmWordFor } from '../../../src/change/confirm.js';
import { currentPreview, fixReducer, initialFixState, type FixAction, type FixState } from '../../../src/app/hooks/use-fix.js';
import { initialSetupState, setupReducer } from '../../../src/app/hooks/use-setup.js';
import type { FixPreview } from '../../../src/app/services.js';
import { KEYS, waitFor } from './helpers.js';

afterEach(() => cleanup());

function confirmPrompt() {
  const calls: string[] = [];
  const r = render(
    <KeyBusProvider>
      <TypedConfirm message="This change is disruptive." word="apply" isFocused onConfirm={() => calls.push('confirm')} onCancel={() => calls.push('cancel')} />
    </KeyBusProvider>,
  );
  return { ...r, calls };
}

describe('TypedConfirm', () => {
  it('asks for the exact word and shows what is typed', async () => {
    const r = confirmPrompt();
    expect(await waitFor(r.lastFrame, 'Type "apply" and Enter')).toContain('Esc cancels');
    r.stdin.write('app');
    await waitFor(r.lastFrame, '> app');
    expect(r.calls).toEqual([]);
  });

  it.each([
    ['a wrong word', 'yes', '"yes" is not "apply": nothing applied'],
    ['a prefix', 'app', '"app" is not "apply"'],
    ['another case', 'APPLY', '"APPLY" is not "apply"'],
    ['nothing', '', '"" is not "apply"'],
  ])('refuses %s and says so', async (_what, typed, says) => {
    const r = confirmPrompt();
    await waitFor(r.lastFrame, 'Type "apply"');
    if (typed) {
      r.stdin.write(typed);
      await waitFor(r.lastFrame, `> ${typed}`);
    }
    r.stdin.write(KEYS.enter);
    await waitFor(r.lastFrame, says);
    expect(r.calls).toEqual([]);
  });

  it('confirms on the exact word and Enter (one burst, as over a laggy link)', async () => {
    const r = confirmPrompt();
    await waitFor(r.lastFrame, 'Type "apply"');
    r.stdin.write('apply\r');
    await waitFor(() => r.calls.join(','), 'confirm');
    expect(r.calls).toEqual(['confirm']);
  });

  it('Esc cancels', async () => {
    const r = confirmPrompt();
    await waitFor(r.lastFrame, 'Type "apply"');
    r.stdin.write(KEYS.esc);
    await waitFor(() => r.calls.join(','), 'cancel');
    expect(r.calls).toEqual(['cancel']);
  });

  it('a control character typed is shown escaped, never sent to the terminal', async () => {
    const r = confirmPrompt();
    await waitFor(r.lastFrame, 'Type "apply"');
    r.stdin.write('a\u009bb');
    r.stdin.write(KEYS.enter);
    const frame = await waitFor(r.lastFrame, 'is not "apply"');
    expect(frame).not.toContain('\u009b');
  });
});

describe('the confirm word (engine): one place for the CLI and the app', () => {
  it.each([
    ['apply', true],
    ['  apply ', true],
    ['Apply', false],
    ['appl', false],
    ['apply now', false],
    ['', false],
  ])('%j confirms: %s', (typed, ok) => {
    expect(confirmAccepted(CONFIRM_WORD, typed)).toBe(ok);
  });
  it('a safe plan has no word (a plain yes), a disruptive one has it; no word never accepts a typed one', () => {
    expect(confirmWordFor({ risk: 'safe' })).toBeNull();
    expect(confirmWordFor({ risk: 'disruptive' })).toBe(CONFIRM_WORD);
    expect(confirmAccepted(null, 'apply')).toBe(false);
  });
});

const PREVIEW: FixPreview = { lines: [], backup: [], irreversible: [], confirmWord: null };
const run = (actions: FixAction[], from: FixState = initialFixState(false)) => actions.reduce(fixReducer, from);

describe('fix state (reducer)', () => {
  it.each<[string, FixAction[], Partial<FixState>]>([
    ['no consent before the preview is on screen', [{ type: 'ask' }], { phase: 'preview' }],
    ['consent asked once previewed', [{ type: 'previewed', every: false, preview: PREVIEW }, { type: 'ask' }], { phase: 'confirm' }],
    [
      'Esc at the consent goes back to the preview',
      [{ type: 'previewed', every: false, preview: PREVIEW }, { type: 'ask' }, { type: 'back' }],
      { phase: 'preview' },
    ],
    ['apply only from the consent', [{ type: 'applying' }], { phase: 'preview' }],
    [
      'the scope cannot change while consenting',
      [{ type: 'previewed', every: false, preview: PREVIEW }, { type: 'ask' }, { type: 'toggle-every' }, { type: 'toggle-commit-confirmed' }],
      { phase: 'confirm', every: false, commitConfirmed: false },
    ],
    [
      'a result ends it',
      [
        { type: 'previewed', every: false, preview: PREVIEW },
        { type: 'ask' },
        { type: 'applying' },
        { type: 'done', outcome: { status: 'applied', message: 'm' } },
      ],
      { phase: 'result' },
    ],
  ])('%s', (_what, actions, want) => {
    expect(run(actions)).toMatchObject(want);
  });

  it('a preview made for the other scope is never shown for this one', () => {
    const s = run([{ type: 'previewed', every: false, preview: PREVIEW }, { type: 'toggle-every' }]);
    expect(currentPreview(s)).toBeUndefined();
    expect(run([{ type: 'ask' }], s).phase).toBe('preview');
    expect(currentPreview(run([{ type: 'previewed', every: true, preview: PREVIEW }], s))).toBe(PREVIEW);
  });

  it('a step event replaces its earlier state (running -> done), others accumulate', () => {
    const s = run([
      { type: 'step', event: { index: 0, total: 2, text: 'a', status: 'running' } },
      { type: 'step', event: { index: 0, total: 2, text: 'a', status: 'done' } },
      { type: 'step', event: { index: 1, total: 2, text: 'b', status: 'running' } },
    ]);
    expect(s.steps.map((e) => `${e.index}:${e.status}`)).toEqual(['0:done', '1:running']);
  });
});

describe('setup state (reducer)', () => {
  const host = { interfaces: [], vridsInUse: [] };
  it.each([
    ['the host read starts the questions', [{ type: 'host' as const, host }], { phase: 'ask', step: 0 }],
    [
      'a live problem and a submitted error are dropped on the next step',
      [
        { type: 'host' as const, host },
        { type: 'typed' as const, problem: 'bad' },
        { type: 'invalid' as const, error: 'bad' },
        { type: 'answered' as const, answers: { role: 'master' as const }, next: 1 },
      ],
      { step: 1, error: undefined, live: undefined },
    ],
    ['back never goes below the first step', [{ type: 'host' as const, host }, { type: 'back' as const }], { step: 0 }],
    [
      'a generate failure goes back to the questions with the reasons',
      [
        { type: 'host' as const, host },
        { type: 'generate-failed' as const, errors: ['a', 'b'] },
      ],
      { phase: 'ask', error: 'a; b' },
    ],
    [
      'files cycle both ways',
      [
        {
          type: 'generated' as const,
          files: [
            { path: 'a', content: '', node: 'this' as const },
            { path: 'b', content: '', node: 'peer' as const },
          ],
        },
        { type: 'file' as const, delta: -1 as const },
      ],
      { phase: 'review', fileIdx: 1 },
    ],
  ])('%s', (_what, actions, want) => {
    const s = actions.reduce(setupReducer, initialSetupState({}));
    for (const [k, v] of Object.entries(want)) {
      if (v === undefined) expect(k in s).toBe(false);
      else expect(s[k as keyof typeof s]).toEqual(v);
    }
  });
});
