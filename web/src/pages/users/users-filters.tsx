import { Checkbox, Group, NativeSelect } from '@mantine/core';
import { IconSearch } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { ROLES, type Role } from '../../auth/permissions';
import { DebouncedTextInput } from '../../components/debounced-text-input';
import { RefreshButton } from '../../components/refresh-button';
import { useI18n } from '../../i18n/i18n';
import type { UserFilters } from './use-user-filters';

/** Seed 004's filter row: search, role, "Show inactive", refresh. */
export function UsersFilters({
  filters,
  onChange,
  onRefresh,
  refreshing,
}: {
  filters: UserFilters;
  onChange: (change: Partial<UserFilters>) => void;
  onRefresh: () => void;
  refreshing: boolean;
}): ReactNode {
  const { t } = useI18n();

  return (
    <Group gap="sm" wrap="wrap" role="search">
      <DebouncedTextInput
        placeholder={t('users.search.placeholder')}
        aria-label={t('users.search.label')}
        leftSection={<IconSearch size={16} aria-hidden />}
        value={filters.search}
        onCommit={(search) => onChange({ search })}
        type="search"
        style={{ flex: '1 1 240px' }}
        maxLength={100}
      />
      <NativeSelect
        aria-label={t('users.roleFilter.label')}
        value={filters.role ?? ''}
        onChange={(event) => {
          const value = event.currentTarget.value;
          onChange({ role: ROLES.find((role): role is Role => role === value) ?? null });
        }}
        data={[
          { value: '', label: t('users.roleFilter.all') },
          ...ROLES.slice()
            .reverse()
            .map((role) => ({ value: role, label: t(`role.${role}`) })),
        ]}
      />
      <Checkbox
        label={t('users.showInactive')}
        checked={filters.includeInactive}
        onChange={(event) => onChange({ includeInactive: event.currentTarget.checked })}
      />
      <RefreshButton onRefresh={onRefresh} refreshing={refreshing} />
    </Group>
  );
}
