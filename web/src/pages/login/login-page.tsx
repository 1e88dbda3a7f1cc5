import { Anchor, Center, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { type ReactNode, useEffect } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { FullPageLoader, useMe, useSignOut } from '../../auth/session';
import { ErrorAlert } from '../../components/error-alert';
import { LanguageSelect } from '../../components/language-select';
import { useI18n } from '../../i18n/i18n';
import type { MessageKey } from '../../i18n/messages.en';
import { Logo } from '../../layout/logo';
import { homePath } from '../../layout/navigation';
import { EnrolStep } from './enrol-step';
import { ForcedPasswordStep } from './forced-password-step';
import { MfaStep } from './mfa-step';
import { PasswordStep } from './password-step';
import { returnToFromSearch } from './return-to';
import { SsoButtons, SsoErrorBanner } from './sso-sign-in';

/** Only same-site paths: `from` comes from the URL and must never send the user elsewhere. */
function safeReturnPath(from: string | null): string | null {
  return from?.startsWith('/') && !from.startsWith('//') && !from.startsWith('/login') ? from : null;
}

const STEP_TITLES = {
  password: 'login.title',
  mfa: 'login.mfa.title',
  password_change: 'login.passwordChange.title',
  mfa_enroll: 'login.enrol.title',
} as const satisfies Record<string, MessageKey>;

/** Sign-in and every step a login may still need: second factor, new password, MFA enrolment. */
export function LoginPage(): ReactNode {
  const { t } = useI18n();
  const me = useMe();
  const signOut = useSignOut();
  const [params] = useSearchParams();
  const step = me.data?.next ?? 'password';
  // A reverse proxy sent the browser here (docs/forward-auth.md): back there, outside the console's router.
  const returnTo = returnToFromSearch(window.location.search, window.location.origin);
  const complete = me.data?.next === null;
  // A single sign-on that did not work comes back here with its reason (docs/sso.md#signing-in).
  const ssoError = params.get('ssoError');

  useEffect(() => {
    document.title = `${t(STEP_TITLES[step])} · Warden`;
  }, [step, t]);

  useEffect(() => {
    if (complete && returnTo !== null) window.location.replace(returnTo);
  }, [complete, returnTo]);

  if (me.isPending) return <FullPageLoader />;
  if (complete && returnTo !== null) {
    return (
      <Center mih="100vh" component="main">
        <Text role="status">{t('login.returning')}</Text>
      </Center>
    );
  }
  if (me.data && me.data.next === null) {
    return <Navigate to={safeReturnPath(params.get('from')) ?? homePath(me.data.user)} replace />;
  }

  return (
    <Center mih="100vh" p="md" component="main">
      <Stack w="100%" maw={440} gap="lg">
        <Group justify="space-between">
          <Logo />
          <LanguageSelect size="xs" w={130} aria-label={t('language.label')} />
        </Group>
        <Paper withBorder shadow="sm" p="xl" radius="lg">
          <Title order={1} size="h3" mb="md">
            {t(STEP_TITLES[step])}
          </Title>
          {me.isError && <ErrorAlert error={me.error} onRetry={() => void me.refetch()} />}
          {step === 'password' && ssoError && <SsoErrorBanner code={ssoError} />}
          {step === 'password' && <PasswordStep />}
          {step === 'password' && (
            <SsoButtons returnTo={returnTo ?? safeReturnPath(params.get('from')) ?? '/'} />
          )}
          {step === 'mfa' && <MfaStep />}
          {step === 'password_change' && <ForcedPasswordStep />}
          {step === 'mfa_enroll' && <EnrolStep />}
          {me.data && (
            <Text size="sm" mt="lg" ta="center">
              <Anchor component="button" type="button" onClick={() => void signOut()}>
                {t('login.startOver', { username: me.data.user.username })}
              </Anchor>
            </Text>
          )}
        </Paper>
      </Stack>
    </Center>
  );
}
