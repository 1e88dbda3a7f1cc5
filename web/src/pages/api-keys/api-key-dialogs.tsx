import type { ReactNode } from 'react';
import type { ApiKey } from '../../api/types';
import { ConfirmModal } from '../../components/confirm-modal';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import { apiKeysApi, useRefreshApiKeys } from './api-keys-api';
import type { ApiKeyAction } from './api-keys-table';

/** Confirms enabling, disabling or deleting a key; each applies at the key's next request. */
export function ApiKeyActionDialog({
  action,
  apiKey,
  onClose,
}: {
  action: ApiKeyAction;
  apiKey: ApiKey;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshApiKeys();
  const name = { name: apiKey.name, owner: apiKey.owner };
  return (
    <ConfirmModal
      title={t(`apiKeys.${action}.title`, name)}
      message={t(`apiKeys.${action}.message`, name)}
      confirmLabel={t(`apiKeys.${action}.confirm`)}
      color={action === 'enable' ? 'teal' : 'red'}
      onClose={onClose}
      onConfirm={async () => {
        if (action === 'delete') await apiKeysApi.remove(apiKey.id);
        else await apiKeysApi.update(apiKey.id, { enabled: action === 'enable' });
        notify.success(t(`apiKeys.${action}.done`, name));
        await refresh();
      }}
    />
  );
}
