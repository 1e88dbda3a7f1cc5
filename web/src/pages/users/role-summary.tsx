import { Alert, List, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { ROLES, type Role, type Scope } from '../../auth/permissions';
import { useI18n } from '../../i18n/i18n';

/** Seed 004's "Role permissions" note, plus the permissions this user will get. */
export function RoleSummary({ granted }: { granted: readonly Scope[] | null }): ReactNode {
  const { t } = useI18n();
  return (
    <Alert variant="light" color="gray" title={t('users.form.rolePermissions')}>
      <List size="sm" spacing={2}>
        {[...ROLES].reverse().map((role: Role) => (
          <List.Item key={role}>
            <Text span size="sm" fw={600}>
              {t(`role.${role}`)}
            </Text>
            {`: ${t(`role.${role}.summary`)}`}
          </List.Item>
        ))}
      </List>
      {granted && (
        <Text size="sm" mt="xs" data-testid="granted-scopes">
          {t('users.form.granted', {
            scopes:
              granted.length > 0
                ? granted.map((scope) => t(`scope.${scope}`)).join(', ')
                : t('users.form.grantedNone'),
          })}
        </Text>
      )}
    </Alert>
  );
}
