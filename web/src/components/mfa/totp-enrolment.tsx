import { Alert, Button, Center, Code, Group, Image, Loader, Stack, Text } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { describeError } from '../../i18n/errors';
import { useI18n } from '../../i18n/i18n';
import { CopyTextButton } from '../copy-text-button';
import { FailureAlert } from '../failure-alert';
import { RecoveryCodes } from './recovery-codes';
import { TotpCodeInput } from './totp-code-input';

/**
 * The server renders the QR code (with `qrcode`); it is shown as an image, never injected as markup, so even
 * a compromised answer cannot run script in the console.
 */
function qrImageSource(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

/** Enrols an authenticator: scan the QR code (or type the secret), prove one code, keep the recovery codes. */
export function TotpEnrolment({ username, onDone }: { username: string; onDone: () => void }): ReactNode {
  const { t } = useI18n();
  const [code, setCode] = useState('');
  const start = useMutation({ mutationFn: () => unwrap(api.POST('/api/v1/me/mfa/totp')) });
  const confirm = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/me/mfa/totp/confirm', { body: { code } })),
  });
  const { mutate: begin } = start;
  const begun = useRef(false);

  useEffect(() => {
    // Each start makes the server draw a new secret: start once per mount, even when effects run twice.
    if (begun.current) return;
    begun.current = true;
    begin();
  }, [begin]);

  if (confirm.data) {
    return <RecoveryCodes codes={confirm.data.recoveryCodes} username={username} onDone={onDone} />;
  }
  if (start.isError) {
    return (
      <Alert color="red" variant="light" role="alert">
        {describeError(t, start.error)}
        <Button variant="subtle" size="compact-sm" ml="sm" onClick={() => begin()}>
          {t('common.retry')}
        </Button>
      </Alert>
    );
  }
  if (!start.data) {
    return (
      <Center py="xl">
        <Loader aria-label={t('common.loading')} />
      </Center>
    );
  }

  const enrolment = start.data;
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        confirm.mutate();
      }}
    >
      <Stack gap="md">
        <Text size="sm">{t('mfa.enrol.scan')}</Text>
        <Center>
          <Image
            src={qrImageSource(enrolment.qrSvg)}
            alt={t('mfa.enrol.qrAlt')}
            w={200}
            h={200}
            bg="white"
            p={8}
            radius="md"
            data-testid="totp-qr"
          />
        </Center>
        <div>
          <Text size="sm" mb={4}>
            {t('mfa.enrol.manual')}
          </Text>
          <Group gap="xs" wrap="nowrap">
            <Code fz="sm" data-testid="totp-secret" style={{ wordBreak: 'break-all' }}>
              {enrolment.secret}
            </Code>
            <CopyTextButton
              value={enrolment.secret}
              label={t('common.copy')}
              size="compact-sm"
              variant="subtle"
            />
          </Group>
        </div>
        {confirm.isError && <FailureAlert error={confirm.error} />}
        <TotpCodeInput value={code} onChange={setCode} />
        <Button type="submit" loading={confirm.isPending} disabled={code.length !== 6}>
          {t('mfa.enrol.confirm')}
        </Button>
      </Stack>
    </form>
  );
}
