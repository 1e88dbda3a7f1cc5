import { Button, Group, NumberInput, Stack, Text } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import type { RotateSecretBody, User } from '../../api/types';
import { Dialog } from '../../components/dialog';
import { FailureAlert } from '../../components/failure-alert';
import { SecretShownOnce } from '../../components/secret-shown-once';
import { formatDateTime, formatMinutes } from '../../i18n/format';
import { useI18n } from '../../i18n/i18n';
import { useRefreshUsers, usersApi } from './users-api';

/** The longest grace period the server accepts: a week (400 request.invalid beyond). */
const MAX_GRACE_MINUTES = 10_080;

/**
 * A device's or service's new generated secret (docs/console.md#users): an optional grace period during which
 * the old secret still works, then the new secret, shown once with a copy button.
 */
export function RotateSecretModal({ user, onClose }: { user: User; onClose: () => void }): ReactNode {
  const { t, language } = useI18n();
  const refresh = useRefreshUsers();
  const [graceMinutes, setGraceMinutes] = useState(0);
  const name = { username: user.username };
  const rotate = useMutation({
    mutationFn: (body: RotateSecretBody) => usersApi.rotateSecret(user.username, body),
    onSuccess: () => refresh(),
  });

  if (rotate.data) {
    const until = rotate.data.previousSecretValidUntil;
    return (
      <Dialog onClose={onClose} title={t('users.rotate.title', name)}>
        <SecretShownOnce
          secret={rotate.data.secret}
          username={user.username}
          note={
            until === null
              ? t('users.secret.previousEnded')
              : t('users.secret.previousUntil', { time: formatDateTime(language, until) })
          }
          onDone={onClose}
        />
      </Dialog>
    );
  }

  return (
    <Dialog onClose={onClose} title={t('users.rotate.title', name)}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          rotate.mutate({ graceMinutes });
        }}
      >
        <Stack gap="md">
          <Text size="sm">{t('users.rotate.explain', name)}</Text>
          <NumberInput
            label={t('users.rotate.grace')}
            description={
              graceMinutes === 0
                ? t('users.rotate.grace.none')
                : t('users.rotate.grace.means', { duration: formatMinutes(language, graceMinutes) })
            }
            value={graceMinutes}
            onChange={(value) => setGraceMinutes(typeof value === 'number' ? value : 0)}
            min={0}
            max={MAX_GRACE_MINUTES}
            allowDecimal={false}
            allowNegative={false}
            clampBehavior="strict"
            data-testid="grace-minutes-input"
            data-autofocus
          />
          {rotate.isError && <FailureAlert error={rotate.error} values={name} />}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={rotate.isPending}>
              {t('users.rotate.submit')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Dialog>
  );
}
