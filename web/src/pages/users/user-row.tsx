import { Alert, Badge, CloseButton, Group, Stack, Table, Text } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import { memo, type ReactNode } from 'react';
import type { User } from '../../api/types';
import { type Scope, TOGGLE_SCOPES } from '../../auth/permissions';
import { RelativeTime } from '../../components/relative-time';
import { RoleBadge } from '../../components/role-badge';
import { describeError } from '../../i18n/errors';
import { useI18n } from '../../i18n/i18n';
import { ScopeToggle } from './scope-toggle';
import type { ScopeDraftActions } from './use-scope-drafts';
import type { UserAction } from './user-dialog';
import { UserRowActions } from './user-row-actions';

/** Columns of the users table, for the error line's span. */
const USER_TABLE_COLUMNS = 6 + TOGGLE_SCOPES.length;

function UserCell({ user, modified }: { user: User; modified: boolean }): ReactNode {
  const { t } = useI18n();
  return (
    <Stack gap={0}>
      <Group gap={6} wrap="nowrap">
        <Text fw={600} size="sm">
          {user.username}
        </Text>
        {user.protected && (
          <Badge
            color="gray"
            variant="light"
            size="sm"
            leftSection={<IconLock size={12} aria-hidden />}
            data-testid="root-badge"
            data-hint={t('users.root.explain')}
          >
            {t('users.root')}
          </Badge>
        )}
        {user.authMethod === 'sso' && (
          <Badge
            color="cyan"
            variant="light"
            size="sm"
            data-testid="sso-badge"
            data-hint={t('users.sso.explain', { provider: user.ssoProvider ?? '' })}
          >
            {t('users.sso')}
          </Badge>
        )}
        {modified && (
          <Badge color="orange" variant="light" size="sm" data-testid="modified-badge">
            {t('users.modified')}
          </Badge>
        )}
      </Group>
      {user.email && (
        <Text size="xs" c="dimmed">
          {user.email}
        </Text>
      )}
      {user.accessRoles.length > 0 && (
        <Text size="xs" c="dimmed" data-testid="user-access-roles">
          {t('users.accessRoles', { roles: user.accessRoles.join(' → ') })}
        </Text>
      )}
    </Stack>
  );
}

/**
 * One user: identity, role, permission toggles, status, MFA, last login, actions; inactive rows dimmed.
 * Memoised: a toggle in one row renders that row only, not the whole page of users.
 */
export const UserRow = memo(function UserRow({
  me,
  user,
  canEdit,
  draft,
  error,
  saving,
  edits,
  onAction,
}: {
  me: User;
  user: User;
  canEdit: boolean;
  /** Unsaved scopes, or null when the row shows what is stored. */
  draft: readonly Scope[] | null;
  /** The last refused save of this row, if any. */
  error: unknown;
  saving: boolean;
  edits: ScopeDraftActions;
  onAction: (action: UserAction, user: User) => void;
}): ReactNode {
  const { t } = useI18n();
  const scopes = draft ?? user.scopes;
  return (
    <>
      <Table.Tr
        data-username={user.username}
        data-inactive={!user.active || undefined}
        // Dimmed by a shaded background, not by transparency, so its text keeps full contrast.
        style={user.active ? undefined : { backgroundColor: 'var(--mantine-color-default-hover)' }}
      >
        <Table.Td>
          <UserCell user={user} modified={draft !== null} />
        </Table.Td>
        <Table.Td>
          <RoleBadge role={user.role} />
        </Table.Td>
        {TOGGLE_SCOPES.map((scope) => (
          <Table.Td key={scope} ta="center">
            <ScopeToggle
              me={me}
              user={user}
              scope={scope}
              on={scopes.includes(scope)}
              canEdit={canEdit}
              onToggle={(on) => edits.toggle(user, scope, on)}
            />
          </Table.Td>
        ))}
        <Table.Td>
          <Badge color={user.active ? 'teal' : 'gray'} variant="light" radius="sm">
            {t(user.active ? 'users.status.active' : 'users.status.inactive')}
          </Badge>
        </Table.Td>
        <Table.Td>
          <Text size="sm">{t(user.mfaEnabled ? 'users.mfa.enabled' : 'users.mfa.disabled')}</Text>
        </Table.Td>
        <Table.Td>
          <RelativeTime iso={user.lastLoginAt} never={t('users.lastLogin.never')} />
        </Table.Td>
        <Table.Td>
          {canEdit && (
            <UserRowActions
              me={me}
              user={user}
              modified={draft !== null}
              saving={saving}
              onSave={() => void edits.save(user)}
              onCancel={() => edits.cancel(user.username)}
              onAction={(action) => onAction(action, user)}
            />
          )}
        </Table.Td>
      </Table.Tr>
      {error !== undefined && (
        <Table.Tr>
          <Table.Td colSpan={USER_TABLE_COLUMNS} pt={0}>
            <Alert color="red" variant="light" role="alert" py={6} data-testid="row-error">
              <Group justify="space-between" wrap="nowrap">
                <Text size="sm">{describeError(t, error, { username: user.username })}</Text>
                <CloseButton
                  size="sm"
                  aria-label={t('common.dismiss')}
                  onClick={() => edits.dismissError(user.username)}
                />
              </Group>
            </Alert>
          </Table.Td>
        </Table.Tr>
      )}
    </>
  );
});
