import { Button, PasswordInput, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ME_KEY } from '../../auth/session';
import { FailureAlert } from '../../components/failure-alert';
import { NewPasswordFields, useNewPassword } from '../../components/password/new-password-fields';
import { useI18n } from '../../i18n/i18n';

/** A temporary or expired password must be replaced before the console opens. */
export function ForcedPasswordStep(): ReactNode {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [currentPassword, setCurrentPassword] = useState('');
  const next = useNewPassword();
  const change = useMutation({
    mutationFn: () =>
      unwrap(api.PUT('/api/v1/me/password', { body: { currentPassword, password: next.password } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ME_KEY }),
  });

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (next.valid) change.mutate();
      }}
    >
      <Stack gap="md">
        <Text size="sm">{t('login.passwordChange.explain')}</Text>
        {change.isError && <FailureAlert error={change.error} />}
        <PasswordInput
          label={t('password.current')}
          value={currentPassword}
          onChange={(event) => setCurrentPassword(event.currentTarget.value)}
          autoComplete="current-password"
          required
        />
        <NewPasswordFields state={next} />
        <Button type="submit" loading={change.isPending} disabled={!next.valid || !currentPassword} fullWidth>
          {t('login.passwordChange.submit')}
        </Button>
      </Stack>
    </form>
  );
}
