import { Button, Paper } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useIsFetching } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { canWrite } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { PageHeader } from '../../components/page-header';
import { RefreshButton } from '../../components/refresh-button';
import { useI18n } from '../../i18n/i18n';
import { ApiKeyFormModal } from './api-key-form-modal';
import { useRefreshApiKeys } from './api-keys-api';
import { ApiKeysPanel } from './api-keys-panel';

/** API keys (docs/api-keys.md): who can reach the API with which rights, until when, and when last. */
export function ApiKeysPage(): ReactNode {
  const { t } = useI18n();
  const canEdit = canWrite(useCurrentUser(), 'api_key_management');
  const refresh = useRefreshApiKeys();
  const fetching = useIsFetching({ queryKey: ['api-keys'] }) > 0;
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageHeader
        title={t('apiKeys.title')}
        description={t('apiKeys.description')}
        actions={
          <>
            <RefreshButton onRefresh={() => void refresh()} refreshing={fetching} />
            {canEdit && (
              <Button leftSection={<IconPlus size={16} aria-hidden />} onClick={() => setCreating(true)}>
                {t('apiKeys.create')}
              </Button>
            )}
          </>
        }
      />
      <Paper withBorder radius="md" p="md">
        <ApiKeysPanel />
      </Paper>
      {creating && <ApiKeyFormModal onClose={() => setCreating(false)} />}
    </>
  );
}
