import { Anchor, Button, Stack, Text, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { useSetMe } from '../../auth/session';
import { FailureAlert } from '../../components/failure-alert';
import { TotpCodeInput } from '../../components/mfa/totp-code-input';
import { useI18n } from '../../i18n/i18n';

/** The second factor: a code from the authenticator app, or one of the single-use recovery codes. */
export function MfaStep(): ReactNode {
  const { t } = useI18n();
  const setMe = useSetMe();
  const [useRecovery, setUseRecovery] = useState(false);
  const [code, setCode] = useState('');
  const [recoveryCode, setRecoveryCode] = useState('');
  const verify = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/auth/mfa', {
          body: useRecovery ? { recoveryCode: recoveryCode.trim() } : { code },
        }),
      ),
    onSuccess: (result) => setMe(result),
  });

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        verify.mutate();
      }}
    >
      <Stack gap="md">
        <Text size="sm">{t(useRecovery ? 'login.mfa.recoveryExplain' : 'login.mfa.explain')}</Text>
        {verify.isError && <FailureAlert error={verify.error} testId="login-error" />}
        {useRecovery ? (
          <TextInput
            label={t('login.mfa.recoveryCode')}
            value={recoveryCode}
            onChange={(event) => setRecoveryCode(event.currentTarget.value)}
            autoComplete="off"
            spellCheck={false}
            autoFocus
            required
          />
        ) : (
          <TotpCodeInput value={code} onChange={setCode} autoFocus />
        )}
        <Button type="submit" loading={verify.isPending} fullWidth>
          {t('login.mfa.submit')}
        </Button>
        <Anchor
          component="button"
          type="button"
          size="sm"
          onClick={() => {
            setUseRecovery((current) => !current);
            verify.reset();
          }}
        >
          {t(useRecovery ? 'login.mfa.useTotp' : 'login.mfa.useRecovery')}
        </Anchor>
      </Stack>
    </form>
  );
}
