import { AppShell, Burger, Group, NavLink, ScrollArea, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { Outlet, NavLink as RouterNavLink, useLocation } from 'react-router';
import { useCurrentUser } from '../auth/session';
import { useI18n } from '../i18n/i18n';
import { Logo } from './logo';
import { visibleSections } from './navigation';
import classes from './skip-link.module.css';
import { UserMenu } from './user-menu';

/** The console frame: top bar with the user menu, left navigation, and the page. */
export function ConsoleLayout(): ReactNode {
  const { t } = useI18n();
  const user = useCurrentUser();
  const location = useLocation();
  const [navOpen, { toggle: toggleNav, close: closeNav }] = useDisclosure(false);

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !navOpen } }}
      padding="lg"
    >
      <AppShell.Header>
        <a href="#main" className={classes.skipLink}>
          {t('nav.skipToContent')}
        </a>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={navOpen}
              onClick={toggleNav}
              hiddenFrom="sm"
              size="sm"
              aria-label={t('nav.toggle')}
            />
            <Logo />
          </Group>
          <UserMenu />
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="xs" aria-label={t('nav.label')} component="nav">
        <ScrollArea>
          {visibleSections(user).map((section) => (
            <div key={section.label}>
              <Text size="xs" fw={700} tt="uppercase" c="dimmed" px="sm" pt="md" pb={4}>
                {t(section.label)}
              </Text>
              {section.items.map((item) => (
                <NavLink
                  key={item.path}
                  component={RouterNavLink}
                  to={item.path}
                  label={t(item.label)}
                  leftSection={<item.icon size={18} stroke={1.6} aria-hidden />}
                  rightSection={item.badge && <item.badge />}
                  active={location.pathname.startsWith(item.path)}
                  onClick={closeNav}
                />
              ))}
            </div>
          ))}
        </ScrollArea>
      </AppShell.Navbar>

      <AppShell.Main id="main" tabIndex={-1}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
