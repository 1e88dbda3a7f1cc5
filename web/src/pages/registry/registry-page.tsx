import { Center, Loader, Paper, Stack, Text } from '@mantine/core';
import { useIsFetching } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { canWrite } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { ErrorAlert } from '../../components/error-alert';
import { PageHeader } from '../../components/page-header';
import { RefreshButton } from '../../components/refresh-button';
import { useI18n } from '../../i18n/i18n';
import { EnrolmentTokens } from './enrolment-tokens';
import { PendingRequests } from './pending-requests';
import { useRefreshRegistry, useRegistryState } from './registry-api';
import { RegistryLockPanel } from './registry-lock-panel';

/**
 * The device client registry (docs/registry.md): open it for a while or hand out enrolment tokens, then approve
 * or reject what devices ask for. An approved device may do nothing until it has access roles.
 */
export function RegistryPage(): ReactNode {
  const { t } = useI18n();
  const canEdit = canWrite(useCurrentUser(), 'asset_management');
  const state = useRegistryState();
  const refresh = useRefreshRegistry();
  const fetching = useIsFetching({ queryKey: ['registry'] }) > 0;
  return (
    <>
      <PageHeader
        title={t('registry.title')}
        description={t('registry.description')}
        actions={<RefreshButton onRefresh={() => void refresh()} refreshing={fetching} />}
      />
      <Stack gap="lg">
        <Paper withBorder radius="md" p="md">
          {state.isError && <ErrorAlert error={state.error} onRetry={() => void state.refetch()} />}
          {state.isPending && (
            <Center py="md">
              <Loader aria-label={t('common.loading')} />
            </Center>
          )}
          {state.data && (
            <RegistryLockPanel state={state.data} readAt={state.dataUpdatedAt} canEdit={canEdit} />
          )}
        </Paper>
        <Paper withBorder radius="md" p="md">
          <PendingRequests canEdit={canEdit} />
          {state.data && (
            <Text size="xs" c="dimmed" mt="xs">
              {t('registry.limits', {
                maxPending: state.data.limits.maxPending,
                hours: state.data.limits.requestExpiryHours,
              })}
            </Text>
          )}
        </Paper>
        <Paper withBorder radius="md" p="md">
          <EnrolmentTokens canEdit={canEdit} />
        </Paper>
      </Stack>
    </>
  );
}
