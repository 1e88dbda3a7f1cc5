import type { ReactNode } from 'react';
import type { Broker } from '../../api/types';
import { ConfirmModal } from '../../components/confirm-modal';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import { brokersApi, useRefreshBrokers } from './brokers-api';

/** Removes an integration: Warden stops governing the broker, which keeps what was synced to it. */
export function DeleteBrokerDialog({ broker, onClose }: { broker: Broker; onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshBrokers();
  const name = { name: broker.name };
  return (
    <ConfirmModal
      title={t('brokers.delete.title', name)}
      message={t(
        broker.kind === 'mosquitto' ? 'brokers.delete.messageSync' : 'brokers.delete.messageHook',
        name,
      )}
      confirmLabel={t('brokers.delete.confirm')}
      onClose={onClose}
      onConfirm={async () => {
        await brokersApi.remove(broker.name);
        notify.success(t('brokers.delete.done', name));
        await refresh();
      }}
    />
  );
}
