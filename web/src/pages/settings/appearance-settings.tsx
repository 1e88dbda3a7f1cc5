import {
  Card,
  SegmentedControl,
  Stack,
  Switch,
  Text,
  Title,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import type { ReactNode } from 'react';
import { LanguageSelect } from '../../components/language-select';
import { useI18n } from '../../i18n/i18n';

/**
 * Theme and language (docs/console.md#theme): following the operating system disables the manual light/dark
 * choice; both choices are remembered in this browser.
 */
export function AppearanceSettings(): ReactNode {
  const { t } = useI18n();
  const { colorScheme, setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light');
  const followOs = colorScheme === 'auto';

  return (
    <Stack gap="lg" maw={640}>
      <Card withBorder radius="md" p="lg">
        <Title order={2} size="h4" mb="xs">
          {t('theme.label')}
        </Title>
        <Stack gap="md">
          <Switch
            label={t('theme.followOs')}
            description={t('theme.followOsHint')}
            checked={followOs}
            onChange={(event) => setColorScheme(event.currentTarget.checked ? 'auto' : computed)}
            data-testid="theme-follow-os"
          />
          <div>
            <Text size="sm" fw={500} mb={6} id="theme-choice-label">
              {t('theme.choose')}
            </Text>
            <SegmentedControl
              aria-labelledby="theme-choice-label"
              value={computed}
              disabled={followOs}
              onChange={(value) => setColorScheme(value === 'dark' ? 'dark' : 'light')}
              data={[
                { value: 'light', label: t('theme.light') },
                { value: 'dark', label: t('theme.dark') },
              ]}
              data-testid="theme-choice"
            />
          </div>
        </Stack>
      </Card>
      <Card withBorder radius="md" p="lg">
        <Title order={2} size="h4" mb="xs">
          {t('language.label')}
        </Title>
        <LanguageSelect label={t('language.choose')} maw={280} />
      </Card>
    </Stack>
  );
}
