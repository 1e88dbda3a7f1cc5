import { Alert, Button, Code, Group, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/i18n';
import { CopyTextButton } from './copy-text-button';

/**
 * A secret Warden generated, shown exactly once (the server keeps only a hash of it): the value, a copy button,
 * and what to do with it; `note` says what happened to the previous one, if anything. A user's secret by
 * default; `title` and `message` word it for other secrets (scrape tokens).
 */
export function SecretShownOnce({
  secret,
  username = '',
  title,
  message,
  note,
  onDone,
}: {
  secret: string;
  username?: string;
  title?: string;
  message?: string;
  note?: string;
  onDone: () => void;
}): ReactNode {
  const { t } = useI18n();
  return (
    <Stack gap="md">
      <Alert color="yellow" variant="light" title={title ?? t('users.secret.title', { username })}>
        {message ?? t('users.secret.once', { username })}
      </Alert>
      <Code block fz="md" data-testid="secret-shown-once">
        {secret}
      </Code>
      {note && <Text size="sm">{note}</Text>}
      <Group justify="space-between" gap="sm">
        <CopyTextButton value={secret} label={t('users.secret.copy')} variant="light" />
        <Button onClick={onDone}>{t('users.secret.done')}</Button>
      </Group>
    </Stack>
  );
}
