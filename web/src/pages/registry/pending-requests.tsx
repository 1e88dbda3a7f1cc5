import { Badge, Center, Code, Loader, Stack, Table, Text, Title } from '@mantine/core';
import { IconCheck, IconDevicesPlus, IconX } from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';
import type { RegistryRequest } from '../../api/types';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { type PageSize, PaginationBar } from '../../components/pagination-bar';
import { RelativeTime } from '../../components/relative-time';
import { type RowAction, RowActions } from '../../components/row-actions';
import { useI18n } from '../../i18n/i18n';
import { usePendingRequests } from './registry-api';
import { ApproveRequestModal, RejectRequestModal } from './request-dialogs';

type RequestAction = 'approve' | 'reject';

/** The request's metadata as one line of JSON; nothing when it has none. */
function Metadata({ value }: { value: Record<string, unknown> }): ReactNode {
  if (Object.keys(value).length === 0) return null;
  return (
    <Code style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }} fz="xs">
      {JSON.stringify(value)}
    </Code>
  );
}

/** Requests waiting for a decision, paged, with approve and reject for those who may decide. */
export function PendingRequests({ canEdit }: { canEdit: boolean }): ReactNode {
  const { t } = useI18n();
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState<PageSize>(25);
  const requests = usePendingRequests(page, pageSize);
  const [open, setOpen] = useState<{ action: RequestAction; request: RegistryRequest } | null>(null);
  const actions: RowAction<RequestAction>[] = [
    { action: 'approve', icon: IconCheck, color: 'teal', label: t('registry.row.approve') },
    { action: 'reject', icon: IconX, color: 'red', label: t('registry.row.reject') },
  ];

  const pagination = (position: 'top' | 'bottom') =>
    requests.data && (
      <PaginationBar
        position={position}
        page={page}
        pageSize={pageSize}
        total={requests.data.total}
        onPageChange={setPage}
        onPageSizeChange={(size) => {
          setPageSize(size);
          setPage(1);
        }}
      />
    );

  return (
    <Stack gap="xs">
      <Title order={2} size="h4">
        {t('registry.requests.title')}
      </Title>
      {requests.isError && <ErrorAlert error={requests.error} onRetry={() => void requests.refetch()} />}
      {requests.isPending && (
        <Center py="xl">
          <Loader aria-label={t('common.loading')} />
        </Center>
      )}
      {pagination('top')}
      {requests.data &&
        (requests.data.items.length === 0 ? (
          <EmptyState
            icon={IconDevicesPlus}
            title={t('registry.requests.empty.title')}
            hint={t('registry.requests.empty.hint')}
          />
        ) : (
          <Table.ScrollContainer minWidth={820}>
            <Table verticalSpacing="sm" highlightOnHover data-testid="registry-requests">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('registry.column.username')}</Table.Th>
                  <Table.Th>{t('registry.column.clientId')}</Table.Th>
                  <Table.Th>{t('registry.column.address')}</Table.Th>
                  <Table.Th>{t('registry.column.metadata')}</Table.Th>
                  <Table.Th>{t('registry.column.csr')}</Table.Th>
                  <Table.Th>{t('registry.column.age')}</Table.Th>
                  {canEdit && <Table.Th ta="right">{t('registry.column.actions')}</Table.Th>}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {requests.data.items.map((request) => (
                  <Table.Tr key={request.id} data-request={request.username}>
                    <Table.Td>
                      <Text fw={600} size="sm">
                        {request.username}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {request.source === 'mqtt' ? t('registry.source.mqtt') : t('registry.source.rest')}
                        {request.viaToken ? ` · ${t('registry.source.token')}` : ''}
                      </Text>
                    </Table.Td>
                    <Table.Td>{request.clientId ?? '–'}</Table.Td>
                    <Table.Td>{request.ip}</Table.Td>
                    <Table.Td maw={280}>
                      <Metadata value={request.metadata} />
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={request.hasCsr ? 'blue' : 'gray'}>
                        {request.hasCsr ? t('registry.csr.yes') : t('registry.csr.no')}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <RelativeTime iso={request.createdAt} />
                    </Table.Td>
                    {canEdit && (
                      <Table.Td>
                        <RowActions
                          actions={actions}
                          subject={request.username}
                          onAction={(action) => setOpen({ action, request })}
                        />
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ))}
      {pagination('bottom')}
      {open?.action === 'approve' && (
        <ApproveRequestModal request={open.request} onClose={() => setOpen(null)} />
      )}
      {open?.action === 'reject' && (
        <RejectRequestModal request={open.request} onClose={() => setOpen(null)} />
      )}
    </Stack>
  );
}
