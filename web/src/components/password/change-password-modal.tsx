import { Button, Checkbox, Group, PasswordInput, Stack, Text } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { User } from '../../api/types';
import { useI18n } from '../../i18n/i18n';
import { Dialog } from '../dialog';
import { FailureAlert } from '../failure-alert';
import { useNotify } from '../notify';
import { NewPasswordFields, useNewPassword } from './new-password-fields';

/**
 * Seed 004's password modal. Changing one's own password needs the current one (and ends one's other
 * sessions); an admin resetting someone else's skips it and may make it temporary.
 */
export function ChangePasswordModal({
  user,
  own,
  onClose,
}: {
  user: User;
  own: boolean;
  onClose: () => void;
}): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const [currentPassword, setCurrentPassword] = useState('');
  const [mustChange, setMustChange] = useState(false);
  const next = useNewPassword();
  const name = { username: user.username };
  const change = useMutation({
    mutationFn: () =>
      own
        ? unwrap(api.PUT('/api/v1/me/password', { body: { currentPassword, password: next.password } }))
        : unwrap(
            api.PUT('/api/v1/users/{username}/password', {
              params: { path: { username: user.username } },
              body: { password: next.password, mustChange },
            }),
          ),
    onSuccess: () => {
      notify.success(t('users.password.done', name));
      onClose();
    },
  });

  return (
    <Dialog onClose={onClose} title={t('users.password.title', name)}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (next.valid) change.mutate();
        }}
      >
        <Stack gap="md">
          <Text size="sm">{t(own ? 'users.password.ownExplain' : 'users.password.adminExplain', name)}</Text>
          {own && (
            <PasswordInput
              label={t('password.current')}
              value={currentPassword}
              onChange={(event) => setCurrentPassword(event.currentTarget.value)}
              autoComplete="current-password"
              required
              data-autofocus
            />
          )}
          <NewPasswordFields state={next} />
          {!own && (
            <Checkbox
              label={t('users.password.mustChange', name)}
              checked={mustChange}
              onChange={(event) => setMustChange(event.currentTarget.checked)}
            />
          )}
          {change.isError && <FailureAlert error={change.error} />}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button
              type="submit"
              loading={change.isPending}
              disabled={!next.valid || (own && !currentPassword)}
            >
              {t('users.password.submit')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Dialog>
  );
}
