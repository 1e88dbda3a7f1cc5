import { Center, Group, Loader, Paper, Stack } from '@mantine/core';
import { IconDeviceDesktopOff, IconSearch } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api, unwrap } from '../../api/client';
import { canWrite } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { DebouncedTextInput } from '../../components/debounced-text-input';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { PageHeader } from '../../components/page-header';
import { PaginationBar } from '../../components/pagination-bar';
import { RefreshButton } from '../../components/refresh-button';
import { SessionsTable } from '../../components/sessions-table';
import { useEndSession } from '../../components/use-end-session';
import { useUrlFilters } from '../../components/use-url-filters';
import { useI18n } from '../../i18n/i18n';

const SESSIONS_KEY = ['sessions'] as const;
const FILTER_KEYS = ['username'] as const;

/** Every live session, with terminate (docs/authentication.md#sessions-api). */
export function SessionsPage(): ReactNode {
  const { t } = useI18n();
  const me = useCurrentUser();
  const [filters, setFilters] = useUrlFilters(FILTER_KEYS);
  const username = filters.values.username;
  const sessions = useQuery({
    queryKey: [...SESSIONS_KEY, filters],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/sessions', {
          params: {
            query: { ...(username ? { username } : {}), page: filters.page, pageSize: filters.pageSize },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const end = useEndSession(SESSIONS_KEY, (session) =>
    unwrap(api.DELETE('/api/v1/sessions/{id}', { params: { path: { id: session.id } } })),
  );
  const pagination = (position: 'top' | 'bottom') =>
    sessions.data && (
      <PaginationBar
        position={position}
        page={filters.page}
        pageSize={filters.pageSize}
        total={sessions.data.total}
        onPageChange={(page) => setFilters({ page })}
        onPageSizeChange={(pageSize) => setFilters({ pageSize })}
      />
    );

  return (
    <>
      <PageHeader title={t('sessions.title')} description={t('sessions.description')} />
      <Paper withBorder radius="md" p="md">
        <Stack gap="xs">
          <Group gap="sm" role="search">
            <DebouncedTextInput
              aria-label={t('sessions.filter.username')}
              placeholder={t('sessions.filter.username')}
              leftSection={<IconSearch size={16} aria-hidden />}
              value={username}
              onCommit={(value) => setFilters({ username: value }, { replace: true })}
              style={{ flex: '1 1 240px' }}
            />
            <RefreshButton onRefresh={() => void sessions.refetch()} refreshing={sessions.isFetching} />
          </Group>
          {sessions.isError && <ErrorAlert error={sessions.error} onRetry={() => void sessions.refetch()} />}
          {sessions.isPending && (
            <Center py="xl">
              <Loader aria-label={t('common.loading')} />
            </Center>
          )}
          {pagination('top')}
          {sessions.data &&
            (sessions.data.items.length === 0 ? (
              <EmptyState icon={IconDeviceDesktopOff} title={t('sessions.empty')} />
            ) : (
              <SessionsTable
                sessions={sessions.data.items}
                showUser
                canEnd={canWrite(me, 'user_management')}
                ending={end.isPending ? (end.variables?.id ?? null) : null}
                onEnd={(session) => end.mutate(session)}
              />
            ))}
          {pagination('bottom')}
        </Stack>
      </Paper>
    </>
  );
}
