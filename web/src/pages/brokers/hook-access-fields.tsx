import {
  ActionIcon,
  Button,
  Code,
  CopyButton,
  Fieldset,
  Group,
  NumberInput,
  Stack,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { IconCheck, IconCopy, IconKey } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { BrokerKind } from '../../api/types';
import { CopyTextButton } from '../../components/copy-text-button';
import { useI18n } from '../../i18n/i18n';
import { generateToken, MIN_TOKEN_LENGTH } from './broker-draft';
import type { FieldsProps } from './broker-fields';
import { SecretField } from './secret-field';

/** The URLs a broker of each hook kind is pointed at (docs/brokers.md has the full broker configuration). */
const HOOK_PATHS: Readonly<Record<Exclude<BrokerKind, 'mosquitto'>, readonly string[]>> = {
  emqx: ['/api/v1/hooks/emqx/authn', '/api/v1/hooks/emqx/authz'],
  'go-auth': ['/api/v1/hooks/go-auth/user', '/api/v1/hooks/go-auth/acl'],
  vernemq: [
    '/api/v1/hooks/vernemq/auth_on_register',
    '/api/v1/hooks/vernemq/auth_on_publish',
    '/api/v1/hooks/vernemq/auth_on_subscribe',
  ],
};

/** Where the broker sends its requests, ready to copy into its configuration. */
function HookEndpoints({ kind }: { kind: Exclude<BrokerKind, 'mosquitto'> }): ReactNode {
  const { t } = useI18n();
  return (
    <Stack gap={4} data-testid="hook-endpoints">
      <Text size="sm" fw={500}>
        {t('brokers.form.endpoints')}
      </Text>
      <Text size="xs" c="dimmed">
        {t(kind === 'vernemq' ? 'brokers.form.endpointsHintVernemq' : 'brokers.form.endpointsHint')}
      </Text>
      {HOOK_PATHS[kind].map((path) => {
        const url = `${window.location.origin}${path}`;
        return (
          <Group key={path} gap="xs" wrap="nowrap">
            <Code style={{ overflowWrap: 'anywhere' }}>{url}</Code>
            <CopyButton value={url}>
              {({ copied, copy }) => (
                <ActionIcon
                  variant="subtle"
                  color={copied ? 'teal' : 'gray'}
                  onClick={copy}
                  aria-label={`${t(copied ? 'common.copied' : 'common.copy')}: ${url}`}
                >
                  {copied ? <IconCheck size={16} aria-hidden /> : <IconCopy size={16} aria-hidden />}
                </ActionIcon>
              )}
            </CopyButton>
          </Group>
        );
      })}
    </Stack>
  );
}

/**
 * Who may call the hook endpoints: a bearer token, HTTP Basic credentials, or a source address in the allowed
 * networks (loopback only by default), and the separate rate limit of hook traffic.
 */
export function HookAccessFields({ draft, set, errorOf, stored, readOnly }: FieldsProps): ReactNode {
  const { t } = useI18n();
  if (draft.kind === 'mosquitto') return null;
  return (
    <Fieldset legend={t('brokers.form.hookAccess')}>
      <Stack gap="sm">
        <HookEndpoints kind={draft.kind} />
        <SecretField
          label={t('brokers.form.token')}
          description={t('brokers.form.tokenHint', { min: MIN_TOKEN_LENGTH })}
          isSet={stored.has('hook.token')}
          clearable
          draft={draft.token}
          onChange={(token) => set({ token })}
          error={errorOf('hook.token')}
          readOnly={readOnly}
        />
        {!readOnly && (
          <Group>
            <Button
              variant="light"
              size="xs"
              leftSection={<IconKey size={14} aria-hidden />}
              onClick={() => set({ token: { value: generateToken(), remove: false } })}
            >
              {t('brokers.form.generateToken')}
            </Button>
            {draft.token.value !== '' && (
              <CopyTextButton
                value={draft.token.value}
                label={t('brokers.form.copyToken')}
                size="xs"
                variant="subtle"
                color="gray"
              />
            )}
          </Group>
        )}
        <Group grow align="flex-start">
          <TextInput
            label={t('brokers.form.basicUsername')}
            description={t('brokers.form.basicUsernameHint')}
            value={draft.basicUsername}
            onChange={(event) => set({ basicUsername: event.currentTarget.value })}
            error={errorOf('hook.basic.username')}
            readOnly={readOnly}
            autoComplete="off"
          />
          <SecretField
            label={t('brokers.form.basicPassword')}
            isSet={stored.has('hook.basic.password')}
            clearable={false}
            draft={draft.basicPassword}
            onChange={(basicPassword) => set({ basicPassword })}
            error={errorOf('hook.basic.password')}
            readOnly={readOnly}
          />
        </Group>
        <TagsInput
          label={t('brokers.form.allowFrom')}
          description={t('brokers.form.allowFromHint')}
          value={[...draft.allowFrom]}
          onChange={(allowFrom) => set({ allowFrom })}
          error={errorOf('hook.allowFrom')}
          readOnly={readOnly}
          clearable={!readOnly}
          splitChars={[',', ' ']}
        />
        <Group grow align="flex-start">
          <NumberInput
            label={t('brokers.form.ratePerSecond')}
            value={draft.ratePerSecond}
            onChange={(value) => set({ ratePerSecond: Number(value) || 0 })}
            min={1}
            max={1_000_000}
            thousandSeparator=" "
            error={errorOf('hook.ratePerSecond')}
            readOnly={readOnly}
          />
          <NumberInput
            label={t('brokers.form.burst')}
            value={draft.burst}
            onChange={(value) => set({ burst: Number(value) || 0 })}
            min={1}
            max={10_000_000}
            thousandSeparator=" "
            error={errorOf('hook.burst')}
            readOnly={readOnly}
          />
        </Group>
      </Stack>
    </Fieldset>
  );
}
