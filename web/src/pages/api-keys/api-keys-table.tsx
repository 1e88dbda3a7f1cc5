import { Badge, Table, Text } from '@mantine/core';
import { IconPlayerPause, IconPlayerPlay, IconTrash } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { ApiKey } from '../../api/types';
import { RelativeTime } from '../../components/relative-time';
import { RoleBadge } from '../../components/role-badge';
import { type RowAction, RowActions } from '../../components/row-actions';
import { formatDateTime, formatRelativeTime } from '../../i18n/format';
import { useI18n } from '../../i18n/i18n';

export type ApiKeyAction = 'enable' | 'disable' | 'delete';

/** When a key stops, in words: "in 3 days", "expired", "never". */
function Expiry({ iso }: { iso: string | null }): ReactNode {
  const { t, language } = useI18n();
  if (iso === null) return <Text size="sm">{t('apiKeys.expires.never')}</Text>;
  const past = Date.parse(iso) <= Date.now();
  return (
    <Text
      size="sm"
      component="time"
      dateTime={iso}
      data-hint={formatDateTime(language, iso)}
      c={past ? 'red' : undefined}
    >
      {past ? t('apiKeys.expires.expired') : formatRelativeTime(language, iso)}
    </Text>
  );
}

/** API keys with owner, role, expiry and last use; `canEdit` adds enable/disable and delete. */
export function ApiKeysTable({
  keys,
  canEdit,
  showOwner = true,
  onAction,
}: {
  keys: readonly ApiKey[];
  canEdit: boolean;
  showOwner?: boolean;
  onAction: (action: ApiKeyAction, key: ApiKey) => void;
}): ReactNode {
  const { t } = useI18n();
  const actionsOf = (key: ApiKey): RowAction<ApiKeyAction>[] => [
    key.enabled
      ? { action: 'disable', icon: IconPlayerPause, label: t('apiKeys.row.disable') }
      : { action: 'enable', icon: IconPlayerPlay, label: t('apiKeys.row.enable') },
    { action: 'delete', icon: IconTrash, color: 'red', label: t('apiKeys.row.delete') },
  ];
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="sm" highlightOnHover data-testid="api-keys-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('apiKeys.column.name')}</Table.Th>
            {showOwner && <Table.Th>{t('apiKeys.column.owner')}</Table.Th>}
            <Table.Th>{t('apiKeys.column.role')}</Table.Th>
            <Table.Th>{t('apiKeys.column.expires')}</Table.Th>
            <Table.Th>{t('apiKeys.column.lastUsed')}</Table.Th>
            <Table.Th>{t('apiKeys.column.status')}</Table.Th>
            {canEdit && <Table.Th ta="right">{t('apiKeys.column.actions')}</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {keys.map((key) => (
            <Table.Tr key={key.id} data-api-key={key.name}>
              <Table.Td maw={320}>
                <Text fw={600} size="sm">
                  {key.name}
                </Text>
                {key.description && (
                  <Text size="xs" c="dimmed" truncate="end">
                    {key.description}
                  </Text>
                )}
              </Table.Td>
              {showOwner && <Table.Td>{key.owner}</Table.Td>}
              <Table.Td>
                <RoleBadge role={key.role} />
              </Table.Td>
              <Table.Td>
                <Expiry iso={key.expiresAt} />
              </Table.Td>
              <Table.Td data-testid="last-used">
                <RelativeTime iso={key.lastUsedAt} never={t('apiKeys.lastUsed.never')} />
              </Table.Td>
              <Table.Td>
                <Badge variant="light" color={key.enabled ? 'teal' : 'gray'} data-testid="key-status">
                  {t(key.enabled ? 'apiKeys.status.enabled' : 'apiKeys.status.disabled')}
                </Badge>
              </Table.Td>
              {canEdit && (
                <Table.Td>
                  <RowActions
                    actions={actionsOf(key)}
                    subject={key.name}
                    onAction={(action) => onAction(action, key)}
                  />
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
