import { Switch } from '@mantine/core';
import type { ReactNode } from 'react';
import type { User } from '../../api/types';
import { actOnRefusal, mayGrant, roleCanHold, type Scope } from '../../auth/permissions';
import { useI18n } from '../../i18n/i18n';
import type { MessageKey } from '../../i18n/messages.en';

/** Why a toggle cannot be switched, or null when it can. */
function lockReason(me: User, user: User, scope: Scope, on: boolean, canEdit: boolean): MessageKey | null {
  if (!canEdit) return 'users.scopes.readOnly';
  if (user.protected) return 'users.scopes.protected';
  if (actOnRefusal(me, user) !== null) return 'users.action.outranks';
  if (!roleCanHold(user.role, scope)) return 'users.scopes.roleCannotHold';
  if (!on && !mayGrant(me, user.role, [scope])) return 'users.scopes.notHeld';
  return null;
}

/**
 * One of the permission toggles in a user's row. A locked toggle says why in its hint (shown by the
 * table's HintRegion); the hint sits on a wrapper because a disabled input receives no pointer events.
 */
export function ScopeToggle({
  me,
  user,
  scope,
  on,
  canEdit,
  onToggle,
}: {
  me: User;
  user: User;
  scope: Scope;
  on: boolean;
  canEdit: boolean;
  onToggle: (on: boolean) => void;
}): ReactNode {
  const { t } = useI18n();
  const reason = lockReason(me, user, scope, on, canEdit);
  const scopeLabel = t(`scope.${scope}`);
  return (
    <span
      style={{ display: 'inline-flex', verticalAlign: 'middle' }}
      data-hint={reason ? t(reason, { scope: scopeLabel, role: t(`role.${user.role}`) }) : undefined}
    >
      <Switch
        checked={on}
        disabled={reason !== null}
        onChange={(event) => onToggle(event.currentTarget.checked)}
        aria-label={t('users.scopes.toggleLabel', { scope: scopeLabel, username: user.username })}
        data-scope={scope}
      />
    </span>
  );
}
