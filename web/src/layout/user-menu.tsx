import { Avatar, Group, Menu, Text, UnstyledButton, useMantineColorScheme } from '@mantine/core';
import {
  type Icon,
  IconCheck,
  IconChevronDown,
  IconDeviceDesktop,
  IconLanguage,
  IconLogout,
  IconMoon,
  IconSun,
  IconUserCircle,
} from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { useCurrentUser, useSignOut } from '../auth/session';
import { LANGUAGES, type Language, useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/messages.en';

const COLOR_SCHEMES = [
  { value: 'light', label: 'theme.light', icon: IconSun },
  { value: 'dark', label: 'theme.dark', icon: IconMoon },
  { value: 'auto', label: 'theme.auto', icon: IconDeviceDesktop },
] as const satisfies ReadonlyArray<{ value: string; label: MessageKey; icon: Icon }>;

/** Top-bar menu: profile, theme, language and sign-out, one keyboard-navigable list. */
export function UserMenu(): ReactNode {
  const { t, language, setLanguage } = useI18n();
  const user = useCurrentUser();
  const signOut = useSignOut();
  const navigate = useNavigate();
  const { colorScheme, setColorScheme } = useMantineColorScheme();
  const selected = <IconCheck size={14} aria-hidden />;

  return (
    <Menu position="bottom-end" width={220} shadow="md" withinPortal>
      <Menu.Target>
        <UnstyledButton aria-label={t('userMenu.open', { username: user.username })} data-testid="user-menu">
          <Group gap={8} wrap="nowrap">
            <Avatar size="sm" radius="xl" color="indigo" aria-hidden>
              {user.username.slice(0, 2).toUpperCase()}
            </Avatar>
            <Text size="sm" fw={500} visibleFrom="xs">
              {user.username}
            </Text>
            <IconChevronDown size={14} aria-hidden />
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Item
          leftSection={<IconUserCircle size={16} aria-hidden />}
          onClick={() => navigate('/profile')}
        >
          {t('userMenu.profile')}
        </Menu.Item>
        <Menu.Divider />
        <Menu.Label>{t('theme.label')}</Menu.Label>
        {COLOR_SCHEMES.map((scheme) => (
          <Menu.Item
            key={scheme.value}
            leftSection={<scheme.icon size={16} aria-hidden />}
            rightSection={colorScheme === scheme.value ? selected : null}
            onClick={() => setColorScheme(scheme.value)}
            aria-current={colorScheme === scheme.value ? 'true' : undefined}
          >
            {t(scheme.label)}
          </Menu.Item>
        ))}
        <Menu.Divider />
        <Menu.Label>{t('language.label')}</Menu.Label>
        {(Object.keys(LANGUAGES) as Language[]).map((code) => (
          <Menu.Item
            key={code}
            lang={code}
            leftSection={<IconLanguage size={16} aria-hidden />}
            rightSection={language === code ? selected : null}
            onClick={() => setLanguage(code)}
            aria-current={language === code ? 'true' : undefined}
          >
            {LANGUAGES[code].label}
          </Menu.Item>
        ))}
        <Menu.Divider />
        <Menu.Item
          color="red"
          leftSection={<IconLogout size={16} aria-hidden />}
          onClick={() =>
            void signOut().then((endSessionUrl) =>
              // Signed in through an SSO provider: sign out there too, which brings the browser back to /login.
              endSessionUrl ? window.location.assign(endSessionUrl) : navigate('/login'),
            )
          }
        >
          {t('userMenu.signOut')}
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
