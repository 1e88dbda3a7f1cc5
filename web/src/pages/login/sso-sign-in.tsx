import { Alert, Button, Divider, Stack } from '@mantine/core';
import { IconLogin2 } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import type { SignInProvider } from '../../api/types';
import { useSsoProviders } from '../../auth/sso-providers';
import { isMessageKey, useI18n } from '../../i18n/i18n';

/** The start of a sign-in at `provider`: a full navigation, since the browser leaves for the provider. */
function startHref(provider: SignInProvider, returnTo: string): string {
  return `/api/v1/auth/sso/${encodeURIComponent(provider.name)}/start?returnTo=${encodeURIComponent(returnTo)}`;
}

/**
 * "Sign in with …" for each enabled SSO provider (docs/sso.md#signing-in), under the password form. Nothing when
 * no provider is enabled, or while the list cannot be read: the password form stands on its own.
 */
export function SsoButtons({ returnTo }: { returnTo: string }): ReactNode {
  const { t } = useI18n();
  const providers = useSsoProviders();
  if (!providers.data || providers.data.length === 0) return null;
  return (
    <Stack gap="sm" mt="md" data-testid="sso-buttons">
      <Divider label={t('common.or')} labelPosition="center" />
      {providers.data.map((provider) => (
        <Button
          key={provider.name}
          component="a"
          href={startHref(provider, returnTo)}
          variant="default"
          fullWidth
          leftSection={<IconLogin2 size={16} aria-hidden />}
        >
          {t('login.sso.signInWith', { provider: provider.displayName })}
        </Button>
      ))}
    </Stack>
  );
}

/** Why the last SSO sign-in did not work (`/login?ssoError=<code>`), in the words of the chosen language. */
export function SsoErrorBanner({ code }: { code: string }): ReactNode {
  const { t } = useI18n();
  const key = `error.${code}`;
  return (
    <Alert
      color="red"
      variant="light"
      role="alert"
      mb="md"
      title={t('login.sso.failedTitle')}
      data-testid="sso-error"
    >
      {isMessageKey(key) ? t(key) : t('login.sso.failed', { code })}
    </Alert>
  );
}
