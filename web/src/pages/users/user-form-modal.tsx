import {
  Button,
  Checkbox,
  Group,
  MultiSelect,
  NativeSelect,
  NumberInput,
  Stack,
  Textarea,
  TextInput,
} from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import type { CreatedUser, CreateUserBody, UpdateUserBody, User } from '../../api/types';
import { defaultScopes, mayGrant, ROLES, type Role, type Scope } from '../../auth/permissions';
import { useCurrentUser } from '../../auth/session';
import { Dialog } from '../../components/dialog';
import { FailureAlert } from '../../components/failure-alert';
import { useNotify } from '../../components/notify';
import { NewPasswordFields, useNewPassword } from '../../components/password/new-password-fields';
import { SecretShownOnce } from '../../components/secret-shown-once';
import { formatMinutes } from '../../i18n/format';
import { useI18n } from '../../i18n/i18n';
import { useAccessRoleNames } from '../access-roles/access-roles-api';
import { RoleSummary } from './role-summary';
import { useRefreshUsers, usersApi } from './users-api';

const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,50}$/;
/** A plausible address; the server validates it fully. */
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_TIMEOUT_MINUTES = 525_600;
const KINDS = ['person', 'service', 'device'] as const;
type Kind = (typeof KINDS)[number];

/** The role's default permissions, limited to those the acting admin holds ("nobody grants what they do not hold"). */
function grantableDefaults(me: User, role: Role): Scope[] {
  return defaultScopes(role).filter((scope) => me.scopes.includes(scope));
}

/** "1 hour 30 minutes" under the timeout field, or "system default" for 0. */
function useTimeoutDescription(minutes: number): string {
  const { t, language } = useI18n();
  if (minutes === 0) return t('users.form.timeout.default');
  return t('users.form.timeout.means', { duration: formatMinutes(language, minutes) });
}

/**
 * Create a user, or edit one (username fixed: it is the natural key). A device or service gets a secret Warden
 * generates by default (checked with the fast keyed hash at every MQTT connection, docs/authentication.md),
 * shown once after creating.
 */
export function UserFormModal({ user, onClose }: { user: User | null; onClose: () => void }): ReactNode {
  const { t } = useI18n();
  const notify = useNotify();
  const me = useCurrentUser();
  const refresh = useRefreshUsers();
  const editing = user !== null;
  const [username, setUsername] = useState(user?.username ?? '');
  const [email, setEmail] = useState(user?.email ?? '');
  const [description, setDescription] = useState(user?.description ?? '');
  const [kind, setKind] = useState<Kind>(user?.kind ?? 'person');
  const [role, setRole] = useState<Role>(user?.role ?? 'viewer');
  const [timeout, setTimeoutMinutes] = useState<number>(user?.sessionTimeoutMinutes ?? 0);
  const [accessRoles, setAccessRoles] = useState<string[]>(user?.accessRoles ?? []);
  const accessRoleNames = useAccessRoleNames();
  // Mistakes show once a field is left (or on submit), not while the first characters are typed.
  const [usernameTouched, setUsernameTouched] = useState(false);
  const [emailTouched, setEmailTouched] = useState(false);
  const password = useNewPassword();
  const [generate, setGenerate] = useState(true);
  const [created, setCreated] = useState<{ username: string; secret: string } | null>(null);
  const timeoutDescription = useTimeoutDescription(timeout);
  const generating = !editing && kind !== 'person' && generate;

  const roleChanged = user === null || role !== user.role;
  const scopes = roleChanged ? grantableDefaults(me, role) : null;
  const usernameValid = USERNAME_PATTERN.test(username);
  const emailValid = email === '' || EMAIL_PATTERN.test(email);
  const canSubmit = emailValid && (editing || (usernameValid && (generating || password.valid)));

  const save = useMutation({
    mutationFn: async (): Promise<Pick<CreatedUser, 'username' | 'generatedPassword'>> => {
      if (!user) {
        const body: CreateUserBody = {
          username,
          ...(generating ? {} : { password: password.password }),
          role,
          kind,
          sessionTimeoutMinutes: timeout,
          scopes: scopes ?? [],
          ...(accessRoles.length > 0 ? { accessRoles } : {}),
          ...(email ? { email } : {}),
          ...(description ? { description } : {}),
        };
        return usersApi.create(body);
      }
      const body: UpdateUserBody = {
        ...((email || null) !== user.email ? { email: email || null } : {}),
        ...(description !== user.description ? { description } : {}),
        ...(kind !== user.kind ? { kind } : {}),
        ...(timeout !== user.sessionTimeoutMinutes ? { sessionTimeoutMinutes: timeout } : {}),
        ...(scopes ? { role, scopes } : {}),
        ...(accessRoles.join('\n') !== user.accessRoles.join('\n') ? { accessRoles } : {}),
      };
      return usersApi.update(user.username, body);
    },
    onSuccess: async (saved) => {
      notify.success(t(editing ? 'users.form.updated' : 'users.form.created', { username: saved.username }));
      if (saved.generatedPassword) {
        setCreated({ username: saved.username, secret: saved.generatedPassword });
      } else onClose();
      await refresh();
    },
  });

  if (created) {
    return (
      <Dialog onClose={onClose} title={t('users.form.createTitle')}>
        <SecretShownOnce secret={created.secret} username={created.username} onDone={onClose} />
      </Dialog>
    );
  }

  return (
    <Dialog
      onClose={onClose}
      title={editing ? t('users.form.editTitle', { username: user.username }) : t('users.form.createTitle')}
      size="lg"
    >
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setUsernameTouched(true);
          setEmailTouched(true);
          if (canSubmit) save.mutate();
        }}
        noValidate
      >
        <Stack gap="sm">
          <TextInput
            label={t('users.form.username')}
            description={editing ? t('users.form.usernameFixed') : t('users.form.usernameRules')}
            value={username}
            onChange={(event) => setUsername(event.currentTarget.value)}
            onBlur={() => setUsernameTouched(true)}
            error={
              !editing && usernameTouched && !usernameValid ? t('users.form.usernameInvalid') : undefined
            }
            disabled={editing}
            autoComplete="off"
            required
            data-autofocus
          />
          <TextInput
            label={t('users.form.email')}
            type="email"
            value={email}
            onChange={(event) => setEmail(event.currentTarget.value.trim())}
            onBlur={() => setEmailTouched(true)}
            error={emailTouched && !emailValid ? t('users.form.emailInvalid') : undefined}
            autoComplete="off"
          />
          <Textarea
            label={t('users.form.description')}
            value={description}
            onChange={(event) => setDescription(event.currentTarget.value)}
            maxLength={500}
            autosize
            minRows={1}
            maxRows={4}
          />
          <Group grow align="flex-start">
            <NativeSelect
              label={t('users.form.role')}
              value={role}
              onChange={(event) => setRole(ROLES.find((r) => r === event.currentTarget.value) ?? role)}
              disabled={user?.protected}
              description={user?.protected ? t('users.form.roleFixed') : undefined}
              data={[...ROLES].reverse().map((r) => ({
                value: r,
                label: t(`role.${r}`),
                disabled: !mayGrant(me, r, []),
              }))}
            />
            <NativeSelect
              label={t('users.form.kind')}
              value={kind}
              onChange={(event) => setKind(KINDS.find((k) => k === event.currentTarget.value) ?? kind)}
              data={KINDS.map((k) => ({ value: k, label: t(`kind.${k}`) }))}
            />
          </Group>
          <NumberInput
            label={t('users.form.timeout')}
            description={timeoutDescription}
            value={timeout}
            onChange={(value) => setTimeoutMinutes(typeof value === 'number' ? value : 0)}
            min={0}
            max={MAX_TIMEOUT_MINUTES}
            allowDecimal={false}
            allowNegative={false}
            clampBehavior="strict"
            data-testid="timeout-input"
          />
          <MultiSelect
            label={t('users.form.accessRoles')}
            description={t('users.form.accessRolesOrder')}
            value={accessRoles}
            onChange={setAccessRoles}
            data={[...new Set([...(accessRoleNames.data ?? []), ...accessRoles])]}
            searchable
            clearable
            hidePickedOptions
            nothingFoundMessage={t('users.form.accessRolesNone')}
            data-testid="access-roles-input"
          />
          {!editing && kind !== 'person' && (
            <Checkbox
              label={t('users.form.generateSecret')}
              description={t('users.form.generateSecret.hint')}
              checked={generate}
              onChange={(event) => setGenerate(event.currentTarget.checked)}
            />
          )}
          {!editing && !generating && <NewPasswordFields state={password} />}
          <RoleSummary granted={scopes} />
          {save.isError && <FailureAlert error={save.error} values={{ username }} />}
          <Group justify="flex-end" gap="sm" mt="xs">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={save.isPending} disabled={!canSubmit}>
              {editing ? t('users.form.saveChanges') : t('users.form.create')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Dialog>
  );
}
