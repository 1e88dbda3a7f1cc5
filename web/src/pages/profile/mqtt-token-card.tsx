import { Alert, Button, Card, Code, Group, Select, Stack, Text, Title } from '@mantine/core';
import { IconPlugConnected } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { IssuedMqttToken } from '../../api/types';
import { CopyTextButton } from '../../components/copy-text-button';
import { Dialog } from '../../components/dialog';
import { FailureAlert } from '../../components/failure-alert';
import { formatDateTime, formatMinutes } from '../../i18n/format';
import { useI18n } from '../../i18n/i18n';

/** Lifetimes offered, in minutes (the API takes 1 minute to 1 hour). */
const LIFETIMES = [5, 15, 30, 60] as const;
const DEFAULT_LIFETIME = 15;

/** How to use the token from a shell; the port is the broker's MQTT port (the embedded broker's: 1883 by default). */
export function mosquittoPubExample(host: string, token: IssuedMqttToken): string {
  return `mosquitto_pub -h ${host} -p 1883 -u '${token.username}' -P '${token.token}' -t 'test/topic' -m 'hello'`;
}

/** The token, shown once with its expiry and an example; Warden keeps no copy. */
function IssuedTokenDialog({ token, onClose }: { token: IssuedMqttToken; onClose: () => void }): ReactNode {
  const { t, language } = useI18n();
  const example = mosquittoPubExample(window.location.hostname, token);
  return (
    <Dialog onClose={onClose} title={t('mqttToken.issued.title')} size="lg">
      <Stack gap="md">
        <Alert color="yellow" variant="light">
          {t('mqttToken.issued.once', { expiresAt: formatDateTime(language, token.expiresAt) })}
        </Alert>
        <Code
          block
          style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
          data-testid="secret-shown-once"
        >
          {token.token}
        </Code>
        <Text size="sm">{t('mqttToken.issued.example')}</Text>
        <Code
          block
          style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
          data-testid="mqtt-token-example"
        >
          {example}
        </Code>
        <Group justify="space-between" gap="sm">
          <Group gap="sm">
            <CopyTextButton value={token.token} label={t('mqttToken.issued.copy')} variant="light" />
            <CopyTextButton value={example} label={t('mqttToken.issued.copyExample')} variant="default" />
          </Group>
          <Button onClick={onClose}>{t('users.secret.done')}</Button>
        </Group>
      </Stack>
    </Dialog>
  );
}

/**
 * A short-lived token to connect to MQTT as oneself (docs/mqtt-tokens.md): how SSO users, who have no password,
 * and their tools reach the broker. Self-service, like the rest of the profile.
 */
export function MqttTokenCard(): ReactNode {
  const { t, language } = useI18n();
  const [minutes, setMinutes] = useState<number>(DEFAULT_LIFETIME);
  const [issued, setIssued] = useState<IssuedMqttToken | null>(null);
  const issue = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/me/mqtt-token', { body: { ttlSeconds: minutes * 60 } })),
    onSuccess: setIssued,
  });
  return (
    <Card withBorder radius="md" p="lg" miw={300}>
      <Title order={2} size="h4" mb="xs">
        {t('mqttToken.title')}
      </Title>
      <Text size="sm" mb="md">
        {t('mqttToken.explain')}
      </Text>
      <Group align="flex-end" gap="sm">
        <Select
          label={t('mqttToken.lifetime')}
          data={LIFETIMES.map((value) => ({ value: String(value), label: formatMinutes(language, value) }))}
          value={String(minutes)}
          onChange={(value) => setMinutes(Number(value ?? DEFAULT_LIFETIME))}
          allowDeselect={false}
          w={180}
        />
        <Button
          variant="light"
          leftSection={<IconPlugConnected size={16} aria-hidden />}
          loading={issue.isPending}
          onClick={() => issue.mutate()}
        >
          {t('mqttToken.create')}
        </Button>
      </Group>
      {issue.isError && (
        <Stack mt="md">
          <FailureAlert error={issue.error} />
        </Stack>
      )}
      {issued && <IssuedTokenDialog token={issued} onClose={() => setIssued(null)} />}
    </Card>
  );
}
