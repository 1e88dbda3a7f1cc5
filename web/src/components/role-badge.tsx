import { Badge } from '@mantine/core';
import type { ReactNode } from 'react';
import type { Role } from '../auth/permissions';
import { useI18n } from '../i18n/i18n';

const ROLE_COLORS: Record<Role, string> = { admin: 'grape', operator: 'blue', viewer: 'gray' };

/** A role as a coloured pill. */
export function RoleBadge({ role }: { role: Role }): ReactNode {
  const { t } = useI18n();
  return (
    <Badge color={ROLE_COLORS[role]} variant="light" radius="xl">
      {t(`role.${role}`)}
    </Badge>
  );
}
