import {
  ActionIcon,
  Badge,
  Button,
  Center,
  Code,
  Group,
  Loader,
  NativeSelect,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  VisuallyHidden,
} from '@mantine/core';
import { IconChevronDown, IconChevronRight, IconDownload, IconListSearch } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { AuditEvent } from '../../api/types';
import { DebouncedTextInput } from '../../components/debounced-text-input';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { PageHeader } from '../../components/page-header';
import { PaginationBar } from '../../components/pagination-bar';
import { RefreshButton } from '../../components/refresh-button';
import { RelativeTime } from '../../components/relative-time';
import { useI18n } from '../../i18n/i18n';
import {
  type AuditFilters,
  auditQuery,
  isoToLocalInput,
  localInputToIso,
  OUTCOMES,
  useAuditFilters,
  useExportHref,
} from './audit-filters';

const COLUMNS = 7;

function ExportButton({ filters, format }: { filters: AuditFilters; format: 'csv' | 'json' }): ReactNode {
  const { t } = useI18n();
  return (
    <Button
      component="a"
      href={useExportHref(filters, format)}
      download
      variant="default"
      leftSection={<IconDownload size={16} aria-hidden />}
    >
      {t(format === 'csv' ? 'audit.exportCsv' : 'audit.exportJson')}
    </Button>
  );
}

function EventRow({ event }: { event: AuditEvent }): ReactNode {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const hasDetails = Object.keys(event.details).length > 0;
  return (
    <>
      <Table.Tr>
        <Table.Td>
          {hasDetails && (
            <ActionIcon
              variant="subtle"
              color="gray"
              size="sm"
              onClick={() => setOpen((current) => !current)}
              aria-expanded={open}
              aria-label={t('audit.details')}
            >
              {open ? <IconChevronDown size={16} aria-hidden /> : <IconChevronRight size={16} aria-hidden />}
            </ActionIcon>
          )}
        </Table.Td>
        <Table.Td>
          <RelativeTime iso={event.at} />
        </Table.Td>
        <Table.Td>
          <Text size="sm">{event.actor.name}</Text>
        </Table.Td>
        <Table.Td>
          <Code>{event.action}</Code>
        </Table.Td>
        <Table.Td>
          <Text size="sm">{event.target}</Text>
        </Table.Td>
        <Table.Td>
          <Badge color={event.outcome === 'success' ? 'teal' : 'red'} variant="light">
            {t(`audit.outcome.${event.outcome}`)}
          </Badge>
        </Table.Td>
        <Table.Td>
          <Text size="sm">{event.ip}</Text>
        </Table.Td>
      </Table.Tr>
      {open && (
        <Table.Tr>
          <Table.Td colSpan={COLUMNS}>
            <Code block>{JSON.stringify({ requestId: event.requestId, ...event.details }, null, 2)}</Code>
          </Table.Td>
        </Table.Tr>
      )}
    </>
  );
}

/** The audit log: who did what to whom, filtered by actor, action, target, outcome and time; exportable. */
export function AuditPage(): ReactNode {
  const { t } = useI18n();
  const [filters, setFilters] = useAuditFilters();
  const events = useQuery({
    queryKey: ['audit', filters],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/audit', {
          params: { query: { ...auditQuery(filters), page: filters.page, pageSize: filters.pageSize } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const textFilter = (key: 'actor' | 'action' | 'target', placeholder: string) => (
    <DebouncedTextInput
      label={t(`audit.filter.${key}`)}
      placeholder={placeholder}
      value={filters.values[key]}
      onCommit={(value) => setFilters({ [key]: value }, { replace: true })}
    />
  );
  const timeFilter = (key: 'from' | 'to') => (
    <TextInput
      type="datetime-local"
      label={t(`audit.filter.${key}`)}
      value={isoToLocalInput(filters.values[key])}
      onChange={(event) => setFilters({ [key]: localInputToIso(event.currentTarget.value) })}
    />
  );
  const pagination = (position: 'top' | 'bottom') =>
    events.data && (
      <PaginationBar
        position={position}
        page={filters.page}
        pageSize={filters.pageSize}
        total={events.data.total}
        onPageChange={(page) => setFilters({ page })}
        onPageSizeChange={(pageSize) => setFilters({ pageSize })}
      />
    );

  return (
    <>
      <PageHeader
        title={t('audit.title')}
        description={t('audit.description')}
        actions={
          <>
            <ExportButton filters={filters} format="csv" />
            <ExportButton filters={filters} format="json" />
          </>
        }
      />
      <Paper withBorder radius="md" p="md">
        <Stack gap="xs">
          <SimpleGrid cols={{ base: 1, sm: 3, lg: 6 }} role="search">
            {textFilter('actor', 'user:alice')}
            {textFilter('action', 'user.')}
            {textFilter('target', 'user:bob')}
            <NativeSelect
              label={t('audit.filter.outcome')}
              value={filters.values.outcome}
              onChange={(event) => setFilters({ outcome: event.currentTarget.value })}
              data={[
                { value: '', label: t('audit.outcome.all') },
                ...OUTCOMES.map((outcome) => ({ value: outcome, label: t(`audit.outcome.${outcome}`) })),
              ]}
            />
            {timeFilter('from')}
            {timeFilter('to')}
          </SimpleGrid>
          <Group justify="flex-end">
            <RefreshButton onRefresh={() => void events.refetch()} refreshing={events.isFetching} />
          </Group>
          {events.isError && <ErrorAlert error={events.error} onRetry={() => void events.refetch()} />}
          {events.isPending && (
            <Center py="xl">
              <Loader aria-label={t('common.loading')} />
            </Center>
          )}
          {pagination('top')}
          {events.data &&
            (events.data.items.length === 0 ? (
              <EmptyState icon={IconListSearch} title={t('audit.empty.title')} hint={t('audit.empty.hint')} />
            ) : (
              <Table.ScrollContainer minWidth={900}>
                <Table verticalSpacing="xs" highlightOnHover data-testid="audit-table">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th w={40}>
                        <VisuallyHidden>{t('audit.details')}</VisuallyHidden>
                      </Table.Th>
                      <Table.Th>{t('audit.column.time')}</Table.Th>
                      <Table.Th>{t('audit.column.actor')}</Table.Th>
                      <Table.Th>{t('audit.column.action')}</Table.Th>
                      <Table.Th>{t('audit.column.target')}</Table.Th>
                      <Table.Th>{t('audit.column.outcome')}</Table.Th>
                      <Table.Th>{t('audit.column.ip')}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {events.data.items.map((event) => (
                      <EventRow key={event.id} event={event} />
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            ))}
          {pagination('bottom')}
        </Stack>
      </Paper>
    </>
  );
}
