// A consent that cannot be given by accident (after Shopify cli-kit's DangerousConfirmationPrompt):
// the operator types the exact word and Enter; what they typed is shown; a wrong word says so and
// does nothing; Esc cancels. The word and its judgement are the change engine's (src/change/confirm.ts).
import React, { useState } from 'react';
import { Box } from 'ink';
import { confirmAccepted } from '../../change/confirm.js';
import { visibleLine } from '../../report/escape.js';
import { useKeys } from './keys.js';
import { TextField } from './text-field.js';
import { ToneText } from './theme.js';

export interface TypedConfirmProps {
  /** what the confirmation is for, one line (e.g. "This change is disruptive.") */
  message: string;
  /** the exact word to type */
  word: string;
  isFocused: boolean;
  onConfirm(): void;
  onCancel(): void;
  /** said under a wrong word; default "nothing applied" */
  refusal?: string;
}

export function TypedConfirm({ message, word, isFocused, onConfirm, onCancel, refusal = 'nothing applied' }: TypedConfirmProps) {
  // the last wrong word submitted; cleared as soon as the operator types again
  const [wrong, setWrong] = useState<string | undefined>();
  useKeys(
    (_input, key) => {
      if (key.escape) onCancel();
    },
    { isActive: isFocused },
  );
  return (
    <Box flexDirection="column">
      <ToneText tone="warning" bold wrap="wrap">{`${message} Type "${word}" and Enter to go ahead (Esc cancels).`}</ToneText>
      <TextField isFocused={isFocused} onChange={() => setWrong(undefined)} onSubmit={(v) => (confirmAccepted(word, v) ? onConfirm() : setWrong(v))} />
      {wrong !== undefined ? <ToneText tone="error">{`"${visibleLine(wrong)}" is not "${word}": ${refusal}`}</ToneText> : null}
    </Box>
  );
}
