import { ActionIcon } from '@mantine/core';
import { IconRefresh } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/i18n';

/** Re-queries a list; spins while the list is loading. */
export function RefreshButton({
  onRefresh,
  refreshing,
}: {
  onRefresh: () => void;
  refreshing: boolean;
}): ReactNode {
  const { t } = useI18n();
  return (
    <ActionIcon
      variant="default"
      size="lg"
      onClick={onRefresh}
      loading={refreshing}
      aria-label={t('common.refresh')}
      data-hint={t('common.refresh')}
    >
      <IconRefresh size={18} aria-hidden />
    </ActionIcon>
  );
}
