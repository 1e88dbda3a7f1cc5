import { Stack, Text } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ME_KEY, useMe } from '../../auth/session';
import { TotpEnrolment } from '../../components/mfa/totp-enrolment';
import { useI18n } from '../../i18n/i18n';

/** MFA is required for this user's role: enrol an authenticator before the console opens. */
export function EnrolStep(): ReactNode {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const username = useMe().data?.user.username ?? '';
  return (
    <Stack gap="md">
      <Text size="sm">{t('login.enrol.explain')}</Text>
      <TotpEnrolment
        username={username}
        onDone={() => void queryClient.invalidateQueries({ queryKey: ME_KEY })}
      />
    </Stack>
  );
}
