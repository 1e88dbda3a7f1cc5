import { Alert, Button } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { describeError } from '../i18n/errors';
import { useI18n } from '../i18n/i18n';

/** A failed request in plain words, with a retry button when the caller can retry. */
export function ErrorAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }): ReactNode {
  const { t } = useI18n();
  return (
    <Alert color="red" variant="light" icon={<IconAlertTriangle aria-hidden />} title={t('error.title')}>
      {describeError(t, error)}
      {onRetry && (
        <Button variant="subtle" color="red" size="compact-sm" ml="sm" onClick={onRetry}>
          {t('common.retry')}
        </Button>
      )}
    </Alert>
  );
}
