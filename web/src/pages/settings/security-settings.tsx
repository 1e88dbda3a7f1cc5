import {
  Alert,
  Button,
  Card,
  Center,
  Checkbox,
  Group,
  Loader,
  NativeSelect,
  NumberInput,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { SecuritySettings as Settings } from '../../api/types';
import { canWrite, ROLES, type Role } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { ErrorAlert } from '../../components/error-alert';
import { FailureAlert } from '../../components/failure-alert';
import { useNotify } from '../../components/notify';
import { PASSWORD_POLICY_KEY } from '../../components/password/use-password-policy';
import { formatMinutes } from '../../i18n/format';
import { useI18n } from '../../i18n/i18n';
import type { MessageKey } from '../../i18n/messages.en';
import { ApiAllowFromField } from './api-allow-from-field';
import { SECURITY_KEY, useSecuritySettings } from './use-security-settings';

type DenyAction = Settings['mqtt']['denyAction'];
const DENY_ACTIONS: readonly DenyAction[] = ['ignore', 'disconnect'];

type PolicyFlag = 'requireUppercase' | 'requireLowercase' | 'requireDigit' | 'requireSpecial';
const POLICY_FLAGS: ReadonlyArray<{ flag: PolicyFlag; label: MessageKey }> = [
  { flag: 'requireUppercase', label: 'security.requireUppercase' },
  { flag: 'requireLowercase', label: 'security.requireLowercase' },
  { flag: 'requireDigit', label: 'security.requireDigit' },
  { flag: 'requireSpecial', label: 'security.requireSpecial' },
];

function Section({ title, children }: { title: string; children: ReactNode }): ReactNode {
  return (
    <Card withBorder radius="md" p="lg">
      <Title order={2} size="h4" mb="md">
        {title}
      </Title>
      {children}
    </Card>
  );
}

/** A whole-number field bound to one setting. */
function Whole({
  label,
  description,
  value,
  min,
  max,
  onChange,
}: {
  label: string;
  description?: string;
  value: number;
  min: number;
  max: number;
  onChange: (value: number) => void;
}): ReactNode {
  return (
    <NumberInput
      label={label}
      description={description}
      value={value}
      min={min}
      max={max}
      allowDecimal={false}
      allowNegative={false}
      clampBehavior="blur"
      onChange={(next) => onChange(typeof next === 'number' ? next : min)}
    />
  );
}

function SecurityForm({ saved, editable }: { saved: Settings; editable: boolean }): ReactNode {
  const { t, language } = useI18n();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Settings>(saved);
  const dirty = JSON.stringify(draft) !== JSON.stringify(saved);
  const policy = draft.passwordPolicy;
  const setPolicy = (change: Partial<Settings['passwordPolicy']>) =>
    setDraft((current) => ({ ...current, passwordPolicy: { ...current.passwordPolicy, ...change } }));
  const setThrottle = (change: Partial<Settings['throttle']>) =>
    setDraft((current) => ({ ...current, throttle: { ...current.throttle, ...change } }));

  const save = useMutation({
    mutationFn: () => unwrap(api.PUT('/api/v1/settings/security', { body: draft })),
    onSuccess: async (next) => {
      queryClient.setQueryData(SECURITY_KEY, next);
      setDraft(next);
      notify.success(t('security.saved'));
      await queryClient.invalidateQueries({ queryKey: PASSWORD_POLICY_KEY });
    },
  });

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate();
      }}
    >
      <fieldset disabled={!editable} style={{ border: 0, padding: 0, margin: 0 }}>
        <Stack gap="lg" maw={900}>
          {!editable && (
            <Alert color="gray" variant="light">
              {t('security.readOnly')}
            </Alert>
          )}
          <Section title={t('security.passwordPolicy')}>
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <Whole
                label={t('security.minLength')}
                value={policy.minLength}
                min={1}
                max={128}
                onChange={(minLength) => setPolicy({ minLength })}
              />
              <Whole
                label={t('security.maxAgeDays')}
                description={t('security.zeroMeansNever')}
                value={policy.maxAgeDays}
                min={0}
                max={3650}
                onChange={(maxAgeDays) => setPolicy({ maxAgeDays })}
              />
              <Whole
                label={t('security.historyCount')}
                description={t('security.zeroMeansNone')}
                value={policy.historyCount}
                min={0}
                max={24}
                onChange={(historyCount) => setPolicy({ historyCount })}
              />
            </SimpleGrid>
            <Group gap="lg" mt="md">
              {POLICY_FLAGS.map(({ flag, label }) => (
                <Checkbox
                  key={flag}
                  label={t(label)}
                  checked={policy[flag]}
                  onChange={(event) => setPolicy({ [flag]: event.currentTarget.checked })}
                />
              ))}
            </Group>
          </Section>

          <Section title={t('security.mfa')}>
            <Checkbox.Group
              label={t('security.mfaRequiredRoles')}
              description={t('security.mfaRequiredHint')}
              value={draft.mfaRequiredRoles}
              onChange={(roles) =>
                setDraft((current) => ({
                  ...current,
                  mfaRequiredRoles: ROLES.filter((role: Role) => roles.includes(role)),
                }))
              }
            >
              <Group gap="lg" mt="xs">
                {ROLES.map((role) => (
                  <Checkbox key={role} value={role} label={t(`role.${role}`)} />
                ))}
              </Group>
            </Checkbox.Group>
          </Section>

          <Section title={t('security.sessions')}>
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <Whole
                label={t('security.idleTimeout')}
                description={formatMinutes(language, draft.defaultSessionTimeoutMinutes)}
                value={draft.defaultSessionTimeoutMinutes}
                min={1}
                max={525_600}
                onChange={(defaultSessionTimeoutMinutes) =>
                  setDraft((current) => ({ ...current, defaultSessionTimeoutMinutes }))
                }
              />
              <Whole
                label={t('security.absoluteHours')}
                value={draft.absoluteSessionHours}
                min={1}
                max={8760}
                onChange={(absoluteSessionHours) =>
                  setDraft((current) => ({ ...current, absoluteSessionHours }))
                }
              />
              <Whole
                label={t('security.sessionCap')}
                description={t('security.sessionCapHint')}
                value={draft.maxConcurrentSessions}
                min={0}
                max={1_000_000}
                onChange={(maxConcurrentSessions) =>
                  setDraft((current) => ({ ...current, maxConcurrentSessions }))
                }
              />
            </SimpleGrid>
          </Section>

          <Section title={t('security.throttling')}>
            <Text size="sm" c="dimmed" mb="sm">
              {t('security.throttlingHint')}
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <Whole
                label={t('security.perAccount')}
                value={draft.throttle.maxAttemptsPerAccount}
                min={1}
                max={1000}
                onChange={(maxAttemptsPerAccount) => setThrottle({ maxAttemptsPerAccount })}
              />
              <Whole
                label={t('security.perIp')}
                value={draft.throttle.maxAttemptsPerIp}
                min={1}
                max={100_000}
                onChange={(maxAttemptsPerIp) => setThrottle({ maxAttemptsPerIp })}
              />
              <Whole
                label={t('security.window')}
                description={formatMinutes(language, draft.throttle.windowMinutes)}
                value={draft.throttle.windowMinutes}
                min={1}
                max={1440}
                onChange={(windowMinutes) => setThrottle({ windowMinutes })}
              />
            </SimpleGrid>
          </Section>

          <Section title={t('security.mqtt')}>
            <NativeSelect
              label={t('security.denyAction')}
              description={t('security.denyActionHint')}
              maw={420}
              value={draft.mqtt.denyAction}
              onChange={(event) => {
                const denyAction = DENY_ACTIONS.find((action) => action === event.currentTarget.value);
                if (denyAction) setDraft((current) => ({ ...current, mqtt: { denyAction } }));
              }}
              data={DENY_ACTIONS.map((action) => ({
                value: action,
                label: t(`security.denyAction.${action}`),
              }))}
            />
          </Section>

          <Section title={t('security.apiAccess')}>
            <ApiAllowFromField
              value={draft.apiAllowFrom}
              onChange={(apiAllowFrom) => setDraft((current) => ({ ...current, apiAllowFrom }))}
            />
          </Section>

          {save.isError && <FailureAlert error={save.error} />}
          {editable && (
            <Group justify="flex-end" gap="sm">
              <Button variant="default" disabled={!dirty} onClick={() => setDraft(saved)}>
                {t('common.reset')}
              </Button>
              <Button type="submit" disabled={!dirty} loading={save.isPending}>
                {t('common.save')}
              </Button>
            </Group>
          )}
        </Stack>
      </fieldset>
    </form>
  );
}

/**
 * Settings › Security: password policy, MFA per role, session defaults and cap, sign-in throttling, what the MQTT
 * broker does with a refused publish, which networks the management API answers.
 */
export function SecuritySettings(): ReactNode {
  const { t } = useI18n();
  const me = useCurrentUser();
  const settings = useSecuritySettings();
  if (settings.isPending) {
    return (
      <Center py="xl">
        <Loader aria-label={t('common.loading')} />
      </Center>
    );
  }
  if (settings.isError) return <ErrorAlert error={settings.error} onRetry={() => void settings.refetch()} />;
  return <SecurityForm saved={settings.data} editable={canWrite(me, 'system_config')} />;
}
