import { Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { IconKey } from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';
import { useCurrentUser } from '../../auth/session';
import { PageHeader } from '../../components/page-header';
import { ChangePasswordModal } from '../../components/password/change-password-modal';
import { useI18n } from '../../i18n/i18n';
import { MfaCard } from './mfa-card';
import { MqttTokenCard } from './mqtt-token-card';
import { OwnSessionsCard } from './own-sessions-card';
import { ProfileDetails } from './profile-details';

/**
 * Self-service, always allowed (docs/permissions.md#who-may-do-what): my details, password, MFA, an MQTT token
 * and sessions.
 */
export function ProfilePage(): ReactNode {
  const { t } = useI18n();
  const user = useCurrentUser();
  const [changingPassword, setChangingPassword] = useState(false);
  return (
    <>
      <PageHeader title={t('profile.title')} description={t('profile.description')} />
      <Stack gap="lg">
        <ProfileDetails user={user} />
        <Group grow align="stretch" wrap="wrap">
          <Card withBorder radius="md" p="lg" miw={300}>
            <Title order={2} size="h4" mb="xs">
              {t('profile.password')}
            </Title>
            <Text size="sm" mb="md">
              {t('profile.passwordExplain')}
            </Text>
            <Button
              variant="light"
              leftSection={<IconKey size={16} aria-hidden />}
              onClick={() => setChangingPassword(true)}
            >
              {t('profile.changePassword')}
            </Button>
          </Card>
          <MfaCard user={user} />
          <MqttTokenCard />
        </Group>
        <OwnSessionsCard />
      </Stack>
      {changingPassword && <ChangePasswordModal user={user} own onClose={() => setChangingPassword(false)} />}
    </>
  );
}
