import type { ReactNode } from 'react';
import { createBrowserRouter, Navigate } from 'react-router';
import { AREA_REQUIREMENTS, meets } from './auth/permissions';
import { RequirePermission } from './auth/require-permission';
import { RequireSession, useCurrentUser } from './auth/session';
import { NotFound } from './components/not-found';
import { ConsoleLayout } from './layout/console-layout';
import { homePath } from './layout/navigation';
import { AccessRolesPage } from './pages/access-roles/access-roles-page';
import { ApiKeysPage } from './pages/api-keys/api-keys-page';
import { AuditPage } from './pages/audit/audit-page';
import { BrokersPage } from './pages/brokers/brokers-page';
import { LoginPage } from './pages/login/login-page';
import { MqttClientsPage } from './pages/mqtt-clients/mqtt-clients-page';
import { ProfilePage } from './pages/profile/profile-page';
import { RegistryPage } from './pages/registry/registry-page';
import { SessionsPage } from './pages/sessions/sessions-page';
import { AppearanceSettings } from './pages/settings/appearance-settings';
import { AuthenticationSettings } from './pages/settings/authentication-settings';
import { MonitoringSettings } from './pages/settings/monitoring-settings';
import { SecuritySettings } from './pages/settings/security-settings';
import { SettingsLayout } from './pages/settings/settings-layout';
import { UsersPage } from './pages/users/users-page';

function Home(): ReactNode {
  return <Navigate to={homePath(useCurrentUser())} replace />;
}

function SettingsHome(): ReactNode {
  const user = useCurrentUser();
  const canSeeSecurity = meets(user, AREA_REQUIREMENTS.security);
  const canSeeSso = meets(user, AREA_REQUIREMENTS.sso);
  return <Navigate to={canSeeSecurity ? 'security' : canSeeSso ? 'authentication' : 'appearance'} replace />;
}

export const router = createBrowserRouter([
  { path: '/login', element: <LoginPage /> },
  {
    element: <RequireSession />,
    children: [
      {
        element: <ConsoleLayout />,
        children: [
          { index: true, element: <Home /> },
          {
            path: 'users',
            element: (
              <RequirePermission requirement={AREA_REQUIREMENTS.users}>
                <UsersPage />
              </RequirePermission>
            ),
          },
          {
            path: 'sessions',
            element: (
              <RequirePermission requirement={AREA_REQUIREMENTS.sessions}>
                <SessionsPage />
              </RequirePermission>
            ),
          },
          {
            path: 'api-keys',
            element: (
              <RequirePermission requirement={AREA_REQUIREMENTS.apiKeys}>
                <ApiKeysPage />
              </RequirePermission>
            ),
          },
          { path: 'access-roles', element: <AccessRolesPage /> },
          { path: 'mqtt-clients', element: <MqttClientsPage /> },
          {
            path: 'registry',
            element: (
              <RequirePermission requirement={AREA_REQUIREMENTS.registry}>
                <RegistryPage />
              </RequirePermission>
            ),
          },
          {
            path: 'brokers',
            element: (
              <RequirePermission requirement={AREA_REQUIREMENTS.brokers}>
                <BrokersPage />
              </RequirePermission>
            ),
          },
          {
            path: 'audit',
            element: (
              <RequirePermission requirement={AREA_REQUIREMENTS.audit}>
                <AuditPage />
              </RequirePermission>
            ),
          },
          {
            path: 'settings',
            element: <SettingsLayout />,
            children: [
              { index: true, element: <SettingsHome /> },
              {
                path: 'security',
                element: (
                  <RequirePermission requirement={AREA_REQUIREMENTS.security}>
                    <SecuritySettings />
                  </RequirePermission>
                ),
              },
              {
                path: 'monitoring',
                element: (
                  <RequirePermission requirement={AREA_REQUIREMENTS.security}>
                    <MonitoringSettings />
                  </RequirePermission>
                ),
              },
              {
                path: 'authentication',
                element: (
                  <RequirePermission requirement={AREA_REQUIREMENTS.sso}>
                    <AuthenticationSettings />
                  </RequirePermission>
                ),
              },
              { path: 'appearance', element: <AppearanceSettings /> },
            ],
          },
          { path: 'profile', element: <ProfilePage /> },
          { path: '*', element: <NotFound /> },
        ],
      },
    ],
  },
]);
