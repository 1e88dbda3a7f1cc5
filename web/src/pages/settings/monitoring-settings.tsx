import {
  Alert,
  Button,
  Card,
  Center,
  Code,
  Group,
  Loader,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconChartLine, IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { ScrapeToken } from '../../api/types';
import { canWrite } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { ConfirmModal } from '../../components/confirm-modal';
import { CopyTextButton } from '../../components/copy-text-button';
import { Dialog } from '../../components/dialog';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { FailureAlert } from '../../components/failure-alert';
import { useNotify } from '../../components/notify';
import { RelativeTime } from '../../components/relative-time';
import { RowEndButton } from '../../components/row-end-button';
import { SecretShownOnce } from '../../components/secret-shown-once';
import { formatDateTime } from '../../i18n/format';
import { useI18n } from '../../i18n/i18n';

const TOKENS_KEY = ['scrape-tokens'] as const;

/** A Prometheus job for this Warden, reading the token from a file next to the Prometheus configuration. */
function scrapeConfigSnippet(origin: string): string {
  const url = new URL(origin);
  return [
    'scrape_configs:',
    '  - job_name: warden',
    `    scheme: ${url.protocol.replace(':', '')}`,
    '    metrics_path: /metrics',
    '    authorization:',
    '      type: Bearer',
    '      credentials_file: /etc/prometheus/warden-token',
    '    static_configs:',
    `      - targets: ['${url.host}']`,
    '',
  ].join('\n');
}

/** Name, what for, and an optional expiry day; answers the created token's secret, shown once. */
function CreateTokenDialog({ onClose }: { onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [expires, setExpires] = useState('');
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/scrape-tokens', {
          body: {
            name: name.trim(),
            ...(description.trim() ? { description: description.trim() } : {}),
            // The end of the chosen day, in the browser's time zone.
            ...(expires ? { expiresAt: new Date(`${expires}T23:59:59`).toISOString() } : {}),
          },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: TOKENS_KEY }),
  });
  return (
    <Dialog onClose={onClose} title={t('monitoring.create.title')} size="lg">
      {create.data ? (
        <SecretShownOnce
          secret={create.data.secret}
          title={t('monitoring.secret.title', { name: create.data.token.name })}
          message={t('monitoring.secret.once')}
          onDone={onClose}
        />
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate();
          }}
        >
          <Stack gap="md">
            <TextInput
              label={t('monitoring.name')}
              description={t('monitoring.nameHint')}
              required
              data-autofocus
              value={name}
              onChange={(event) => setName(event.currentTarget.value)}
            />
            <TextInput
              label={t('monitoring.description')}
              value={description}
              onChange={(event) => setDescription(event.currentTarget.value)}
            />
            <TextInput
              type="date"
              label={t('monitoring.expires')}
              description={t('monitoring.expiresHint')}
              value={expires}
              onChange={(event) => setExpires(event.currentTarget.value)}
            />
            {create.isError && <FailureAlert error={create.error} />}
            <Group justify="flex-end" gap="sm">
              <Button variant="default" onClick={onClose}>
                {t('common.cancel')}
              </Button>
              <Button type="submit" loading={create.isPending} disabled={name.trim() === ''}>
                {t('monitoring.create.submit')}
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Dialog>
  );
}

function TokensTable({
  tokens,
  canDelete,
  onDelete,
}: {
  tokens: readonly ScrapeToken[];
  canDelete: boolean;
  onDelete: (token: ScrapeToken) => void;
}): ReactNode {
  const { t, language } = useI18n();
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table verticalSpacing="sm" data-testid="scrape-tokens-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('monitoring.name')}</Table.Th>
            <Table.Th>{t('monitoring.column.created')}</Table.Th>
            <Table.Th>{t('monitoring.column.expires')}</Table.Th>
            <Table.Th>{t('monitoring.column.lastUsed')}</Table.Th>
            {canDelete && <Table.Th ta="right">{t('monitoring.column.actions')}</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {tokens.map((token) => (
            <Table.Tr key={token.id} data-token={token.name}>
              <Table.Td>
                <Text size="sm" fw={600}>
                  {token.name}
                </Text>
                {token.description && (
                  <Text size="xs" c="dimmed">
                    {token.description}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <RelativeTime iso={token.createdAt} />
              </Table.Td>
              <Table.Td>
                <Text size="sm" c={token.expired ? 'red' : undefined}>
                  {token.expiresAt === null
                    ? t('monitoring.never')
                    : token.expired
                      ? t('monitoring.expired')
                      : formatDateTime(language, token.expiresAt)}
                </Text>
              </Table.Td>
              <Table.Td>
                <RelativeTime iso={token.lastUsedAt} never={t('monitoring.neverUsed')} />
              </Table.Td>
              {canDelete && (
                <RowEndButton
                  icon={IconTrash}
                  label={t('monitoring.delete')}
                  ariaLabel={t('monitoring.deleteNamed', { name: token.name })}
                  loading={false}
                  onClick={() => onDelete(token)}
                />
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/**
 * Settings › Monitoring: the scrape tokens Prometheus reads `/metrics` with (created with the secret shown once,
 * deleted after a confirmation) and a ready-to-paste `scrape_config` (docs/metrics.md).
 */
export function MonitoringSettings(): ReactNode {
  const { t } = useI18n();
  const me = useCurrentUser();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const editable = canWrite(me, 'system_config');
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<ScrapeToken | null>(null);
  const tokens = useQuery({
    queryKey: TOKENS_KEY,
    queryFn: () => unwrap(api.GET('/api/v1/scrape-tokens')),
  });
  const snippet = scrapeConfigSnippet(window.location.origin);

  return (
    <Stack gap="lg" maw={900}>
      <Card withBorder radius="md" p="lg">
        <Group justify="space-between" mb="md">
          <Title order={2} size="h4">
            {t('monitoring.tokens')}
          </Title>
          {editable && (
            <Button leftSection={<IconPlus size={16} aria-hidden />} onClick={() => setCreating(true)}>
              {t('monitoring.create')}
            </Button>
          )}
        </Group>
        <Text size="sm" c="dimmed" mb="md">
          {t('monitoring.tokensHint')}
        </Text>
        {tokens.isPending ? (
          <Center py="xl">
            <Loader aria-label={t('common.loading')} />
          </Center>
        ) : tokens.isError ? (
          <ErrorAlert error={tokens.error} onRetry={() => void tokens.refetch()} />
        ) : tokens.data.items.length === 0 ? (
          <EmptyState icon={IconChartLine} title={t('monitoring.empty')} hint={t('monitoring.emptyHint')} />
        ) : (
          <TokensTable tokens={tokens.data.items} canDelete={editable} onDelete={setDeleting} />
        )}
      </Card>

      <Card withBorder radius="md" p="lg">
        <Title order={2} size="h4" mb="md">
          {t('monitoring.scrapeConfig')}
        </Title>
        <Stack gap="sm">
          <Text size="sm">{t('monitoring.scrapeConfigHint')}</Text>
          <Code block data-testid="scrape-config">
            {snippet}
          </Code>
          <Group>
            <CopyTextButton value={snippet} label={t('monitoring.copySnippet')} variant="light" />
          </Group>
          <Alert color="gray" variant="light">
            {t('monitoring.perInstance')}
          </Alert>
        </Stack>
      </Card>

      {creating && <CreateTokenDialog onClose={() => setCreating(false)} />}
      {deleting && (
        <ConfirmModal
          title={t('monitoring.delete.title', { name: deleting.name })}
          message={t('monitoring.delete.message', { name: deleting.name })}
          confirmLabel={t('monitoring.delete')}
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await unwrap(api.DELETE('/api/v1/scrape-tokens/{id}', { params: { path: { id: deleting.id } } }));
            await queryClient.invalidateQueries({ queryKey: TOKENS_KEY });
            notify.success(t('monitoring.deleted', { name: deleting.name }));
          }}
        />
      )}
    </Stack>
  );
}
