import { Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import type { User } from '../../api/types';
import { RelativeTime } from '../../components/relative-time';
import { RoleBadge } from '../../components/role-badge';
import { formatMinutes } from '../../i18n/format';
import { useI18n } from '../../i18n/i18n';

function Field({ label, children }: { label: string; children: ReactNode }): ReactNode {
  return (
    <Stack gap={2}>
      <Text size="xs" fw={700} tt="uppercase" c="dimmed">
        {label}
      </Text>
      <div>{children}</div>
    </Stack>
  );
}

/** Who I am: identity, role and permissions, as the server knows me. */
export function ProfileDetails({ user }: { user: User }): ReactNode {
  const { t, language } = useI18n();
  return (
    <Card withBorder radius="md" p="lg">
      <Title order={2} size="h4" mb="md">
        {t('profile.details')}
      </Title>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="lg">
        <Field label={t('users.form.username')}>
          <Text fw={600}>{user.username}</Text>
        </Field>
        <Field label={t('users.form.email')}>
          <Text>{user.email ?? t('profile.noEmail')}</Text>
        </Field>
        <Field label={t('users.form.role')}>
          <RoleBadge role={user.role} />
        </Field>
        <Field label={t('users.form.authMethod')}>
          <Text size="sm" data-testid="profile-auth-method">
            {user.authMethod === 'sso'
              ? t('profile.signsInWith', { provider: user.ssoProvider ?? '' })
              : t('users.form.authMethod.local')}
          </Text>
        </Field>
        <Field label={t('profile.permissions')}>
          <Group gap={6}>
            {user.scopes.length === 0 && <Text size="sm">{t('users.form.grantedNone')}</Text>}
            {user.scopes.map((scope) => (
              <Badge key={scope} variant="outline" color="gray" radius="sm">
                {t(`scope.${scope}`)}
              </Badge>
            ))}
          </Group>
        </Field>
        <Field label={t('users.form.timeout')}>
          <Text size="sm">
            {user.sessionTimeoutMinutes === 0
              ? t('users.form.timeout.default')
              : formatMinutes(language, user.sessionTimeoutMinutes)}
          </Text>
        </Field>
        <Field label={t('users.column.lastLogin')}>
          <RelativeTime iso={user.lastLoginAt} never={t('users.lastLogin.never')} />
        </Field>
      </SimpleGrid>
    </Card>
  );
}
