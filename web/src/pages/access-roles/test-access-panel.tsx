import {
  Alert,
  Button,
  Checkbox,
  Group,
  List,
  NativeSelect,
  Paper,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import type { ExplainBody, Explanation } from '../../api/types';
import { ErrorAlert } from '../../components/error-alert';
import { useI18n } from '../../i18n/i18n';
import { accessRolesApi } from './access-roles-api';

const ACTIONS = ['publish', 'subscribe', 'receive', 'http'] as const;
type ExplainAction = (typeof ACTIONS)[number];
const QOS_CHOICES = ['', '0', '1', '2'] as const;
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

function toQos(value: string): Extract<ExplainBody, { topic: string }>['qos'] {
  if (value === '0') return 0;
  if (value === '1') return 1;
  if (value === '2') return 2;
  return undefined;
}

const VERDICTS = {
  allow: { color: 'teal', title: 'testAccess.allowed' },
  partial: { color: 'yellow', title: 'testAccess.partial' },
  deny: { color: 'red', title: 'testAccess.denied' },
} as const;

/** The deny rules whose topics a partially granted subscription never delivers. */
function CarveOuts({ explanation }: { explanation: Explanation }): ReactNode {
  const { t } = useI18n();
  const carveOuts = explanation.carveOuts ?? [];
  if (carveOuts.length === 0) return <Text size="sm">{t('testAccess.noCarveOuts')}</Text>;
  return (
    <Stack gap={0} data-testid="explain-carve-outs">
      <Text size="sm">{t('testAccess.carveOuts')}</Text>
      <List size="sm">
        {carveOuts.map((carveOut) => (
          <List.Item key={`${carveOut.role}#${carveOut.ruleIndex}`}>
            {t('testAccess.carveOut', {
              role: carveOut.role,
              n: carveOut.ruleIndex + 1,
              permission: t(`accessRoles.permission.${carveOut.rule.permission}`),
              action: t(`accessRoles.action.${carveOut.rule.action}`),
              topic: carveOut.expandedTopic,
            })}
          </List.Item>
        ))}
      </List>
    </Stack>
  );
}

function ExplanationView({ explanation }: { explanation: Explanation }): ReactNode {
  const { t } = useI18n();
  const verdict = VERDICTS[explanation.decision];
  const { rule } = explanation;
  return (
    <Alert
      color={verdict.color}
      variant="light"
      title={t(verdict.title)}
      data-testid="explain-result"
      data-decision={explanation.decision}
      role="status"
    >
      <Stack gap={2}>
        <Text size="sm">{t(`testAccess.reason.${explanation.reason}`)}</Text>
        {explanation.role !== undefined && rule && (
          <Text size="sm" data-testid="explain-rule">
            {t('testAccess.decidedBy', {
              role: explanation.role,
              n: (explanation.ruleIndex ?? 0) + 1,
              permission: t(`accessRoles.permission.${rule.permission}`),
              action: t(`accessRoles.action.${rule.action}`),
              topic:
                rule.action === 'http' ? `${rule.methods?.join(',') ?? ''} ${rule.path}`.trim() : rule.topic,
            })}
          </Text>
        )}
        {explanation.expandedPath !== undefined && (
          <Text size="sm" data-testid="explain-path">
            {t('testAccess.expandedPath', { path: explanation.expandedPath })}
          </Text>
        )}
        {explanation.canonicalPath !== undefined && (
          <Text size="sm" data-testid="explain-canonical-path">
            {t('testAccess.canonicalPath', { path: explanation.canonicalPath })}
          </Text>
        )}
        {explanation.expandedTopic !== undefined && (
          <Text size="sm" data-testid="explain-topic">
            {t('testAccess.expandedTopic', { topic: explanation.expandedTopic })}
          </Text>
        )}
        {explanation.decision === 'partial' && <CarveOuts explanation={explanation} />}
      </Stack>
    </Alert>
  );
}

/** Asks the server how it would decide one MQTT operation or forwarded HTTP request of a user, and shows why. */
export function TestAccessPanel(): ReactNode {
  const { t } = useI18n();
  const [username, setUsername] = useState('');
  const [clientid, setClientid] = useState('');
  const [action, setAction] = useState<ExplainAction>('publish');
  const [topic, setTopic] = useState('');
  const [qos, setQos] = useState('');
  const [retain, setRetain] = useState(false);
  const [method, setMethod] = useState<string>('GET');
  const [path, setPath] = useState('');
  const isHttp = action === 'http';
  const explain = useMutation({
    mutationFn: () => {
      if (action === 'http') return accessRolesApi.explain({ username, action, method, path });
      const level = toQos(qos);
      return accessRolesApi.explain({
        username,
        action,
        topic,
        ...(clientid ? { clientid } : {}),
        ...(level === undefined ? {} : { qos: level }),
        ...(action === 'subscribe' ? {} : { retain }),
      });
    },
  });

  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="test-access-title">
      <Title order={2} size="h4" id="test-access-title">
        {t('testAccess.title')}
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        {t('testAccess.description')}
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          explain.mutate();
        }}
      >
        <Stack gap="sm">
          <Group grow align="flex-start">
            <TextInput
              label={t('testAccess.username')}
              value={username}
              onChange={(event) => setUsername(event.currentTarget.value)}
              autoComplete="off"
              required
            />
            {!isHttp && (
              <TextInput
                label={t('testAccess.clientId')}
                value={clientid}
                onChange={(event) => setClientid(event.currentTarget.value)}
                autoComplete="off"
              />
            )}
            <NativeSelect
              label={t('testAccess.action')}
              value={action}
              onChange={(event) => setAction(ACTIONS.find((a) => a === event.currentTarget.value) ?? action)}
              data={ACTIONS.map((a) => ({ value: a, label: t(`testAccess.action.${a}`) }))}
            />
          </Group>
          {isHttp ? (
            <Group align="flex-end">
              <NativeSelect
                label={t('testAccess.method')}
                value={method}
                onChange={(event) => setMethod(event.currentTarget.value)}
                data={[...HTTP_METHODS]}
              />
              <TextInput
                label={t('testAccess.path')}
                placeholder="/grafana/d/abc?orgId=1"
                value={path}
                onChange={(event) => setPath(event.currentTarget.value)}
                autoComplete="off"
                spellCheck={false}
                required
                style={{ flex: '1 1 280px' }}
              />
              <Button type="submit" loading={explain.isPending} disabled={!username || !path}>
                {t('testAccess.run')}
              </Button>
            </Group>
          ) : (
            <Group align="flex-end">
              <TextInput
                label={t('testAccess.topic')}
                value={topic}
                onChange={(event) => setTopic(event.currentTarget.value)}
                autoComplete="off"
                spellCheck={false}
                required
                style={{ flex: '1 1 280px' }}
              />
              <NativeSelect
                label={t('testAccess.qos')}
                value={qos}
                onChange={(event) => setQos(event.currentTarget.value)}
                data={QOS_CHOICES.map((q) => ({ value: q, label: q === '' ? t('testAccess.qos.any') : q }))}
              />
              <Checkbox
                label={t('testAccess.retain')}
                checked={retain}
                disabled={action === 'subscribe'}
                onChange={(event) => setRetain(event.currentTarget.checked)}
                mb={8}
              />
              <Button type="submit" loading={explain.isPending} disabled={!username || !topic}>
                {t('testAccess.run')}
              </Button>
            </Group>
          )}
          {explain.isError && <ErrorAlert error={explain.error} />}
          {explain.data && <ExplanationView explanation={explain.data} />}
        </Stack>
      </form>
    </Paper>
  );
}
