import { Alert, Badge, Button, Center, Group, List, Loader, Stack, Table, Text } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ApiError } from '../../api/client';
import type { Broker, SyncReport } from '../../api/types';
import { Dialog } from '../../components/dialog';
import { FailureAlert } from '../../components/failure-alert';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import { brokersApi, useRefreshBrokers } from './brokers-api';

const ACTION_COLORS: Readonly<Record<string, string>> = {
  create: 'teal',
  enable: 'teal',
  update: 'blue',
  purge: 'blue',
  delete: 'red',
  disable: 'orange',
  kick: 'orange',
};

/** A failure in the console's words; for an unreachable broker also the broker's own message (the cause). */
function SyncError({ error }: { error: unknown }): ReactNode {
  return (
    <FailureAlert error={error}>
      {error instanceof ApiError && error.code === 'broker.unreachable' && (
        <Text size="xs" c="dimmed" mt={4} data-testid="sync-cause">
          {error.message}
        </Text>
      )}
    </FailureAlert>
  );
}

function ChangesTable({ report }: { report: SyncReport }): ReactNode {
  const { t } = useI18n();
  if (report.changes.length === 0)
    return (
      <Text size="sm" data-testid="sync-in-step">
        {t('brokers.sync.inStep')}
      </Text>
    );
  return (
    <Table.ScrollContainer minWidth={560} mah={360}>
      <Table verticalSpacing={4} data-testid="sync-changes" stickyHeader>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('brokers.sync.column.action')}</Table.Th>
            <Table.Th>{t('brokers.sync.column.target')}</Table.Th>
            <Table.Th>{t('brokers.sync.column.name')}</Table.Th>
            <Table.Th>{t('brokers.sync.column.detail')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {report.changes.map((change, index) => (
            // Changes have no identity of their own; the report is never reordered.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above
            <Table.Tr key={index}>
              <Table.Td>
                <Badge variant="light" color={ACTION_COLORS[change.action] ?? 'gray'}>
                  {change.action}
                </Badge>
              </Table.Td>
              <Table.Td>{change.target}</Table.Td>
              <Table.Td>
                <Text size="sm" fw={500}>
                  {change.name}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
                  {change.detail}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/**
 * "Sync now": first a dry run shows what a full reconcile would change in the broker, then Apply runs it. The
 * dry run is always fresh (never cached): the broker may have changed by itself.
 */
export function SyncDialog({ broker, onClose }: { broker: Broker; onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshBrokers();
  const preview = useQuery({
    // Outside the page's ['brokers'] key: refreshing the list must not re-run (and re-audit) a dry run.
    queryKey: ['broker-dry-run', broker.name],
    queryFn: () => brokersApi.sync(broker.name, true),
    gcTime: 0,
    retry: false,
  });
  const apply = useMutation({
    mutationFn: () => brokersApi.sync(broker.name, false),
    onSuccess: async (report) => {
      notify.success(t('brokers.sync.done', { name: broker.name, count: report.changes.length }));
      onClose();
      await refresh();
    },
  });
  const report = preview.data;
  return (
    <Dialog onClose={onClose} title={t('brokers.sync.title', { name: broker.name })} size={900}>
      <Stack gap="md">
        <Text size="sm" c="dimmed">
          {t('brokers.sync.description')}
        </Text>
        {preview.isPending && (
          <Center py="lg">
            <Loader aria-label={t('brokers.sync.previewing')} />
          </Center>
        )}
        {preview.isError && <SyncError error={preview.error} />}
        {report && (
          <>
            <Text size="sm" fw={500} data-testid="sync-summary">
              {t('brokers.sync.summary', { count: report.changes.length })}
            </Text>
            <ChangesTable report={report} />
            {report.warnings.length > 0 && (
              <Alert color="yellow" variant="light" title={t('brokers.sync.warnings')}>
                <List size="sm" data-testid="sync-warnings">
                  {report.warnings.map((warning) => (
                    <List.Item key={warning}>{warning}</List.Item>
                  ))}
                </List>
              </Alert>
            )}
          </>
        )}
        {apply.isError && <SyncError error={apply.error} />}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onClose}>
            {t('common.cancel')}
          </Button>
          <Button
            variant="default"
            onClick={() => void preview.refetch()}
            loading={preview.isFetching && !preview.isPending}
            disabled={preview.isPending}
          >
            {t('brokers.sync.again')}
          </Button>
          <Button onClick={() => apply.mutate()} loading={apply.isPending} disabled={!report}>
            {t('brokers.sync.apply')}
          </Button>
        </Group>
      </Stack>
    </Dialog>
  );
}
