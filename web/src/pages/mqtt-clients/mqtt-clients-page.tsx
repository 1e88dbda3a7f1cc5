import { Center, Group, Loader, Paper, Stack } from '@mantine/core';
import { IconPlugConnectedX, IconSearch } from '@tabler/icons-react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api, unwrap } from '../../api/client';
import type { MqttClient } from '../../api/types';
import { canWrite } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { DebouncedTextInput } from '../../components/debounced-text-input';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { useNotify } from '../../components/notify';
import { PageHeader } from '../../components/page-header';
import { PaginationBar } from '../../components/pagination-bar';
import { RefreshButton } from '../../components/refresh-button';
import { useUrlFilters } from '../../components/use-url-filters';
import { describeError } from '../../i18n/errors';
import { useI18n } from '../../i18n/i18n';
import { MqttClientsTable } from './mqtt-clients-table';

const MQTT_CLIENTS_KEY = ['mqtt-clients'] as const;
const FILTER_KEYS = ['username'] as const;

/** Disconnects a client from the embedded broker and refreshes the list. */
function useDisconnect() {
  const { t } = useI18n();
  const notify = useNotify();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (client: MqttClient) =>
      unwrap(
        api.DELETE('/api/v1/mqtt/clients/{clientId}', { params: { path: { clientId: client.clientId } } }),
      ),
    onSuccess: async (_result, client) => {
      notify.success(t('mqttClients.disconnected', { clientId: client.clientId }));
      await queryClient.invalidateQueries({ queryKey: MQTT_CLIENTS_KEY });
    },
    onError: (error) => notify.failure(describeError(t, error)),
  });
}

/** Clients connected to the embedded MQTT broker, with disconnect. */
export function MqttClientsPage(): ReactNode {
  const { t } = useI18n();
  const canDisconnect = canWrite(useCurrentUser(), 'asset_management');
  const [filters, setFilters] = useUrlFilters(FILTER_KEYS);
  const username = filters.values.username;
  const clients = useQuery({
    queryKey: [...MQTT_CLIENTS_KEY, filters],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/mqtt/clients', {
          params: {
            query: { ...(username ? { username } : {}), page: filters.page, pageSize: filters.pageSize },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const disconnect = useDisconnect();
  const pagination = (position: 'top' | 'bottom') =>
    clients.data && (
      <PaginationBar
        position={position}
        page={filters.page}
        pageSize={filters.pageSize}
        total={clients.data.total}
        onPageChange={(page) => setFilters({ page })}
        onPageSizeChange={(pageSize) => setFilters({ pageSize })}
      />
    );

  return (
    <>
      <PageHeader title={t('mqttClients.title')} description={t('mqttClients.description')} />
      <Paper withBorder radius="md" p="md">
        <Stack gap="xs">
          <Group gap="sm" role="search">
            <DebouncedTextInput
              aria-label={t('mqttClients.filter.username')}
              placeholder={t('mqttClients.filter.username')}
              leftSection={<IconSearch size={16} aria-hidden />}
              value={username}
              onCommit={(value) => setFilters({ username: value }, { replace: true })}
              style={{ flex: '1 1 240px' }}
            />
            <RefreshButton onRefresh={() => void clients.refetch()} refreshing={clients.isFetching} />
          </Group>
          {clients.isError && <ErrorAlert error={clients.error} onRetry={() => void clients.refetch()} />}
          {clients.isPending && (
            <Center py="xl">
              <Loader aria-label={t('common.loading')} />
            </Center>
          )}
          {pagination('top')}
          {clients.data &&
            (clients.data.items.length === 0 ? (
              <EmptyState icon={IconPlugConnectedX} title={t('mqttClients.empty')} />
            ) : (
              <MqttClientsTable
                clients={clients.data.items}
                canDisconnect={canDisconnect}
                disconnecting={disconnect.isPending ? (disconnect.variables?.clientId ?? null) : null}
                onDisconnect={(client) => disconnect.mutate(client)}
              />
            ))}
          {pagination('bottom')}
        </Stack>
      </Paper>
    </>
  );
}
