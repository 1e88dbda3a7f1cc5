import {
  Alert,
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
import { useSsoProviders } from '../../auth/sso-providers';
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
const AUTH_METHODS = ['local', 'sso'] as const;
type AuthMethod = (typeof AUTH_METHODS)[number];

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
 * The provider choices: the enabled providers, and the user's own when it is not among them (disabled or gone),
 * so editing an SSO user never silently moves it to another provider.
 */
function useProviderOptions(current: string | null): { value: string; label: string }[] {
  const { t } = useI18n();
  const providers = useSsoProviders();
  const options = (providers.data ?? []).map((p) => ({ value: p.name, label: p.displayName }));
  if (current && !options.some((option) => option.value === current)) {
    options.push({ value: current, label: t('users.form.ssoProviderNotEnabled', { provider: current }) });
  }
  return options;
}

/**
 * Create a user, or edit one (username fixed: it is the natural key). The first field is how the user signs in
 * (docs/sso.md#users-and-the-authentication-method): a local password, or an SSO provider — then an email is
 * required and there is no password; switching an existing user asks for confirmation first, and a switch back to
 * local shows the one-time password once. A device or service gets a secret Warden generates by default (checked
 * with the fast keyed hash at every MQTT connection, docs/authentication.md), shown once after creating.
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
  const [authMethod, setAuthMethod] = useState<AuthMethod>(user?.authMethod ?? 'local');
  const [ssoProvider, setSsoProvider] = useState<string>(user?.ssoProvider ?? '');
  const providerOptions = useProviderOptions(user?.ssoProvider ?? null);
  // An existing user's method changes only after the confirmation step (seed 004): what the user will see next.
  const [confirmingSwitch, setConfirmingSwitch] = useState(false);
  const [role, setRole] = useState<Role>(user?.role ?? 'viewer');
  const [timeout, setTimeoutMinutes] = useState<number>(user?.sessionTimeoutMinutes ?? 0);
  const [accessRoles, setAccessRoles] = useState<string[]>(user?.accessRoles ?? []);
  const accessRoleNames = useAccessRoleNames();
  // Mistakes show once a field is left (or on submit), not while the first characters are typed.
  const [usernameTouched, setUsernameTouched] = useState(false);
  const [emailTouched, setEmailTouched] = useState(false);
  const password = useNewPassword();
  const [generate, setGenerate] = useState(true);
  const [created, setCreated] = useState<{ username: string; secret: string; oneTime: boolean } | null>(null);
  const timeoutDescription = useTimeoutDescription(timeout);
  const sso = authMethod === 'sso';
  const generating = !editing && kind !== 'person' && generate;
  // The provider shown is the chosen one, else the first offered (the select shows that one selected).
  const provider = ssoProvider || providerOptions[0]?.value || '';
  const methodChanged = editing && authMethod !== user.authMethod;
  const providerChanged = editing && sso && provider !== (user.ssoProvider ?? '');

  const roleChanged = user === null || role !== user.role;
  const scopes = roleChanged ? grantableDefaults(me, role) : null;
  const usernameValid = USERNAME_PATTERN.test(username);
  // SSO users are found by the verified email their provider asserts: required for them.
  const emailValid = email === '' ? !sso : EMAIL_PATTERN.test(email);
  const methodValid = !sso || provider !== '';
  const canSubmit =
    emailValid && methodValid && (editing || (usernameValid && (sso || generating || password.valid)));

  const save = useMutation({
    mutationFn: async (): Promise<Pick<CreatedUser, 'username' | 'generatedPassword'>> => {
      if (!user) {
        const body: CreateUserBody = {
          username,
          ...(sso ? { authMethod: 'sso', ssoProvider: provider } : {}),
          ...(generating || sso ? {} : { password: password.password }),
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
        ...(methodChanged ? { authMethod } : {}),
        ...(sso && (methodChanged || providerChanged) ? { ssoProvider: provider } : {}),
      };
      return usersApi.update(user.username, body);
    },
    onSuccess: async (saved) => {
      notify.success(t(editing ? 'users.form.updated' : 'users.form.created', { username: saved.username }));
      if (saved.generatedPassword) {
        setCreated({ username: saved.username, secret: saved.generatedPassword, oneTime: editing });
      } else onClose();
      await refresh();
    },
  });

  if (created) {
    const name = { username: created.username };
    return (
      <Dialog
        onClose={onClose}
        title={created.oneTime ? t('users.form.editTitle', name) : t('users.form.createTitle')}
      >
        <SecretShownOnce
          secret={created.secret}
          username={created.username}
          {...(created.oneTime
            ? { title: t('users.form.oneTime.title', name), message: t('users.form.oneTime.once', name) }
            : {})}
          onDone={onClose}
        />
      </Dialog>
    );
  }

  if (confirmingSwitch && user) {
    const providerName = providerOptions.find((option) => option.value === provider)?.label ?? provider;
    const values = { username: user.username, provider: providerName };
    return (
      <Dialog onClose={onClose} title={t('users.form.switch.title', values)}>
        <Stack gap="md" data-testid="auth-method-confirm">
          <Alert color="yellow" variant="light">
            {t(sso ? 'users.form.switch.toSso' : 'users.form.switch.toLocal', values)}
          </Alert>
          {save.isError && <FailureAlert error={save.error} values={{ username }} />}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={() => setConfirmingSwitch(false)}>
              {t('users.form.switch.back')}
            </Button>
            <Button loading={save.isPending} onClick={() => save.mutate()}>
              {t('users.form.switch.confirm')}
            </Button>
          </Group>
        </Stack>
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
          if (!canSubmit) return;
          if (methodChanged) setConfirmingSwitch(true);
          else save.mutate();
        }}
        noValidate
      >
        <Stack gap="sm">
          <Group grow align="flex-start">
            <NativeSelect
              label={t('users.form.authMethod')}
              value={authMethod}
              onChange={(event) =>
                setAuthMethod(AUTH_METHODS.find((m) => m === event.currentTarget.value) ?? authMethod)
              }
              disabled={user?.protected}
              description={
                user?.protected
                  ? t('users.form.authMethodFixed')
                  : kind !== 'person'
                    ? t('users.form.authMethodPeople')
                    : undefined
              }
              data={AUTH_METHODS.map((m) => ({
                value: m,
                label: t(`users.form.authMethod.${m}`),
                // Only people sign in with SSO, and only where a provider can be chosen.
                disabled:
                  m === 'sso' && authMethod !== 'sso' && (kind !== 'person' || providerOptions.length === 0),
              }))}
              data-testid="auth-method-input"
            />
            {sso && (
              <NativeSelect
                label={t('users.form.ssoProvider')}
                value={provider}
                onChange={(event) => setSsoProvider(event.currentTarget.value)}
                data={providerOptions}
                data-testid="sso-provider-input"
              />
            )}
          </Group>
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
            description={sso ? t('users.form.emailForSso') : undefined}
            required={sso}
            type="email"
            value={email}
            onChange={(event) => setEmail(event.currentTarget.value.trim())}
            onBlur={() => setEmailTouched(true)}
            error={
              emailTouched && !emailValid
                ? t(email === '' ? 'users.form.emailRequired' : 'users.form.emailInvalid')
                : undefined
            }
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
              // An SSO user is a person (devices and services have no provider to sign in at).
              data={KINDS.map((k) => ({ value: k, label: t(`kind.${k}`), disabled: sso && k !== 'person' }))}
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
          {!editing && !sso && kind !== 'person' && (
            <Checkbox
              label={t('users.form.generateSecret')}
              description={t('users.form.generateSecret.hint')}
              checked={generate}
              onChange={(event) => setGenerate(event.currentTarget.checked)}
            />
          )}
          {!editing && !generating && !sso && <NewPasswordFields state={password} />}
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
