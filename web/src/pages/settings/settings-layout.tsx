import { Tabs } from '@mantine/core';
import { IconChartLine, IconKey, IconPalette, IconShieldLock } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { AREA_REQUIREMENTS, meets } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { PageHeader } from '../../components/page-header';
import { useI18n } from '../../i18n/i18n';

/**
 * Settings: Security and Monitoring (system_config), Authentication (sso_management: single sign-on providers) and
 * Appearance (everyone's own console preferences).
 */
export function SettingsLayout(): ReactNode {
  const { t } = useI18n();
  const user = useCurrentUser();
  const navigate = useNavigate();
  const location = useLocation();
  const tab = location.pathname.split('/')[2] ?? '';
  const tabs = [
    ...(meets(user, AREA_REQUIREMENTS.security) ? ['security', 'monitoring'] : []),
    ...(meets(user, AREA_REQUIREMENTS.sso) ? ['authentication'] : []),
    'appearance',
  ];

  // A tab this user does not get (or the index redirect) renders without the tab bar.
  if (!tabs.includes(tab)) {
    return (
      <>
        <PageHeader title={t('settings.title')} />
        <Outlet />
      </>
    );
  }
  return (
    <>
      <PageHeader title={t('settings.title')} />
      <Tabs value={tab} onChange={(value) => value && navigate(`/settings/${value}`)} keepMounted={false}>
        <Tabs.List mb="lg">
          {tabs.includes('security') && (
            <Tabs.Tab value="security" leftSection={<IconShieldLock size={16} aria-hidden />}>
              {t('settings.security')}
            </Tabs.Tab>
          )}
          {tabs.includes('monitoring') && (
            <Tabs.Tab value="monitoring" leftSection={<IconChartLine size={16} aria-hidden />}>
              {t('settings.monitoring')}
            </Tabs.Tab>
          )}
          {tabs.includes('authentication') && (
            <Tabs.Tab value="authentication" leftSection={<IconKey size={16} aria-hidden />}>
              {t('settings.authentication')}
            </Tabs.Tab>
          )}
          <Tabs.Tab value="appearance" leftSection={<IconPalette size={16} aria-hidden />}>
            {t('settings.appearance')}
          </Tabs.Tab>
        </Tabs.List>
        {/* Each tab controls a panel; the route decides what the active one shows. */}
        {tabs.map((value) => (
          <Tabs.Panel key={value} value={value}>
            {value === tab && <Outlet />}
          </Tabs.Panel>
        ))}
      </Tabs>
    </>
  );
}
