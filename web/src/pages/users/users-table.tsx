import { Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { User } from '../../api/types';
import { TOGGLE_SCOPES } from '../../auth/permissions';
import { useI18n } from '../../i18n/i18n';
import type { ScopeDraftActions, ScopeDraftState } from './use-scope-drafts';
import type { UserAction } from './user-dialog';
import { UserRow } from './user-row';

export function UsersTable({
  me,
  users,
  canEdit,
  edited,
  edits,
  onAction,
}: {
  me: User;
  users: readonly User[];
  canEdit: boolean;
  edited: ScopeDraftState;
  edits: ScopeDraftActions;
  onAction: (action: UserAction, user: User) => void;
}): ReactNode {
  const { t } = useI18n();
  return (
    <Table.ScrollContainer minWidth={1080}>
      <Table verticalSpacing="sm" highlightOnHover data-testid="users-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('users.column.user')}</Table.Th>
            <Table.Th>{t('users.column.role')}</Table.Th>
            {TOGGLE_SCOPES.map((scope) => (
              <Table.Th key={scope} ta="center">
                <Text size="xs" fw={700} lh={1.2}>
                  {t(`scope.${scope}`)}
                </Text>
              </Table.Th>
            ))}
            <Table.Th>{t('users.column.status')}</Table.Th>
            <Table.Th>{t('users.column.mfa')}</Table.Th>
            <Table.Th>{t('users.column.lastLogin')}</Table.Th>
            <Table.Th ta="right">{t('users.column.actions')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {users.map((user) => (
            <UserRow
              key={user.username}
              me={me}
              user={user}
              canEdit={canEdit}
              draft={edited.drafts.get(user.username) ?? null}
              error={edited.errors.get(user.username)}
              saving={edited.saving.has(user.username)}
              edits={edits}
              onAction={onAction}
            />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
