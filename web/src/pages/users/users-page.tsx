import { Button, Center, Loader, Paper, Stack } from '@mantine/core';
import { IconPlus, IconUsers } from '@tabler/icons-react';
import { type ReactNode, useCallback, useState } from 'react';
import type { User } from '../../api/types';
import { canWrite } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { PageHeader } from '../../components/page-header';
import { PaginationBar } from '../../components/pagination-bar';
import { ChangePasswordModal } from '../../components/password/change-password-modal';
import { useI18n } from '../../i18n/i18n';
import { UserApiKeysModal } from '../api-keys/user-api-keys-modal';
import { RotateSecretModal } from './rotate-secret-modal';
import { useScopeDrafts } from './use-scope-drafts';
import { useUserFilters } from './use-user-filters';
import { DeleteUserDialog, UserConfirmDialog } from './user-confirm-dialogs';
import type { UserAction, UserDialog } from './user-dialog';
import { UserFormModal } from './user-form-modal';
import { useUserList } from './users-api';
import { UsersFilters } from './users-filters';
import { UsersTable } from './users-table';

function OpenDialog({ dialog, onClose }: { dialog: UserDialog; onClose: () => void }): ReactNode {
  const me = useCurrentUser();
  switch (dialog.kind) {
    case 'create':
      return <UserFormModal user={null} onClose={onClose} />;
    case 'edit':
      return <UserFormModal user={dialog.user} onClose={onClose} />;
    case 'password':
      return (
        <ChangePasswordModal
          user={dialog.user}
          own={dialog.user.username === me.username}
          onClose={onClose}
        />
      );
    case 'rotateSecret':
      return <RotateSecretModal user={dialog.user} onClose={onClose} />;
    case 'apiKeys':
      return <UserApiKeysModal user={dialog.user} onClose={onClose} />;
    case 'delete':
      return <DeleteUserDialog user={dialog.user} onClose={onClose} />;
    case 'deactivate':
    case 'reactivate':
    case 'resetMfa':
      return <UserConfirmDialog action={dialog.kind} user={dialog.user} onClose={onClose} />;
  }
}

/**
 * The user directory (docs/console.md): search, filters and paging in the URL, in-row permission toggles, row
 * actions.
 */
export function UsersPage(): ReactNode {
  const { t } = useI18n();
  const me = useCurrentUser();
  const canEdit = canWrite(me, 'user_management');
  const [filters, setFilters] = useUserFilters();
  const users = useUserList(filters);
  const [edited, edits] = useScopeDrafts();
  const [dialog, setDialog] = useState<UserDialog | null>(null);
  const openDialog = useCallback((kind: UserAction, user: User) => setDialog({ kind, user }), []);

  const pagination = (position: 'top' | 'bottom') =>
    users.data && (
      <PaginationBar
        position={position}
        page={filters.page}
        pageSize={filters.pageSize}
        total={users.data.total}
        onPageChange={(page) => setFilters({ page })}
        onPageSizeChange={(pageSize) => setFilters({ pageSize })}
      />
    );

  return (
    <>
      <PageHeader
        title={t('users.title')}
        description={t('users.description')}
        actions={
          canEdit && (
            <Button
              leftSection={<IconPlus size={16} aria-hidden />}
              onClick={() => setDialog({ kind: 'create' })}
            >
              {t('users.create')}
            </Button>
          )
        }
      />
      <Paper withBorder radius="md" p="md">
        <Stack gap="xs">
          <UsersFilters
            filters={filters}
            onChange={setFilters}
            onRefresh={() => void users.refetch()}
            refreshing={users.isFetching}
          />
          {users.isError && <ErrorAlert error={users.error} onRetry={() => void users.refetch()} />}
          {users.isPending && (
            <Center py="xl">
              <Loader aria-label={t('common.loading')} />
            </Center>
          )}
          {pagination('top')}
          {users.data &&
            (users.data.items.length === 0 ? (
              <EmptyState icon={IconUsers} title={t('users.empty.title')} hint={t('users.empty.hint')} />
            ) : (
              <UsersTable
                me={me}
                users={users.data.items}
                canEdit={canEdit}
                edited={edited}
                edits={edits}
                onAction={openDialog}
              />
            ))}
          {pagination('bottom')}
        </Stack>
      </Paper>
      {dialog && <OpenDialog dialog={dialog} onClose={() => setDialog(null)} />}
    </>
  );
}
