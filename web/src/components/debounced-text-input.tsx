import { TextInput, type TextInputProps } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { type ReactNode, useEffect, useState } from 'react';

const DEBOUNCE_MS = 300;

/**
 * A filter field that shows every keystroke at once but reports the value only when typing pauses, so a list
 * is not re-queried per character. Follows `value` when it changes from outside (Back/Forward).
 */
export function DebouncedTextInput({
  value,
  onCommit,
  ...props
}: Omit<TextInputProps, 'value' | 'onChange'> & {
  value: string;
  onCommit: (value: string) => void;
}): ReactNode {
  const [text, setText] = useState(value);
  const commit = useDebouncedCallback((next: string) => onCommit(next.trim()), DEBOUNCE_MS);

  useEffect(() => {
    setText((current) => (current.trim() === value ? current : value));
  }, [value]);

  return (
    <TextInput
      {...props}
      value={text}
      onChange={(event) => {
        setText(event.currentTarget.value);
        commit(event.currentTarget.value);
      }}
    />
  );
}
