import { Button, Stack, Text, Title } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useI18n } from '../i18n/i18n';

export function NotPermitted(): ReactNode {
  const { t } = useI18n();
  return (
    <Stack align="center" gap="sm" py={80} data-testid="not-permitted">
      <IconLock size={48} stroke={1.5} aria-hidden />
      <Title order={1} size="h2">
        {t('notPermitted.title')}
      </Title>
      <Text c="dimmed" ta="center" maw={480}>
        {t('notPermitted.body')}
      </Text>
      <Button component={Link} to="/" variant="light">
        {t('notPermitted.home')}
      </Button>
    </Stack>
  );
}
