import {
  Badge,
  Button,
  Card,
  Group,
  PasswordInput,
  SegmentedControl,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { IconShieldCheck, IconShieldOff } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { User } from '../../api/types';
import { ME_KEY } from '../../auth/session';
import { Dialog } from '../../components/dialog';
import { FailureAlert } from '../../components/failure-alert';
import { TotpCodeInput } from '../../components/mfa/totp-code-input';
import { TotpEnrolment } from '../../components/mfa/totp-enrolment';
import { useNotify } from '../../components/notify';
import { useI18n } from '../../i18n/i18n';

/** Turning MFA off proves presence: a current code, or the password when the phone is not at hand. */
function DisableMfaModal({ onClose }: { onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const [proof, setProof] = useState<'code' | 'password'>('code');
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const disable = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE('/api/v1/me/mfa', { body: proof === 'code' ? { code } : { password } })),
    onSuccess: async () => {
      notify.success(t('mfa.disable.done'));
      onClose();
      await queryClient.invalidateQueries({ queryKey: ME_KEY });
    },
  });
  return (
    <Dialog onClose={onClose} title={t('mfa.disable.title')}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          disable.mutate();
        }}
      >
        <Stack gap="md">
          <Text size="sm">{t('mfa.disable.explain')}</Text>
          <SegmentedControl
            value={proof}
            onChange={(value) => setProof(value === 'password' ? 'password' : 'code')}
            data={[
              { value: 'code', label: t('mfa.disable.withCode') },
              { value: 'password', label: t('mfa.disable.withPassword') },
            ]}
            aria-label={t('mfa.disable.proof')}
          />
          {proof === 'code' ? (
            <TotpCodeInput value={code} onChange={setCode} autoFocus />
          ) : (
            <PasswordInput
              label={t('password.current')}
              value={password}
              onChange={(event) => setPassword(event.currentTarget.value)}
              autoComplete="current-password"
              required
            />
          )}
          {disable.isError && <FailureAlert error={disable.error} />}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" color="red" loading={disable.isPending}>
              {t('mfa.disable.confirm')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Dialog>
  );
}

/** Own MFA: enrol with a QR code (recovery codes shown once) or disable. */
export function MfaCard({ user }: { user: User }): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<'enrol' | 'disable' | null>(null);
  const close = () => setDialog(null);
  return (
    <Card withBorder radius="md" p="lg" data-testid="mfa-card">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          {t('mfa.title')}
        </Title>
        <Badge color={user.mfaEnabled ? 'teal' : 'gray'} variant="light" data-testid="mfa-status">
          {t(user.mfaEnabled ? 'users.mfa.enabled' : 'users.mfa.disabled')}
        </Badge>
      </Group>
      <Text size="sm" mb="md">
        {t(user.mfaEnabled ? 'mfa.enabledExplain' : 'mfa.disabledExplain')}
      </Text>
      {user.mfaEnabled ? (
        <Button
          variant="light"
          color="red"
          leftSection={<IconShieldOff size={16} aria-hidden />}
          onClick={() => setDialog('disable')}
        >
          {t('mfa.disable.open')}
        </Button>
      ) : (
        <Button leftSection={<IconShieldCheck size={16} aria-hidden />} onClick={() => setDialog('enrol')}>
          {t('mfa.enrol.open')}
        </Button>
      )}
      {dialog === 'enrol' && (
        <Dialog onClose={close} title={t('mfa.enrol.title')} closeOnClickOutside={false}>
          <TotpEnrolment
            username={user.username}
            onDone={() => {
              close();
              notify.success(t('mfa.enrol.done'));
              void queryClient.invalidateQueries({ queryKey: ME_KEY });
            }}
          />
        </Dialog>
      )}
      {dialog === 'disable' && <DisableMfaModal onClose={close} />}
    </Card>
  );
}
