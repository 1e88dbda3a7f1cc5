import { Accordion, Code, Group, Text } from '@mantine/core';
import { IconFileCode } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { CopyTextButton } from '../../components/copy-text-button';
import { useI18n } from '../../i18n/i18n';
import type { BrokerDraft } from './broker-draft';
import { brokerSnippet } from './broker-snippets';

/** The broker-side configuration for the integration being edited, folded away until asked for. */
export function BrokerSnippetPanel({ draft }: { draft: BrokerDraft }): ReactNode {
  const { t } = useI18n();
  const snippet = brokerSnippet(window.location.origin, draft);
  return (
    <Accordion variant="contained" chevronPosition="left">
      <Accordion.Item value="snippet">
        <Accordion.Control icon={<IconFileCode size={18} aria-hidden />}>
          {t('brokers.snippet.title')}
        </Accordion.Control>
        <Accordion.Panel>
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
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}
