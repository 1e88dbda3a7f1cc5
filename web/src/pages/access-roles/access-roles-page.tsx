import { Button, Center, Loader, Paper, Stack } from '@mantine/core';
import { IconPlus, IconShieldLock } from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';
import type { AccessRole } from '../../api/types';
import { canWrite } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { PageHeader } from '../../components/page-header';
import { PaginationBar } from '../../components/pagination-bar';
import { RefreshButton } from '../../components/refresh-button';
import { useUrlFilters } from '../../components/use-url-filters';
import { useI18n } from '../../i18n/i18n';
import { AccessRoleFormModal } from './access-role-form-modal';
import { useAccessRoleList } from './access-roles-api';
import { type AccessRoleAction, AccessRolesTable } from './access-roles-table';
import { DeleteAccessRoleDialog } from './delete-access-role-dialog';
import { TestAccessPanel } from './test-access-panel';

type AccessRoleDialog =
  | { readonly kind: 'create' }
  | { readonly kind: AccessRoleAction; readonly role: AccessRole };

function OpenDialog({ dialog, onClose }: { dialog: AccessRoleDialog; onClose: () => void }): ReactNode {
  switch (dialog.kind) {
    case 'create':
      return <AccessRoleFormModal accessRole={null} readOnly={false} onClose={onClose} />;
    case 'view':
    case 'edit':
      return (
        <AccessRoleFormModal accessRole={dialog.role} readOnly={dialog.kind === 'view'} onClose={onClose} />
      );
    case 'delete':
      return <DeleteAccessRoleDialog accessRole={dialog.role} onClose={onClose} />;
  }
}

const NO_FILTERS = [] as const;

/**
 * MQTT access roles (docs/access-rules.md): ordered allow/deny rules on topic filters, and a decision tester.
 */
export function AccessRolesPage(): ReactNode {
  const { t } = useI18n();
  const canEdit = canWrite(useCurrentUser(), 'asset_management');
  const [filters, setFilters] = useUrlFilters(NO_FILTERS);
  const roles = useAccessRoleList(filters.page, filters.pageSize);
  const [dialog, setDialog] = useState<AccessRoleDialog | null>(null);

  const pagination = (position: 'top' | 'bottom') =>
    roles.data && (
      <PaginationBar
        position={position}
        page={filters.page}
        pageSize={filters.pageSize}
        total={roles.data.total}
        onPageChange={(page) => setFilters({ page })}
        onPageSizeChange={(pageSize) => setFilters({ pageSize })}
      />
    );

  return (
    <>
      <PageHeader
        title={t('accessRoles.title')}
        description={t('accessRoles.description')}
        actions={
          <>
            <RefreshButton onRefresh={() => void roles.refetch()} refreshing={roles.isFetching} />
            {canEdit && (
              <Button
                leftSection={<IconPlus size={16} aria-hidden />}
                onClick={() => setDialog({ kind: 'create' })}
              >
                {t('accessRoles.create')}
              </Button>
            )}
          </>
        }
      />
      <Stack gap="lg">
        <Paper withBorder radius="md" p="md">
          <Stack gap="xs">
            {roles.isError && <ErrorAlert error={roles.error} onRetry={() => void roles.refetch()} />}
            {roles.isPending && (
              <Center py="xl">
                <Loader aria-label={t('common.loading')} />
              </Center>
            )}
            {pagination('top')}
            {roles.data &&
              (roles.data.items.length === 0 ? (
                <EmptyState
                  icon={IconShieldLock}
                  title={t('accessRoles.empty.title')}
                  hint={t('accessRoles.empty.hint')}
                />
              ) : (
                <AccessRolesTable
                  roles={roles.data.items}
                  canEdit={canEdit}
                  onAction={(kind, role) => setDialog({ kind, role })}
                />
              ))}
            {pagination('bottom')}
          </Stack>
        </Paper>
        <TestAccessPanel />
      </Stack>
      {dialog && <OpenDialog dialog={dialog} onClose={() => setDialog(null)} />}
    </>
  );
}
