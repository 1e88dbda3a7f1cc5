import { Center, Loader, Stack } from '@mantine/core';
import { IconKey } from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';
import type { ApiKey } from '../../api/types';
import { canWrite } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { type PageSize, PaginationBar } from '../../components/pagination-bar';
import { useI18n } from '../../i18n/i18n';
import { ApiKeyActionDialog } from './api-key-dialogs';
import { useApiKeyList } from './api-keys-api';
import { type ApiKeyAction, ApiKeysTable } from './api-keys-table';

/**
 * A paged list of API keys — everyone's on the API keys page, one user's (`owner`) in the users page's dialog —
 * with enable/disable and delete for those who may manage keys.
 */
export function ApiKeysPanel({ owner }: { owner?: string }): ReactNode {
  const { t } = useI18n();
  const canEdit = canWrite(useCurrentUser(), 'api_key_management');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState<PageSize>(25);
  const keys = useApiKeyList(page, pageSize, owner);
  const [open, setOpen] = useState<{ action: ApiKeyAction; key: ApiKey } | null>(null);

  const pagination = (position: 'top' | 'bottom') =>
    keys.data && (
      <PaginationBar
        position={position}
        page={page}
        pageSize={pageSize}
        total={keys.data.total}
        onPageChange={setPage}
        onPageSizeChange={(size) => {
          setPageSize(size);
          setPage(1);
        }}
      />
    );

  return (
    <Stack gap="xs">
      {keys.isError && <ErrorAlert error={keys.error} onRetry={() => void keys.refetch()} />}
      {keys.isPending && (
        <Center py="xl">
          <Loader aria-label={t('common.loading')} />
        </Center>
      )}
      {pagination('top')}
      {keys.data &&
        (keys.data.items.length === 0 ? (
          <EmptyState icon={IconKey} title={t('apiKeys.empty.title')} hint={t('apiKeys.empty.hint')} />
        ) : (
          <ApiKeysTable
            keys={keys.data.items}
            canEdit={canEdit}
            showOwner={owner === undefined}
            onAction={(action, key) => setOpen({ action, key })}
          />
        ))}
      {pagination('bottom')}
      {open && <ApiKeyActionDialog action={open.action} apiKey={open.key} onClose={() => setOpen(null)} />}
    </Stack>
  );
}
