import { Button, Group, Stack, Text } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';
import type { User } from '../../api/types';
import { Dialog } from '../../components/dialog';
import { useI18n } from '../../i18n/i18n';
import { ApiKeyFormModal } from './api-key-form-modal';
import { ApiKeysPanel } from './api-keys-panel';

/**
 * One user's API keys, from the users page: a service account's way to the API (it never signs in to the
 * console), with create, enable/disable and delete.
 */
export function UserApiKeysModal({ user, onClose }: { user: User; onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const [creating, setCreating] = useState(false);
  if (creating) return <ApiKeyFormModal owner={user.username} onClose={() => setCreating(false)} />;
  return (
    <Dialog onClose={onClose} title={t('apiKeys.user.title', { username: user.username })} size={1000}>
      <Stack gap="md">
        <Text size="sm">{t('apiKeys.user.explain', { username: user.username })}</Text>
        <Group justify="flex-end">
          <Button leftSection={<IconPlus size={16} aria-hidden />} onClick={() => setCreating(true)}>
            {t('apiKeys.create')}
          </Button>
        </Group>
        <ApiKeysPanel owner={user.username} />
      </Stack>
    </Dialog>
  );
}
