import { Button, Center, Group, Loader, Stack, Table, Text, Title } from '@mantine/core';
import { IconPlus, IconTicket, IconTrash } from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';
import type { EnrolmentToken } from '../../api/types';
import { ConfirmModal } from '../../components/confirm-modal';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { useNotify } from '../../components/notify';
import { RelativeTime } from '../../components/relative-time';
import { RowActions } from '../../components/row-actions';
import { formatDateTime, formatRelativeTime } from '../../i18n/format';
import { useI18n } from '../../i18n/i18n';
import { EnrolmentTokenFormModal } from './enrolment-token-form-modal';
import { registryApi, useEnrolmentTokens, useRefreshRegistry } from './registry-api';

/** When a token stops, in words, red once it has. */
function Expiry({ token }: { token: EnrolmentToken }): ReactNode {
  const { t, language } = useI18n();
  return (
    <Text
      size="sm"
      component="time"
      dateTime={token.expiresAt}
      data-hint={formatDateTime(language, token.expiresAt)}
      c={token.expired ? 'red' : undefined}
    >
      {token.expired ? t('registry.tokens.expired') : formatRelativeTime(language, token.expiresAt)}
    </Text>
  );
}

/** Enrolment tokens: create one (shown once), see how many uses each has left and until when, revoke. */
export function EnrolmentTokens({ canEdit }: { canEdit: boolean }): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshRegistry();
  const tokens = useEnrolmentTokens();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<EnrolmentToken | null>(null);
  const label = (token: EnrolmentToken): string => token.name || token.id;

  return (
    <Stack gap="xs">
      <Group justify="space-between" align="center">
        <Title order={2} size="h4">
          {t('registry.tokens.title')}
        </Title>
        {canEdit && (
          <Button
            variant="light"
            leftSection={<IconPlus size={16} aria-hidden />}
            onClick={() => setCreating(true)}
          >
            {t('registry.tokens.create')}
          </Button>
        )}
      </Group>
      <Text size="sm" c="dimmed">
        {t('registry.tokens.hint')}
      </Text>
      {tokens.isError && <ErrorAlert error={tokens.error} onRetry={() => void tokens.refetch()} />}
      {tokens.isPending && (
        <Center py="xl">
          <Loader aria-label={t('common.loading')} />
        </Center>
      )}
      {tokens.data &&
        (tokens.data.items.length === 0 ? (
          <EmptyState icon={IconTicket} title={t('registry.tokens.empty')} />
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table verticalSpacing="sm" data-testid="registry-tokens">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('registry.tokens.column.name')}</Table.Th>
                  <Table.Th>{t('registry.tokens.column.usesLeft')}</Table.Th>
                  <Table.Th>{t('registry.tokens.column.expires')}</Table.Th>
                  <Table.Th>{t('registry.tokens.column.created')}</Table.Th>
                  {canEdit && <Table.Th ta="right">{t('registry.column.actions')}</Table.Th>}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {tokens.data.items.map((token) => (
                  <Table.Tr key={token.id} data-token={token.id}>
                    <Table.Td>
                      <Text fw={600} size="sm">
                        {token.name || '–'}
                      </Text>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {token.id}
                      </Text>
                    </Table.Td>
                    <Table.Td data-testid="uses-left">
                      {t('registry.tokens.uses', { left: token.usesLeft, max: token.maxUses })}
                    </Table.Td>
                    <Table.Td>
                      <Expiry token={token} />
                    </Table.Td>
                    <Table.Td>
                      <RelativeTime iso={token.createdAt} />
                      <Text size="xs" c="dimmed">
                        {token.createdBy}
                      </Text>
                    </Table.Td>
                    {canEdit && (
                      <Table.Td>
                        <RowActions
                          actions={[
                            {
                              action: 'revoke',
                              icon: IconTrash,
                              color: 'red',
                              label: t('registry.tokens.revoke'),
                            },
                          ]}
                          subject={label(token)}
                          onAction={() => setRevoking(token)}
                        />
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ))}
      {creating && <EnrolmentTokenFormModal onClose={() => setCreating(false)} />}
      {revoking && (
        <ConfirmModal
          title={t('registry.tokens.revoke.title', { name: label(revoking) })}
          message={t('registry.tokens.revoke.message')}
          confirmLabel={t('registry.tokens.revoke')}
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await registryApi.revokeToken(revoking.id);
            notify.success(t('registry.tokens.revoke.done', { name: label(revoking) }));
            await refresh();
          }}
        />
      )}
    </Stack>
  );
}
