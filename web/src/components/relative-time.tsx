import { Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { formatDateTime, formatRelativeTime } from '../i18n/format';
import { useI18n } from '../i18n/i18n';

/** "2 min. ago" with the exact time as its hint; `never` when there is no time. */
export function RelativeTime({ iso, never = '' }: { iso: string | null; never?: string }): ReactNode {
  const { language } = useI18n();
  if (iso === null) return <Text size="sm">{never}</Text>;
  return (
    <Text size="sm" component="time" dateTime={iso} data-hint={formatDateTime(language, iso)}>
      {formatRelativeTime(language, iso)}
    </Text>
  );
}
