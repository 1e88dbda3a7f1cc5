import { Button, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useI18n } from '../i18n/i18n';

export function NotFound(): ReactNode {
  const { t } = useI18n();
  return (
    <Stack align="center" gap="sm" py={80}>
      <Title order={1} size="h2">
        {t('notFound.title')}
      </Title>
      <Text c="dimmed">{t('notFound.body')}</Text>
      <Button component={Link} to="/" variant="light">
        {t('notPermitted.home')}
      </Button>
    </Stack>
  );
}
