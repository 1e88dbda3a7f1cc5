import { TextInput } from '@mantine/core';
import type { ReactNode } from 'react';
import { useI18n } from '../../i18n/i18n';

/** A six-digit authenticator code; the browser and password managers may fill it (one-time-code). */
export function TotpCodeInput({
  value,
  onChange,
  autoFocus = false,
}: {
  value: string;
  onChange: (code: string) => void;
  autoFocus?: boolean;
}): ReactNode {
  const { t } = useI18n();
  return (
    <TextInput
      label={t('mfa.code')}
      description={t('mfa.codeHint')}
      value={value}
      onChange={(event) => onChange(event.currentTarget.value.replace(/\D/g, '').slice(0, 6))}
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9]{6}"
      maxLength={6}
      autoFocus={autoFocus}
      required
      styles={{ input: { letterSpacing: '0.3em', fontFamily: 'var(--mantine-font-family-monospace)' } }}
    />
  );
}
