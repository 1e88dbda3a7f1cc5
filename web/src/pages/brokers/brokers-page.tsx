import { Button, Center, Loader, Paper, Stack } from '@mantine/core';
import { IconPlus, IconServer2 } from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';
import type { Broker } from '../../api/types';
import { canWrite } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { PageHeader } from '../../components/page-header';
import { RefreshButton } from '../../components/refresh-button';
import { useI18n } from '../../i18n/i18n';
import { BrokerFormModal } from './broker-form-modal';
import { useBrokerList, useBrokerStatuses, useRefreshBrokers } from './brokers-api';
import { type BrokerAction, BrokersTable } from './brokers-table';
import { DeleteBrokerDialog } from './delete-broker-dialog';
import { SyncDialog } from './sync-dialog';

type BrokerDialog = { readonly kind: 'create' } | { readonly kind: BrokerAction; readonly broker: Broker };

function OpenDialog({ dialog, onClose }: { dialog: BrokerDialog; onClose: () => void }): ReactNode {
  switch (dialog.kind) {
    case 'create':
      return <BrokerFormModal broker={null} readOnly={false} onClose={onClose} />;
    case 'view':
    case 'edit':
      return <BrokerFormModal broker={dialog.broker} readOnly={dialog.kind === 'view'} onClose={onClose} />;
    case 'sync':
      return <SyncDialog broker={dialog.broker} onClose={onClose} />;
    case 'delete':
      return <DeleteBrokerDialog broker={dialog.broker} onClose={onClose} />;
  }
}

/**
 * External brokers Warden governs (docs/brokers.md): Mosquitto through dynamic security, EMQX / go-auth /
 * VerneMQ through their hooks; each with its live status, write-only secrets, and "Sync now" with a dry-run
 * diff.
 */
export function BrokersPage(): ReactNode {
  const { t } = useI18n();
  const canEdit = canWrite(useCurrentUser(), 'system_config');
  const brokers = useBrokerList();
  const statuses = useBrokerStatuses(brokers.data?.items ?? []);
  const refresh = useRefreshBrokers();
  const [dialog, setDialog] = useState<BrokerDialog | null>(null);

  return (
    <>
      <PageHeader
        title={t('brokers.title')}
        description={t('brokers.description')}
        actions={
          <>
            <RefreshButton onRefresh={() => void refresh()} refreshing={brokers.isFetching} />
            {canEdit && (
              <Button
                leftSection={<IconPlus size={16} aria-hidden />}
                onClick={() => setDialog({ kind: 'create' })}
              >
                {t('brokers.create')}
              </Button>
            )}
          </>
        }
      />
      <Paper withBorder radius="md" p="md">
        <Stack gap="xs">
          {brokers.isError && <ErrorAlert error={brokers.error} onRetry={() => void brokers.refetch()} />}
          {brokers.isPending && (
            <Center py="xl">
              <Loader aria-label={t('common.loading')} />
            </Center>
          )}
          {brokers.data &&
            (brokers.data.items.length === 0 ? (
              <EmptyState
                icon={IconServer2}
                title={t('brokers.empty.title')}
                hint={t('brokers.empty.hint')}
              />
            ) : (
              <BrokersTable
                brokers={brokers.data.items}
                statuses={statuses}
                canEdit={canEdit}
                onAction={(kind, broker) => setDialog({ kind, broker })}
              />
            ))}
        </Stack>
      </Paper>
      {dialog && <OpenDialog dialog={dialog} onClose={() => setDialog(null)} />}
    </>
  );
}
