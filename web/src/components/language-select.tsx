import { NativeSelect, type NativeSelectProps } from '@mantine/core';
import type { ReactNode } from 'react';
import { isLanguage, LANGUAGES, useI18n } from '../i18n/i18n';

/** Chooses the console's language (remembered in this browser); each language is named in itself. */
export function LanguageSelect(props: Omit<NativeSelectProps, 'value' | 'onChange' | 'data'>): ReactNode {
  const { language, setLanguage } = useI18n();
  return (
    <NativeSelect
      {...props}
      value={language}
      onChange={(event) => {
        const next = event.currentTarget.value;
        if (isLanguage(next)) setLanguage(next);
      }}
      data={Object.entries(LANGUAGES).map(([code, { label }]) => ({ value: code, label }))}
    />
  );
}
