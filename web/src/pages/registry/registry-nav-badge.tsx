import { Badge } from '@mantine/core';
import type { ReactNode } from 'react';
import { useI18n } from '../../i18n/i18n';
import { useRegistryState } from './registry-api';

/** The navigation's count of requests waiting for a decision; nothing when none wait. */
export function RegistryNavBadge(): ReactNode {
  const { t } = useI18n();
  const count = useRegistryState().data?.pendingCount ?? 0;
  if (count === 0) return null;
  return (
    <Badge
      size="sm"
      color="orange"
      aria-label={t('registry.nav.pending', { count })}
      data-testid="registry-pending"
    >
      {count}
    </Badge>
  );
}
