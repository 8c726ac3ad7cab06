// A one-line text input (type, Backspace, Enter); keys reach it only when focused and enabled.
import { visible } from '../../report/escape.js';
import React, { useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { ToneText } from './theme.js';
import { useKeys } from './keys.js';

export interface TextFieldProps {
  label?: string;
  defaultValue?: string;
  isFocused?: boolean;
  isDisabled?: boolean;
  onChange?(value: string): void;
  onSubmit(value: string): void;
}

export function TextField({ label, defaultValue = '', isFocused = true, isDisabled = false, onChange, onSubmit }: TextFieldProps) {
  const [value, setValue] = useState(defaultValue);
  // the value as typed so far, even before React renders it (keys can come faster than frames)
  const current = useRef(defaultValue);
  const set = (v: string) => {
    current.current = v;
    setValue(v);
    onChange?.(v);
  };
  useKeys(
    (input, key) => {
      if (key.return) onSubmit(current.current);
      else if (key.backspace || key.delete) set(current.current.slice(0, -1));
      else if (key.ctrl && input === 'u') set('');
      else if (!key.ctrl && !key.meta && !key.escape && !key.tab && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow && input) {
        set(current.current + input.replace(/[\r\n]/g, ''));
      }
    },
    { isActive: isFocused && !isDisabled },
  );
  const on = isFocused && !isDisabled;
  return (
    <Box>
      {label ? <ToneText bold>{`${label} `}</ToneText> : null}
      <ToneText tone="accent">{'> '}</ToneText>
      <Text>{visible(value)}</Text>
      {on ? <Text inverse> </Text> : null}
    </Box>
  );
}
