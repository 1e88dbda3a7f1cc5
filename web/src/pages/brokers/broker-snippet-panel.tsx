import { Accordion, Center, Code, Group, Loader, Text } from '@mantine/core';
import { IconFileCode } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { CopyTextButton } from '../../components/copy-text-button';
import { ErrorAlert } from '../../components/error-alert';
import { useI18n } from '../../i18n/i18n';
import { useSecuritySettings } from '../settings/use-security-settings';
import type { BrokerDraft } from './broker-draft';
import { type BrokerSnippet, brokerSnippet } from './broker-snippets';

/**
 * The broker-side configuration for the integration being edited, folded away until asked for. It repeats
 * Warden's deny action (Settings › Security, readable by whoever may read broker integrations).
 */
export function BrokerSnippetPanel({ draft }: { draft: BrokerDraft }): ReactNode {
  const { t } = useI18n();
  const settings = useSecuritySettings();
  return (
    <Accordion variant="contained" chevronPosition="left">
      <Accordion.Item value="snippet">
        <Accordion.Control icon={<IconFileCode size={18} aria-hidden />}>
          {t('brokers.snippet.title')}
        </Accordion.Control>
        <Accordion.Panel>
          {settings.isPending ? (
            <Center py="md">
              <Loader size="sm" aria-label={t('common.loading')} />
            </Center>
          ) : settings.isError ? (
            <ErrorAlert error={settings.error} onRetry={() => void settings.refetch()} />
          ) : (
            <SnippetText
              snippet={brokerSnippet(window.location.origin, draft, {
                denyAction: settings.data.mqtt.denyAction,
              })}
            />
          )}
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}

function SnippetText({ snippet }: { snippet: BrokerSnippet }): ReactNode {
  const { t } = useI18n();
  return (
    <>
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Text size="xs" c="dimmed" style={{ flex: 1 }}>
          {t('brokers.snippet.hint', { file: snippet.file })}
        </Text>
        <CopyTextButton
          value={snippet.text}
          label={t('brokers.snippet.copy')}
          size="xs"
          variant="subtle"
          color="gray"
          style={{ flexShrink: 0 }}
        />
      </Group>
      {/* Long lines scroll sideways: a region keyboard users can focus and scroll too. */}
      <Code
        block
        role="region"
        aria-label={t('brokers.snippet.title')}
        tabIndex={0}
        data-testid="broker-snippet"
        style={{ whiteSpace: 'pre', overflowX: 'auto' }}
      >
        {snippet.text}
      </Code>
    </>
  );
}
