import { Badge, Button, Card, Center, Group, Loader, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { IconKey, IconPencil, IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import type { SsoProvider } from '../../api/types';
import { canWrite } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { ConfirmModal } from '../../components/confirm-modal';
import { EmptyState } from '../../components/empty-state';
import { ErrorAlert } from '../../components/error-alert';
import { useNotify } from '../../components/notify';
import { type RowAction, RowActions } from '../../components/row-actions';
import { describeError } from '../../i18n/errors';
import { useI18n } from '../../i18n/i18n';
import { SsoProviderFormModal } from './sso-provider-form-modal';
import { ssoProvidersApi, useRefreshSsoProviders, useSsoPresets, useSsoProviders } from './sso-providers-api';

type ProviderAction = 'edit' | 'delete';

/** Enables or disables a provider from the list; a refusal (the last admin's way in) is told in a toast. */
function EnabledSwitch({ provider, disabled }: { provider: SsoProvider; disabled: boolean }): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const refresh = useRefreshSsoProviders();
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => ssoProvidersApi.update(provider.name, { enabled }),
    onSuccess: async (saved) => {
      notify.success(t(saved.enabled ? 'sso.enabledNamed' : 'sso.disabledNamed', { name: saved.name }));
      await refresh();
    },
    onError: (error) => notify.failure(describeError(t, error)),
  });
  return (
    <Switch
      aria-label={t('sso.enabledOf', { name: provider.name })}
      checked={toggle.isPending ? !provider.enabled : provider.enabled}
      disabled={disabled || toggle.isPending}
      onChange={(event) => toggle.mutate(event.currentTarget.checked)}
      data-testid="enabled-switch"
    />
  );
}

function ProvidersTable({
  providers,
  editable,
  onAction,
}: {
  providers: readonly SsoProvider[];
  editable: boolean;
  onAction: (action: ProviderAction, provider: SsoProvider) => void;
}): ReactNode {
  const { t } = useI18n();
  const actions: RowAction<ProviderAction>[] = [
    { action: 'edit', icon: IconPencil, label: t('sso.edit') },
    { action: 'delete', icon: IconTrash, label: t('sso.delete'), color: 'red' },
  ];
  return (
    <Table.ScrollContainer minWidth={860}>
      <Table verticalSpacing="sm" highlightOnHover data-testid="sso-providers-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('sso.column.name')}</Table.Th>
            <Table.Th>{t('sso.column.preset')}</Table.Th>
            <Table.Th>{t('sso.column.issuer')}</Table.Th>
            <Table.Th>{t('sso.column.enabled')}</Table.Th>
            <Table.Th>{t('sso.column.autoProvision')}</Table.Th>
            <Table.Th>{t('sso.column.mappings')}</Table.Th>
            {editable && <Table.Th ta="right">{t('sso.column.actions')}</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {providers.map((provider) => (
            <Table.Tr key={provider.name} data-provider={provider.name}>
              <Table.Td>
                <Text size="sm" fw={600}>
                  {provider.displayName}
                </Text>
                <Text size="xs" c="dimmed">
                  {provider.name}
                </Text>
              </Table.Td>
              <Table.Td>
                <Badge variant="outline" color="gray">
                  {t(`sso.preset.${provider.preset}`)}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Text size="sm" style={{ wordBreak: 'break-all' }} data-testid="issuer">
                  {provider.issuer}
                </Text>
              </Table.Td>
              <Table.Td>
                <EnabledSwitch provider={provider} disabled={!editable} />
              </Table.Td>
              <Table.Td>
                <Text size="sm">{provider.autoProvision ? t('sso.yes') : t('sso.no')}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" data-testid="mappings">
                  {provider.roleMapping.length}
                </Text>
              </Table.Td>
              {editable && (
                <Table.Td>
                  <RowActions
                    actions={actions}
                    subject={provider.name}
                    onAction={(action) => onAction(action, provider)}
                  />
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

type ProviderDialog =
  | { readonly kind: 'create' }
  | { readonly kind: ProviderAction; readonly provider: SsoProvider };

/**
 * Settings › Authentication: the OpenID Connect providers users sign in with (docs/sso.md) — the list with an
 * enabled switch per provider, the create/edit form with "Test connection", and deletion after a confirmation.
 */
export function AuthenticationSettings(): ReactNode {
  const { t } = useI18n();
  const me = useCurrentUser();
  const notify = useNotify();
  const refresh = useRefreshSsoProviders();
  const editable = canWrite(me, 'sso_management');
  const providers = useSsoProviders();
  const presets = useSsoPresets();
  const [dialog, setDialog] = useState<ProviderDialog | null>(null);
  const close = () => setDialog(null);

  return (
    <Stack gap="lg" maw={1100}>
      <Card withBorder radius="md" p="lg">
        <Group justify="space-between" mb="md">
          <Title order={2} size="h4">
            {t('sso.title')}
          </Title>
          {editable && (
            <Button
              leftSection={<IconPlus size={16} aria-hidden />}
              onClick={() => setDialog({ kind: 'create' })}
              disabled={!presets.data}
            >
              {t('sso.create')}
            </Button>
          )}
        </Group>
        <Text size="sm" c="dimmed" mb="md">
          {t('sso.description')}
        </Text>
        {providers.isPending ? (
          <Center py="xl">
            <Loader aria-label={t('common.loading')} />
          </Center>
        ) : providers.isError ? (
          <ErrorAlert error={providers.error} onRetry={() => void providers.refetch()} />
        ) : providers.data.items.length === 0 ? (
          <EmptyState icon={IconKey} title={t('sso.empty')} hint={t('sso.emptyHint')} />
        ) : (
          <ProvidersTable
            providers={providers.data.items}
            editable={editable}
            onAction={(kind, provider) => setDialog({ kind, provider })}
          />
        )}
      </Card>

      {presets.data && (dialog?.kind === 'create' || dialog?.kind === 'edit') && (
        <SsoProviderFormModal
          provider={dialog.kind === 'edit' ? dialog.provider : null}
          presets={presets.data}
          onClose={close}
        />
      )}
      {dialog?.kind === 'delete' && (
        <ConfirmModal
          title={t('sso.delete.title', { name: dialog.provider.name })}
          message={t('sso.delete.message', { name: dialog.provider.name })}
          confirmLabel={t('sso.delete')}
          onClose={close}
          onConfirm={async () => {
            await ssoProvidersApi.remove(dialog.provider.name);
            await refresh();
            notify.success(t('sso.deleted', { name: dialog.provider.name }));
          }}
        />
      )}
    </Stack>
  );
}
