import { Badge, Group, Loader, Stack, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { Broker, BrokerStatus } from '../../api/types';
import { RelativeTime } from '../../components/relative-time';
import { useI18n } from '../../i18n/i18n';
import type { MessageKey } from '../../i18n/messages.en';

/** How an integration is doing, in one word and a colour. */
function stateOf(broker: Broker, status: BrokerStatus): { key: MessageKey; color: string } {
  if (!broker.enabled) return { key: 'brokers.state.disabled', color: 'gray' };
  // A sync integration runs on the instance holding the duties; this one only names it.
  if (!status.running && status.duty && !status.duty.here)
    return { key: 'brokers.state.elsewhere', color: 'blue' };
  if (!status.running) return { key: 'brokers.state.notRunning', color: 'yellow' };
  if (status.connected === true) return { key: 'brokers.state.connected', color: 'teal' };
  if (status.connected === false) return { key: 'brokers.state.disconnected', color: 'red' };
  return { key: 'brokers.state.listening', color: 'blue' };
}

/** The state badge and, when the last attempt failed, what failed and when. */
export function BrokerState({ broker, status }: { broker: Broker; status?: BrokerStatus }): ReactNode {
  const { t } = useI18n();
  if (!status) return <Loader size="xs" aria-label={t('common.loading')} />;
  const state = stateOf(broker, status);
  return (
    <Stack gap={2} data-testid="broker-state" data-state={state.key.split('.').pop()}>
      <Badge color={state.color} variant="light">
        {t(state.key)}
      </Badge>
      {status.duty && (
        <Text size="xs" c="dimmed" data-testid="broker-duty">
          {t(status.duty.here ? 'brokers.duty.here' : 'brokers.duty.elsewhere', {
            instance: status.duty.instance,
          })}
        </Text>
      )}
      {status.lastError && (
        <Text size="xs" c="red" maw={280} lineClamp={2} data-testid="broker-last-error">
          {status.lastError}
        </Text>
      )}
    </Stack>
  );
}

/** The end of the last full sync and how many changes it applied. */
export function LastSync({ status }: { status?: BrokerStatus }): ReactNode {
  const { t } = useI18n();
  if (!status) return null;
  return (
    <Stack gap={0}>
      <RelativeTime iso={status.lastSyncAt} never={t('brokers.lastSync.never')} />
      {status.lastSyncChanges !== null && (
        <Text size="xs" c="dimmed">
          {t('brokers.lastSync.changes', { count: status.lastSyncChanges })}
        </Text>
      )}
    </Stack>
  );
}

/** Mosquitto: users the broker has no password for yet; hooks: the traffic since the server started. */
export function BrokerActivity({ status }: { status?: BrokerStatus }): ReactNode {
  const { t } = useI18n();
  if (!status) return null;
  const pending = status.pendingPasswords;
  return (
    <Stack gap={2}>
      {pending && pending.count === 0 && pending.queued === 0 && (
        <Text size="sm">{t('brokers.activity.passwordsComplete')}</Text>
      )}
      {pending && pending.count > 0 && (
        <Group gap={4} wrap="nowrap" data-hint={pending.usernames.join(', ')}>
          <IconAlertTriangle size={16} color="var(--mantine-color-orange-filled)" aria-hidden />
          <Text size="sm" data-testid="pending-passwords">
            {t('brokers.activity.pendingPasswords', { count: pending.count })}
          </Text>
        </Group>
      )}
      {pending && pending.queued > 0 && (
        <Text size="xs" c="dimmed">
          {t('brokers.activity.queuedPasswords', { count: pending.queued })}
        </Text>
      )}
      {status.hooks && (
        <Group gap={4} wrap="nowrap">
          <Text size="sm" data-testid="hook-requests">
            {t('brokers.activity.hookRequests', { count: status.hooks.requests })}
          </Text>
          {status.hooks.lastRequestAt && (
            <Text size="xs" c="dimmed" component="span">
              · <RelativeTime iso={status.hooks.lastRequestAt} />
            </Text>
          )}
        </Group>
      )}
    </Stack>
  );
}
