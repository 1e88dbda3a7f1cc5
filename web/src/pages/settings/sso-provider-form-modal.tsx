import {
  Alert,
  Button,
  Checkbox,
  Code,
  Group,
  List,
  NativeSelect,
  PasswordInput,
  Stack,
  Switch,
  Text,
  TextInput,
} from '@mantine/core';
import { IconPlugConnected } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import type { SsoPreset, SsoProvider, SsoTestResult } from '../../api/types';
import { mayGrant, ROLES, type Role, roleCanHold, SCOPES } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { CopyTextButton } from '../../components/copy-text-button';
import { Dialog } from '../../components/dialog';
import { FailureAlert } from '../../components/failure-alert';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';
import { RoleMappingEditor } from './role-mapping-editor';
import {
  createBodyOf,
  draftOf,
  missingFields,
  newDraft,
  type ProviderDraft,
  updateBodyOf,
  withPreset,
} from './sso-provider-draft';
import { redirectUriOf, ssoProvidersApi, useRefreshSsoProviders } from './sso-providers-api';

/** What "Test connection" found: the endpoints, or the provider's own error (not translated: it is theirs). */
function TestResult({ result }: { result: SsoTestResult }): ReactNode {
  const { t } = useI18n();
  if (!result.ok) {
    return (
      <Alert color="red" variant="light" title={t('sso.test.failed')} data-testid="test-result" role="alert">
        <Code>{result.error}</Code>
      </Alert>
    );
  }
  return (
    <Alert color="teal" variant="light" title={t('sso.test.ok')} data-testid="test-result" role="status">
      <List size="xs" spacing={2}>
        <List.Item>
          {t('sso.test.issuer')}: <Code>{result.issuer}</Code>
        </List.Item>
        <List.Item>
          {t('sso.test.authorization')}: <Code>{result.authorizationEndpoint}</Code>
        </List.Item>
        <List.Item>
          {t('sso.test.token')}: <Code>{result.tokenEndpoint}</Code>
        </List.Item>
        {result.endSessionEndpoint && (
          <List.Item>
            {t('sso.test.endSession')}: <Code>{result.endSessionEndpoint}</Code>
          </List.Item>
        )}
      </List>
      {(result.warnings ?? []).map((warning) => (
        <Text key={warning} size="xs" c="orange" mt={4}>
          {warning}
        </Text>
      ))}
    </Alert>
  );
}

/** The redirect URI to register at the provider, with a copy button. */
function RedirectUri({ name }: { name: string }): ReactNode {
  const { t } = useI18n();
  const uri = redirectUriOf(name.trim() || '<name>');
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        {t('sso.form.redirectUri')}
      </Text>
      <Group gap="xs" wrap="nowrap">
        <Code data-testid="redirect-uri" style={{ wordBreak: 'break-all' }}>
          {uri}
        </Code>
        <CopyTextButton value={uri} label={t('sso.form.copyRedirectUri')} size="xs" variant="light" />
      </Group>
      <Text size="xs" c="dimmed">
        {t('sso.form.redirectUriHint')}
      </Text>
    </Stack>
  );
}

/**
 * Creates or edits an SSO provider (docs/sso.md): the preset prefills issuer, scopes and claims; the client
 * secret is write-only (the field says whether one is stored; empty keeps it); the role mapping editor; "Test
 * connection" runs discovery with the form as it is, unsaved.
 */
export function SsoProviderFormModal({
  provider,
  presets,
  onClose,
}: {
  provider: SsoProvider | null;
  presets: readonly SsoPreset[];
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const me = useCurrentUser();
  const notify = useNotify();
  const refresh = useRefreshSsoProviders();
  const creating = provider === null;
  const [draft, setDraft] = useState<ProviderDraft>(() =>
    provider
      ? draftOf(provider)
      : newDraft(presets.find((p) => p.preset === 'keycloak') ?? (presets[0] as SsoPreset)),
  );
  const [attempted, setAttempted] = useState(false);
  const set = (patch: Partial<ProviderDraft>) => setDraft((current) => ({ ...current, ...patch }));
  const preset = presets.find((p) => p.preset === draft.preset);
  const missing = missingFields(draft, creating);
  const required = (field: 'name' | 'issuer' | 'clientId') =>
    attempted && missing.has(field) ? t('sso.form.required') : undefined;

  const save = useMutation({
    mutationFn: () =>
      provider
        ? ssoProvidersApi.update(provider.name, updateBodyOf(draft))
        : ssoProvidersApi.create(createBodyOf(draft)),
    onSuccess: async (saved) => {
      notify.success(t(creating ? 'sso.form.created' : 'sso.form.saved', { name: saved.name }));
      onClose();
      await refresh();
    },
  });
  const test = useMutation({
    mutationFn: () =>
      ssoProvidersApi.test(provider ? { ...updateBodyOf(draft), name: provider.name } : updateBodyOf(draft)),
  });

  const secretState = provider?.clientSecretUnreadable
    ? t('sso.form.secretUnreadable')
    : provider?.hasClientSecret
      ? t('sso.form.secretStored')
      : t('sso.form.secretNone');
  const holdable = SCOPES.filter((scope) => roleCanHold(draft.defaultRole, scope));

  return (
    <Dialog
      onClose={onClose}
      title={creating ? t('sso.form.createTitle') : t('sso.form.editTitle', { name: provider.name })}
      size={820}
    >
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setAttempted(true);
          if (missing.size === 0) save.mutate();
        }}
        noValidate
      >
        <Stack gap="md">
          <NativeSelect
            label={t('sso.form.preset')}
            value={draft.preset}
            onChange={(event) => {
              const chosen = presets.find((p) => p.preset === event.currentTarget.value);
              if (!chosen) return;
              // Prefilling replaces what a new provider had; an existing one only changes its hint.
              setDraft((current) =>
                creating ? withPreset(current, chosen) : { ...current, preset: chosen.preset },
              );
            }}
            data={presets.map((p) => ({ value: p.preset, label: p.label }))}
          />
          {preset && (
            <Alert color="blue" variant="light" data-testid="preset-hint">
              <Text size="sm">{t(`sso.preset.${preset.preset}.hint`)}</Text>
              <Text size="xs" c="dimmed" mt={4}>
                {t('sso.form.docs', { docs: preset.docs })}
              </Text>
            </Alert>
          )}
          <Group grow align="flex-start">
            <TextInput
              label={t('sso.form.name')}
              description={creating ? t('sso.form.nameRules') : t('sso.form.nameFixed')}
              value={draft.name}
              onChange={(event) => set({ name: event.currentTarget.value })}
              error={required('name')}
              disabled={!creating}
              maxLength={40}
              autoComplete="off"
              spellCheck={false}
              required
              data-autofocus
            />
            <TextInput
              label={t('sso.form.displayName')}
              description={t('sso.form.displayNameHint')}
              value={draft.displayName}
              onChange={(event) => set({ displayName: event.currentTarget.value })}
              maxLength={100}
              autoComplete="off"
            />
          </Group>
          <RedirectUri name={draft.name} />
          <TextInput
            label={t('sso.form.issuer')}
            description={t('sso.form.issuerHint')}
            placeholder={preset?.issuerPattern}
            value={draft.issuer}
            onChange={(event) => set({ issuer: event.currentTarget.value })}
            error={required('issuer')}
            autoComplete="off"
            spellCheck={false}
            required
          />
          <Group grow align="flex-start">
            <TextInput
              label={t('sso.form.clientId')}
              value={draft.clientId}
              onChange={(event) => set({ clientId: event.currentTarget.value })}
              error={required('clientId')}
              autoComplete="off"
              spellCheck={false}
              required
            />
            <Stack gap={4}>
              <PasswordInput
                label={t('sso.form.clientSecret')}
                description={secretState}
                placeholder={provider?.hasClientSecret ? t('sso.form.secretKeep') : undefined}
                value={draft.clientSecret}
                onChange={(event) => set({ clientSecret: event.currentTarget.value, removeSecret: false })}
                disabled={draft.removeSecret}
                autoComplete="new-password"
                visibilityToggleButtonProps={{ 'aria-label': t('sso.form.secretToggle') }}
              />
              {provider?.hasClientSecret && (
                <Checkbox
                  size="xs"
                  label={t('sso.form.secretRemove')}
                  checked={draft.removeSecret}
                  onChange={(event) => set({ removeSecret: event.currentTarget.checked, clientSecret: '' })}
                />
              )}
            </Stack>
          </Group>
          <Group grow align="flex-start">
            <TextInput
              label={t('sso.form.scopes')}
              description={t('sso.form.scopesHint')}
              value={draft.scopes}
              onChange={(event) => set({ scopes: event.currentTarget.value })}
              autoComplete="off"
              spellCheck={false}
            />
            <TextInput
              label={t('sso.form.emailClaim')}
              value={draft.emailClaim}
              onChange={(event) => set({ emailClaim: event.currentTarget.value })}
              autoComplete="off"
              spellCheck={false}
            />
            <TextInput
              label={t('sso.form.groupsClaim')}
              description={t('sso.form.groupsClaimHint')}
              value={draft.groupsClaim}
              onChange={(event) => set({ groupsClaim: event.currentTarget.value })}
              autoComplete="off"
              spellCheck={false}
            />
          </Group>
          <Group grow align="flex-start">
            <Switch
              label={t('sso.form.enabled')}
              description={t('sso.form.enabledHint')}
              checked={draft.enabled}
              onChange={(event) => set({ enabled: event.currentTarget.checked })}
            />
            <Switch
              label={t('sso.form.autoProvision')}
              description={t('sso.form.autoProvisionHint')}
              checked={draft.autoProvision}
              onChange={(event) => set({ autoProvision: event.currentTarget.checked })}
            />
          </Group>
          <Group grow align="flex-start">
            <NativeSelect
              label={t('sso.form.defaultRole')}
              description={t('sso.form.defaultRoleHint')}
              value={draft.defaultRole}
              onChange={(event) => {
                const role = ROLES.find((r) => r === event.currentTarget.value) ?? draft.defaultRole;
                set({
                  defaultRole: role,
                  defaultScopes: draft.defaultScopes.filter((scope) => roleCanHold(role, scope)),
                });
              }}
              data={[...ROLES].reverse().map((role: Role) => ({
                value: role,
                label: t(`role.${role}`),
                disabled: !mayGrant(me, role, []),
              }))}
            />
            <Stack gap={6}>
              <Checkbox
                label={t('sso.form.customDefaultScopes')}
                checked={draft.customDefaultScopes}
                onChange={(event) => set({ customDefaultScopes: event.currentTarget.checked })}
              />
              {draft.customDefaultScopes && (
                <Checkbox.Group
                  aria-label={t('sso.form.defaultScopes')}
                  value={[...draft.defaultScopes]}
                  onChange={(values) =>
                    set({ defaultScopes: SCOPES.filter((scope) => values.includes(scope)) })
                  }
                >
                  <Stack gap={4}>
                    {holdable.map((scope) => (
                      <Checkbox
                        key={scope}
                        size="xs"
                        value={scope}
                        label={t(`scope.${scope}`)}
                        disabled={!mayGrant(me, 'viewer', [scope])}
                      />
                    ))}
                  </Stack>
                </Checkbox.Group>
              )}
            </Stack>
          </Group>
          <RoleMappingEditor
            rows={draft.mapping}
            onChange={(mapping) => set({ mapping })}
            groupsClaim={draft.groupsClaim.trim()}
          />
          {test.isError && <FailureAlert error={test.error} />}
          {test.data && <TestResult result={test.data} />}
          {save.isError && <FailureAlert error={save.error} />}
          <Group justify="space-between" gap="sm">
            <Button
              variant="light"
              leftSection={<IconPlugConnected size={16} aria-hidden />}
              loading={test.isPending}
              disabled={missing.has('issuer') || missing.has('clientId')}
              onClick={() => test.mutate()}
            >
              {t('sso.test')}
            </Button>
            <Group gap="sm">
              <Button variant="default" onClick={onClose}>
                {t('common.cancel')}
              </Button>
              <Button type="submit" loading={save.isPending}>
                {creating ? t('sso.form.create') : t('common.save')}
              </Button>
            </Group>
          </Group>
        </Stack>
      </form>
    </Dialog>
  );
}
