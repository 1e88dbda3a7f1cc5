import { Checkbox, PasswordInput, Stack } from '@mantine/core';
import type { ReactNode } from 'react';
import { useI18n } from '../../i18n/i18n';
import type { SecretDraft } from './broker-draft';

/**
 * A write-only secret. The stored value is never sent to the browser, so the field says whether one is set
 * and stays empty: typing replaces it, leaving it empty keeps it, and "Remove" (for optional secrets) deletes
 * it on save.
 */
export function SecretField({
  label,
  description,
  isSet,
  clearable,
  draft,
  onChange,
  error,
  readOnly,
}: {
  label: string;
  description?: string;
  isSet: boolean;
  clearable: boolean;
  draft: SecretDraft;
  onChange: (draft: SecretDraft) => void;
  error?: string;
  readOnly: boolean;
}): ReactNode {
  const { t } = useI18n();
  const state = isSet ? t('brokers.secret.stored') : t('brokers.secret.notSet');
  return (
    <Stack gap={4}>
      <PasswordInput
        label={label}
        description={description ? `${description} · ${state}` : state}
        placeholder={isSet && !readOnly ? t('brokers.secret.keepPlaceholder') : undefined}
        value={draft.value}
        onChange={(event) => onChange({ value: event.currentTarget.value, remove: false })}
        disabled={readOnly || draft.remove}
        error={error}
        autoComplete="new-password"
        visibilityToggleButtonProps={{
          'aria-label': t('brokers.secret.toggle', { label }),
        }}
      />
      {clearable && isSet && !readOnly && (
        <Checkbox
          size="xs"
          label={t('brokers.secret.remove', { label })}
          checked={draft.remove}
          onChange={(event) => onChange({ value: '', remove: event.currentTarget.checked })}
        />
      )}
    </Stack>
  );
}
