import { Alert } from '@mantine/core';
import type { ReactNode } from 'react';
import { describeError } from '../i18n/errors';
import { useI18n } from '../i18n/i18n';

/**
 * Why an action failed, in plain words, announced to screen readers (`role="alert"`); `children` add what the
 * caller knows beyond the message (e.g. a broker's own cause).
 */
export function FailureAlert({
  error,
  values,
  testId,
  children,
}: {
  error: unknown;
  /** Filled into the message (`{username}` …). */
  values?: Record<string, string | number>;
  testId?: string;
  children?: ReactNode;
}): ReactNode {
  const { t } = useI18n();
  return (
    <Alert color="red" variant="light" role="alert" data-testid={testId}>
      {describeError(t, error, values)}
      {children}
    </Alert>
  );
}
