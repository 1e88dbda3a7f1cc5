import { Button, Checkbox, Group, NativeSelect, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import type { CreatedApiKey } from '../../api/types';
import { mayGrant, ROLES, type Role, roleCanHold, SCOPES, type Scope } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { Dialog } from '../../components/dialog';
import { FailureAlert } from '../../components/failure-alert';
import { useNotify } from '../../components/notify';
import { SecretShownOnce } from '../../components/secret-shown-once';
import { useI18n } from '../../i18n/i18n';
import { apiKeysApi, useRefreshApiKeys } from './api-keys-api';

/** Expiry choices, in days from now; 0 = never. */
const EXPIRY_DAYS = [0, 7, 30, 90, 365] as const;
const DAY_MS = 86_400_000;

/**
 * Create an API key (docs/api-keys.md): name, description, owner (fixed when opened from a user), role, scopes
 * and expiry. Roles and scopes the signed-in user could not grant are offered disabled, as the server refuses
 * them. The key itself is then shown once, with a copy button.
 */
export function ApiKeyFormModal({ owner, onClose }: { owner?: string; onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const me = useCurrentUser();
  const notify = useNotify();
  const refresh = useRefreshApiKeys();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [ownerName, setOwnerName] = useState(owner ?? me.username);
  const [role, setRole] = useState<Role>('viewer');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [expiryDays, setExpiryDays] = useState<number>(90);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const offered = SCOPES.filter((scope) => roleCanHold(role, scope));
  const chosen = scopes.filter((scope) => offered.includes(scope));

  const save = useMutation({
    mutationFn: () =>
      apiKeysApi.create({
        name: name.trim(),
        description,
        owner: ownerName.trim(),
        role,
        scopes: chosen,
        expiresAt: expiryDays === 0 ? null : new Date(Date.now() + expiryDays * DAY_MS).toISOString(),
      }),
    onSuccess: async (key) => {
      notify.success(t('apiKeys.form.created', { name: key.name }));
      setCreated(key);
      await refresh();
    },
  });

  if (created) {
    return (
      <Dialog onClose={onClose} title={t('apiKeys.form.createTitle')}>
        <SecretShownOnce
          secret={created.key}
          title={t('apiKeys.secret.title', { name: created.name })}
          message={t('apiKeys.secret.once')}
          onDone={onClose}
        />
      </Dialog>
    );
  }

  const canSubmit = name.trim().length > 0 && ownerName.trim().length > 0;
  return (
    <Dialog onClose={onClose} title={t('apiKeys.form.createTitle')} size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (canSubmit) save.mutate();
        }}
        noValidate
      >
        <Stack gap="sm">
          <TextInput
            label={t('apiKeys.form.name')}
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            maxLength={100}
            autoComplete="off"
            required
            data-autofocus
          />
          <Textarea
            label={t('apiKeys.form.description')}
            value={description}
            onChange={(event) => setDescription(event.currentTarget.value)}
            maxLength={500}
            autosize
            minRows={1}
            maxRows={4}
          />
          <TextInput
            label={t('apiKeys.form.owner')}
            description={t('apiKeys.form.ownerHint')}
            value={ownerName}
            onChange={(event) => setOwnerName(event.currentTarget.value)}
            disabled={owner !== undefined}
            autoComplete="off"
            required
          />
          <Group grow align="flex-start">
            <NativeSelect
              label={t('apiKeys.form.role')}
              value={role}
              onChange={(event) => setRole(ROLES.find((r) => r === event.currentTarget.value) ?? role)}
              data={[...ROLES].reverse().map((r) => ({
                value: r,
                label: t(`role.${r}`),
                disabled: !mayGrant(me, r, []),
              }))}
            />
            <NativeSelect
              label={t('apiKeys.form.expiry')}
              value={String(expiryDays)}
              onChange={(event) => setExpiryDays(Number(event.currentTarget.value))}
              data={EXPIRY_DAYS.map((days) => ({
                value: String(days),
                label: days === 0 ? t('apiKeys.expires.never') : t('apiKeys.form.expiryDays', { days }),
              }))}
              data-testid="expiry-input"
            />
          </Group>
          <Checkbox.Group
            label={t('apiKeys.form.scopes')}
            description={t('apiKeys.form.scopesHint')}
            value={chosen}
            onChange={(values) => setScopes(SCOPES.filter((scope) => values.includes(scope)))}
          >
            <Stack gap={6} mt={6}>
              {offered.map((scope) => (
                <Checkbox
                  key={scope}
                  value={scope}
                  label={t(`scope.${scope}`)}
                  disabled={!mayGrant(me, 'viewer', [scope])}
                />
              ))}
            </Stack>
          </Checkbox.Group>
          <Text size="xs" c="dimmed">
            {t('apiKeys.form.reduced')}
          </Text>
          {save.isError && <FailureAlert error={save.error} />}
          <Group justify="flex-end" gap="sm" mt="xs">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={save.isPending} disabled={!canSubmit}>
              {t('apiKeys.form.create')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Dialog>
  );
}
