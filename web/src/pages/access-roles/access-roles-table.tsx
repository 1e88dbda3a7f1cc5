import { Table, Text } from '@mantine/core';
import { IconEye, IconPencil, IconTrash } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { AccessRole } from '../../api/types';
import { RelativeTime } from '../../components/relative-time';
import { type RowAction, RowActions } from '../../components/row-actions';
import { useI18n } from '../../i18n/i18n';

export type AccessRoleAction = 'view' | 'edit' | 'delete';

/** Access roles with their rule and holder counts; editors get edit and delete, everyone else view. */
export function AccessRolesTable({
  roles,
  canEdit,
  onAction,
}: {
  roles: readonly AccessRole[];
  canEdit: boolean;
  onAction: (action: AccessRoleAction, role: AccessRole) => void;
}): ReactNode {
  const { t } = useI18n();
  const rowAction = (
    action: AccessRoleAction,
    icon: RowAction<AccessRoleAction>['icon'],
    color = 'gray',
  ): RowAction<AccessRoleAction> => ({ action, icon, color, label: t(`accessRoles.row.${action}`) });
  const actions = canEdit
    ? [rowAction('edit', IconPencil), rowAction('delete', IconTrash, 'red')]
    : [rowAction('view', IconEye)];
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="sm" highlightOnHover data-testid="access-roles-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('accessRoles.column.name')}</Table.Th>
            <Table.Th>{t('accessRoles.column.description')}</Table.Th>
            <Table.Th ta="right">{t('accessRoles.column.rules')}</Table.Th>
            <Table.Th ta="right">{t('accessRoles.column.holders')}</Table.Th>
            <Table.Th>{t('accessRoles.column.updated')}</Table.Th>
            <Table.Th ta="right">{t('accessRoles.column.actions')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {roles.map((role) => (
            <Table.Tr key={role.name} data-access-role={role.name}>
              <Table.Td>
                <Text fw={600} size="sm">
                  {role.name}
                </Text>
              </Table.Td>
              <Table.Td maw={360}>
                <Text size="sm" truncate="end">
                  {role.description}
                </Text>
              </Table.Td>
              <Table.Td ta="right" data-testid="rule-count">
                {role.rules.length}
              </Table.Td>
              <Table.Td ta="right" data-testid="holder-count">
                {role.userCount}
              </Table.Td>
              <Table.Td>
                <RelativeTime iso={role.updatedAt} />
              </Table.Td>
              <Table.Td>
                <RowActions
                  actions={actions}
                  subject={role.name}
                  onAction={(action) => onAction(action, role)}
                />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
