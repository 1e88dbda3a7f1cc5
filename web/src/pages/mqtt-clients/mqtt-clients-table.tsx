import { Badge, Table, Text } from '@mantine/core';
import { IconPlugX } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { MqttClient } from '../../api/types';
import { RelativeTime } from '../../components/relative-time';
import { RowEndButton } from '../../components/row-end-button';
import { useI18n } from '../../i18n/i18n';

export function MqttClientsTable({
  clients,
  canDisconnect,
  disconnecting,
  onDisconnect,
}: {
  clients: readonly MqttClient[];
  canDisconnect: boolean;
  /** The client being disconnected right now, if any. */
  disconnecting: string | null;
  onDisconnect: (client: MqttClient) => void;
}): ReactNode {
  const { t } = useI18n();
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="sm" highlightOnHover data-testid="mqtt-clients-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('mqttClients.column.clientId')}</Table.Th>
            <Table.Th>{t('mqttClients.column.username')}</Table.Th>
            <Table.Th>{t('mqttClients.column.ip')}</Table.Th>
            <Table.Th>{t('mqttClients.column.listener')}</Table.Th>
            <Table.Th ta="right">{t('mqttClients.column.subscriptions')}</Table.Th>
            <Table.Th>{t('mqttClients.column.connectedSince')}</Table.Th>
            {canDisconnect && <Table.Th ta="right">{t('mqttClients.column.actions')}</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {clients.map((client) => (
            <Table.Tr key={client.clientId} data-client-id={client.clientId}>
              <Table.Td>
                <Text size="sm" fw={600} ff="monospace">
                  {client.clientId}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{client.username}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{client.ip}</Text>
              </Table.Td>
              <Table.Td>
                <Badge variant="light" color={client.listener === 'mqtts' ? 'teal' : 'gray'} size="sm">
                  {client.listener}
                </Badge>
              </Table.Td>
              <Table.Td ta="right" data-hint={client.subscriptions.join(', ') || undefined}>
                {client.subscriptions.length}
              </Table.Td>
              <Table.Td>
                <RelativeTime iso={client.connectedAt} />
              </Table.Td>
              {canDisconnect && (
                <RowEndButton
                  icon={IconPlugX}
                  label={t('mqttClients.disconnect')}
                  ariaLabel={t('mqttClients.disconnectFor', { clientId: client.clientId })}
                  loading={disconnecting === client.clientId}
                  onClick={() => onDisconnect(client)}
                />
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
