import { Badge, Table, Text } from '@mantine/core';
import { IconEye, IconPencil, IconRefresh, IconTrash } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { Broker, BrokerStatus } from '../../api/types';
import { type RowAction, RowActions } from '../../components/row-actions';
import { useI18n } from '../../i18n/i18n';
import { BrokerActivity, BrokerState, LastSync } from './broker-status';

export type BrokerAction = 'view' | 'edit' | 'sync' | 'delete';

const ACTION_ICONS = { view: IconEye, edit: IconPencil, sync: IconRefresh, delete: IconTrash } as const;
const EDITOR_ACTIONS: readonly BrokerAction[] = ['edit', 'sync', 'delete'];
const READER_ACTIONS: readonly BrokerAction[] = ['view'];

/** The integrations with their live status; editors get edit, sync and delete, everyone else view. */
export function BrokersTable({
  brokers,
  statuses,
  canEdit,
  onAction,
}: {
  brokers: readonly Broker[];
  statuses: ReadonlyMap<string, BrokerStatus>;
  canEdit: boolean;
  onAction: (action: BrokerAction, broker: Broker) => void;
}): ReactNode {
  const { t } = useI18n();
  const actions: RowAction<BrokerAction>[] = (canEdit ? EDITOR_ACTIONS : READER_ACTIONS).map((action) => ({
    action,
    icon: ACTION_ICONS[action],
    label: t(`brokers.row.${action}`),
    color: action === 'delete' ? 'red' : 'gray',
  }));
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table verticalSpacing="sm" highlightOnHover data-testid="brokers-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('brokers.column.name')}</Table.Th>
            <Table.Th>{t('brokers.column.kind')}</Table.Th>
            <Table.Th>{t('brokers.column.state')}</Table.Th>
            <Table.Th>{t('brokers.column.lastSync')}</Table.Th>
            <Table.Th>{t('brokers.column.activity')}</Table.Th>
            <Table.Th ta="right">{t('brokers.column.actions')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {brokers.map((broker) => {
            const status = statuses.get(broker.name);
            return (
              <Table.Tr key={broker.name} data-broker={broker.name}>
                <Table.Td>
                  <Text fw={600} size="sm">
                    {broker.name}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge variant="outline" color="gray">
                    {t(`brokers.kind.${broker.kind}`)}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <BrokerState broker={broker} status={status} />
                </Table.Td>
                <Table.Td>
                  <LastSync status={status} />
                </Table.Td>
                <Table.Td>
                  <BrokerActivity status={status} />
                </Table.Td>
                <Table.Td>
                  <RowActions
                    actions={actions}
                    subject={broker.name}
                    onAction={(action) => onAction(action, broker)}
                  />
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
