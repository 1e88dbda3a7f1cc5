import { Alert, Button, Code, Group, SimpleGrid, Stack, Text } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useI18n } from '../../i18n/i18n';
import { CopyTextButton } from '../copy-text-button';

function download(codes: readonly string[], username: string): void {
  const blob = new Blob([`${codes.join('\n')}\n`], { type: 'text/plain' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = `warden-recovery-codes-${username}.txt`;
  link.click();
  URL.revokeObjectURL(url);
}

/** The recovery codes, shown exactly once (the server keeps only their hashes). */
export function RecoveryCodes({
  codes,
  username,
  onDone,
}: {
  codes: readonly string[];
  username: string;
  onDone: () => void;
}): ReactNode {
  const { t } = useI18n();
  return (
    <Stack gap="md">
      <Alert color="yellow" variant="light" title={t('mfa.recovery.title')}>
        {t('mfa.recovery.explain')}
      </Alert>
      <SimpleGrid cols={2} spacing="xs" data-testid="recovery-codes">
        {codes.map((code) => (
          <Code key={code} fz="sm" ta="center" py={6}>
            {code}
          </Code>
        ))}
      </SimpleGrid>
      <Group gap="sm">
        <CopyTextButton value={codes.join('\n')} label={t('mfa.recovery.copy')} variant="light" />
        <Button
          variant="light"
          leftSection={<IconDownload size={16} aria-hidden />}
          onClick={() => download(codes, username)}
        >
          {t('mfa.recovery.download')}
        </Button>
      </Group>
      <Text size="sm">{t('mfa.recovery.once')}</Text>
      <Button onClick={onDone}>{t('mfa.recovery.done')}</Button>
    </Stack>
  );
}
