// The consent word for a disruptive plan, in one place for the CLI's prompt and the app's typed
// confirm. No imports: the app loads it on its first frame.

/** The word an operator types to confirm a disruptive plan. */
export const CONFIRM_WORD = 'apply';

/** The word a plan asks for: disruptive plans need CONFIRM_WORD typed; safe ones a plain yes (null). */
export function confirmWordFor(plan: { risk: 'safe' | 'disruptive' }): string | null {
  return plan.risk === 'disruptive' ? CONFIRM_WORD : null;
}

/** Whether what the operator typed confirms: the exact word, surrounding blanks aside (never a prefix, never case-folded). */
export function confirmAccepted(word: string | null, typed: string): boolean {
  return word !== null && typed.trim() === word;
}
