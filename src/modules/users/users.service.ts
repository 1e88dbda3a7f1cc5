import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type Clock, toIso } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import { generateSecret, recognizeGeneratedSecret } from '../../core/crypto/generated-secret.js';
import { generatePassword } from '../../core/crypto/tokens.js';
import { AppError } from '../../core/errors/app-error.js';
import type { DomainEvents } from '../../core/events.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Engine } from '../../db/database.js';
import { lockFor } from '../../db/dialects/locks.js';
import type { Database } from '../../db/schema.js';
import type { AccessRolesService } from '../access-roles/access-roles.service.js';
import type { AuditAction } from '../audit/audit.actions.js';
import { type AuditService, changedFields } from '../audit/audit.service.js';
import type { OperationContext, SelfContext } from '../permissions/operation-context.js';
import {
  type AdminCandidate,
  canActOn,
  canGrant,
  defaultScopes,
  incompatibleScopes,
  managesUsers,
  normalizeScopes,
  parseRole,
  type Role,
  roleAtLeast,
  type Scope,
} from '../permissions/permissions.policy.js';
import { enforce } from '../permissions/refusal.js';
import { checkPasswordPolicy } from '../settings/password-policy.js';
import { settingsError } from '../settings/settings.errors.js';
import { MAX_PASSWORD_HISTORY } from '../settings/settings.schemas.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { SsoProviderDirectory } from '../sso/sso-provider-directory.js';
import { PageMarks } from './page-marks.js';
import { userError } from './users.errors.js';
import { policyTarget, toPublicUser, userTarget } from './users.mapper.js';
import {
  countUserManagers,
  deleteUserRow,
  findRootUser,
  findUserById,
  findUserByUsername,
  insertPasswordHistory,
  insertUser,
  listUsers,
  recentPasswordHashes,
  replaceUnmarkedPasswordHash,
  updateUser,
} from './users.repository.js';
import {
  type AuthMethod,
  type CreateUserInput,
  isMachineKind,
  type ListUsersInput,
  type NewUserInput,
  type PublicUser,
  type UpdateUserInput,
} from './users.schemas.js';
import type { PasswordOrigin, UserRow, UserRowUpdate } from './users.table.js';

/**
 * Where a password goes after it was committed — the only moment Warden knows the plaintext (broker
 * integrations derive the broker's own credential format from it). Called after commit, never inside the
 * transaction; never throws into the user operation, which has already succeeded.
 */
export interface PasswordSink {
  passwordSet(
    user: { readonly userId: string; readonly username: string; readonly passwordChangedAt: number },
    password: string,
  ): Promise<void>;
}

/** The users service's needs of the sessions module: ending a user's sessions in the caller's transaction. */
export interface UserSessions {
  endAllForUser(trx: Kysely<Database>, userId: string, exceptId?: string): Promise<number>;
}

/** The users service's needs of the MFA module, which owns MFA state. */
export interface UserMfa {
  enabledAmong(trx: Kysely<Database>, userIds: readonly string[]): Promise<Set<string>>;
  /** Removes the authenticator in the caller's transaction; true when one was enabled. */
  clear(trx: Kysely<Database>, userId: string): Promise<boolean>;
}

export interface UsersServiceDeps {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  hasher: CredentialHasher;
  audit: AuditService;
  settings: SettingsService;
  /** Every change is recorded in its transaction; the feed carries it to every process, this one included. */
  changes: Pick<ChangeFeed, 'record' | 'settled'>;
  /** Users hold an ordered list of access roles; the access-roles service owns them and the assignments. */
  accessRoles: Pick<AccessRolesService, 'resolveForAssignment' | 'assign' | 'namesByUser'>;
  sessions: UserSessions;
  mfa: UserMfa;
  passwords: PasswordSink;
  /** SSO users name a provider; an SSO admin can sign in (counts as a user manager) while it is enabled. */
  ssoProviders: Pick<SsoProviderDirectory, 'find' | 'listEnabled'>;
}

export interface UserList {
  items: PublicUser[];
  total: number;
  page: number;
  pageSize: number;
}

export type UsersService = ReturnType<typeof createUsersService>;

/** A password ready to store: its record, where it came from, and the cleartext for the password sink. */
interface PreparedPassword {
  readonly password: string;
  readonly hash: string;
  readonly origin: PasswordOrigin;
}

/** A credential replaced on someone's behalf (admin reset, generated reset, secret rotation). */
interface Replacement {
  readonly action: 'user.password_reset' | 'user.secret_rotate';
  /** A refusal of the target beyond `canActOn`, checked before any hashing and again under the lock. */
  readonly refuse?: (target: UserRow) => void;
  readonly prepare: (target: UserRow) => Promise<PreparedPassword>;
  readonly mustChange: (target: UserRow) => boolean;
  /** Minutes the replaced credential stays valid for MQTT; 0: it stops at once. */
  readonly graceMinutes: number;
  /** Audit details besides `sessionsEnded` (never the secret). */
  readonly details: (applied: { mustChange: boolean; graceUntil: number | null }) => Record<string, unknown>;
}

/** The secret of a rotation, shown once, and until when the previous one is still accepted (epoch ms). */
export interface RotatedSecret {
  readonly secret: string;
  readonly previousValidUntil: number | null;
}

function roleOf(value: string): Role {
  return parseRole(value) ?? 'viewer';
}

function scopesOf(row: UserRow): Scope[] {
  return JSON.parse(row.scopes) as Scope[];
}

/**
 * Whether a user can sign in to the console at all: a local user with a password, or an SSO user whose provider is
 * one of `enabledProviders` (a disabled or deleted provider signs nobody in).
 */
function canSignIn(
  user: Pick<UserRow, 'auth_method' | 'sso_provider' | 'password_hash'>,
  enabledProviders: ReadonlySet<string>,
): boolean {
  if (user.auth_method === 'sso')
    return user.sso_provider !== null && enabledProviders.has(user.sso_provider);
  return user.password_hash !== null;
}

function adminCandidate(row: UserRow, enabledProviders: ReadonlySet<string>): AdminCandidate {
  return {
    role: row.role,
    active: row.active === 1,
    kind: row.kind,
    scopes: scopesOf(row),
    canSignIn: canSignIn(row, enabledProviders),
  };
}

/** A user created by an SSO sign-in (auto-provisioning): no password, linked to the provider's subject. */
export interface ProvisionedSsoUser {
  readonly username: string;
  readonly email: string;
  readonly role: Role;
  readonly scopes: readonly Scope[];
  readonly provider: string;
  readonly subject: string;
}

/** A password (chosen or generated) is for local users: an SSO user is created with `createSso`. */
function refusePasswordForSso(input: NewUserInput): void {
  if (input.authMethod === 'sso') {
    throw userError('user.sso_password', 'An SSO user signs in at its provider: leave out the password');
  }
}

/** What an SSO sign-in's role mapping did to the user (docs/sso.md#signing-in). */
export type SsoRoleOutcome = 'unchanged' | 'changed' | 'kept_last_admin';

/**
 * The user lifecycle (docs/permissions.md). Every operation validates, enforces root protection, "at least one
 * active admin who can manage users", "nobody grants what they do not hold" and "nobody acts on a user who
 * outranks them", then writes the change and its audit event in one transaction; a refusal is audited on its
 * own. Each change is recorded in the change feed in the same transaction; passwords go to the password sink
 * only after commit.
 */
export function createUsersService(deps: UsersServiceDeps) {
  const { db, clock, audit } = deps;

  /** Records a change of `row` in the operation's transaction, as its last statement. */
  function recordChange(
    trx: Kysely<Database>,
    row: UserRow,
    change: DomainEvents['user.changed']['change'],
    graceUntil: number | null = null,
  ): Promise<void> {
    return deps.changes.record(trx, 'user.changed', {
      userId: row.id,
      username: row.username,
      change,
      ...(graceUntil === null ? {} : { graceUntil }),
    });
  }
  const pageMarks = new PageMarks();

  /** Names of the enabled SSO providers, read in the operation's transaction. */
  async function enabledProviders(trx: Kysely<Database>): Promise<Set<string>> {
    return new Set((await deps.ssoProviders.listEnabled(trx)).map((provider) => provider.name));
  }

  async function mustFind(trx: Kysely<Database>, username: string): Promise<UserRow> {
    const row = await findUserByUsername(trx, username);
    if (!row) throw userError('user.not_found', `No user named "${username}"`);
    return row;
  }

  /**
   * Refuses a change that turns the last user who can manage users into one who cannot (demotion, lost scope,
   * deactivation, deletion, a kind without console login). Runs under the admin-set lock, so concurrent changes
   * (admins demoting each other) are serialized and the second one sees the first one's result.
   */
  async function assertUserManagerRemains(
    trx: Kysely<Database>,
    target: UserRow,
    change: Partial<AdminCandidate> | null,
  ): Promise<void> {
    const enabled = await enabledProviders(trx);
    const before = adminCandidate(target, enabled);
    if (!managesUsers(before) || (change !== null && managesUsers({ ...before, ...change }))) return;
    if ((await countUserManagers(trx, target.id, [...enabled])) === 0) {
      throw userError(
        'user.last_admin',
        `${target.username} is the last active admin who can manage users; give another admin user_management first`,
      );
    }
  }

  /**
   * Policy and reuse checks for a password a person chose, then its argon2id hash (computed outside any
   * transaction). The last `historyCount` passwords may not come back; a user changing their own password can
   * never keep the current one, whatever the count (an admin may re-issue it, e.g. to force a change at next
   * login).
   */
  async function prepareChosen(
    password: string,
    target: UserRow | null,
    options: { ownChange: boolean } = { ownChange: false },
  ): Promise<PreparedPassword> {
    const security = await deps.settings.getSecurity();
    const failures = checkPasswordPolicy(security.passwordPolicy, password);
    if (failures.length > 0) throw settingsError('password.policy', undefined, { errors: failures });
    if (target !== null) {
      const { historyCount } = security.passwordPolicy;
      const used = new Set(await recentPasswordHashes(db, target.id, historyCount));
      if (options.ownChange && target.password_hash) used.add(target.password_hash);
      for (const previous of used) {
        if (await deps.hasher.verify(previous, password)) {
          throw settingsError(
            'password.reused',
            historyCount > 0
              ? `Choose a password that is not among the last ${historyCount}`
              : 'Choose a password other than the current one',
          );
        }
      }
    }
    return { password, hash: await deps.hasher.hash(password), origin: 'chosen' };
  }

  /**
   * A password Warden draws itself (docs/authentication.md#generated-secrets). A device's or service's is its
   * lasting MQTT credential: ≥ 128 random bits under the keyed fast hash. A person's is a one-time password to
   * hand over, replaced at the first login: argon2id like every password a person uses. Neither is checked
   * against the policy or the history, which govern what people choose.
   */
  async function prepareGenerated(kind: string): Promise<PreparedPassword> {
    if (isMachineKind(kind)) {
      const secret = generateSecret();
      return { password: secret, hash: deps.hasher.hashGenerated(secret), origin: 'generated' };
    }
    const password = generatePassword();
    return { password, hash: await deps.hasher.hash(password), origin: 'generated' };
  }

  /**
   * History is kept for the largest count the policy allows, so that raising the count takes effect at once
   * instead of only after that many changes.
   */
  async function recordPassword(trx: Kysely<Database>, userId: string, hash: string): Promise<void> {
    await insertPasswordHistory(
      trx,
      { id: randomUUID(), user_id: userId, password_hash: hash, created_at: clock.now() },
      MAX_PASSWORD_HISTORY,
    );
  }

  async function publicUsers(trx: Kysely<Database>, rows: readonly UserRow[]): Promise<PublicUser[]> {
    const ids = rows.map((row) => row.id);
    const [names, mfaEnabled] = await Promise.all([
      deps.accessRoles.namesByUser(trx, ids),
      deps.mfa.enabledAmong(trx, ids),
    ]);
    return rows.map((row) =>
      toPublicUser(row, { accessRoles: names.get(row.id) ?? [], mfaEnabled: mfaEnabled.has(row.id) }),
    );
  }

  /** The public shape, with the user's access roles in evaluation order. */
  async function publicUser(trx: Kysely<Database>, row: UserRow): Promise<PublicUser> {
    const [user] = await publicUsers(trx, [row]);
    return user as PublicUser;
  }

  function transaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return db.transaction().execute(async (trx) => {
      await lockFor(trx, deps.engine, 'admin-set');
      return work(trx);
    });
  }

  /** A write on one user: one transaction under the admin-set lock, a refusal audited as `action`. */
  function write<T>(
    ctx: OperationContext,
    action: AuditAction,
    username: string,
    work: (trx: Kysely<Database>) => Promise<T>,
  ): Promise<T> {
    return audit.refusable(ctx, { action, target: userTarget(username) }, () => transaction(work));
  }

  /** Hands a committed password to the sink (after commit, so a rolled-back change never leaks one). */
  async function passwordCommitted(row: UserRow, password: string): Promise<void> {
    await deps.passwords.passwordSet(
      { userId: row.id, username: row.username, passwordChangedAt: row.password_changed_at ?? clock.now() },
      password,
    );
  }

  /** The scopes after a role change that sent none: a promotion gets the new role's defaults (as creation). */
  function scopesForRoleChange(current: Role, next: Role, currentScopes: Scope[]): Scope[] {
    const promotion = next !== current && roleAtLeast(next, current);
    return promotion ? defaultScopes(next) : currentScopes;
  }

  /**
   * The columns a newly set credential writes: the record and its origin, and the replaced record kept for
   * `graceUntil` (a rotation's grace period) or dropped — any other password set ends a grace period too.
   */
  function storedPassword(
    prepared: PreparedPassword,
    previous: { hash: string; graceUntil: number } | null,
  ): Pick<
    UserRowUpdate,
    'password_hash' | 'password_origin' | 'previous_password_hash' | 'previous_valid_until'
  > {
    return {
      password_hash: prepared.hash,
      password_origin: prepared.origin,
      previous_password_hash: previous?.hash ?? null,
      previous_valid_until: previous?.graceUntil ?? null,
    };
  }

  /**
   * Replaces a user's credential on an actor's behalf: who may act on the target (and `refuse`) is checked
   * before any hashing and again under the lock; the user's sessions end; the change is audited as
   * `action` (a refusal too) and recorded as a password change, with the grace period's end when the replaced
   * credential stays valid for a while. The cleartext goes to the password sink after commit.
   */
  async function replaceCredential(
    ctx: OperationContext,
    username: string,
    replacement: Replacement,
  ): Promise<{ password: string; graceUntil: number | null }> {
    const { action } = replacement;
    const admissible = (target: UserRow): void => {
      enforce(canActOn(ctx.actor, policyTarget(target)));
      if (target.auth_method === 'sso') {
        throw userError(
          'user.sso_password',
          `${target.username} signs in with SSO: switch it to local to give it a password`,
        );
      }
      replacement.refuse?.(target);
    };
    const { row, prepared, graceUntil } = await audit.refusable(
      ctx,
      { action, target: userTarget(username) },
      async () => {
        const target = await mustFind(db, username);
        // Checked before hashing, so a refused reset costs no argon2 work; again below, under the lock.
        admissible(target);
        const prepared = await replacement.prepare(target);
        return transaction(async (trx) => {
          const current = await mustFind(trx, username);
          admissible(current);
          const now = clock.now();
          const previous =
            replacement.graceMinutes > 0 && current.password_hash !== null
              ? { hash: current.password_hash, graceUntil: now + replacement.graceMinutes * 60_000 }
              : null;
          const graceUntil = previous?.graceUntil ?? null;
          const mustChange = replacement.mustChange(current);
          await updateUser(trx, current.id, {
            ...storedPassword(prepared, previous),
            password_changed_at: now,
            must_change_password: mustChange ? 1 : 0,
            updated_at: now,
          });
          await recordPassword(trx, current.id, prepared.hash);
          const ended = await deps.sessions.endAllForUser(trx, current.id);
          await audit.record(trx, ctx, {
            action,
            target: userTarget(current.username),
            details: { ...replacement.details({ mustChange, graceUntil }), sessionsEnded: ended },
          });
          const updated = await mustFind(trx, username);
          await recordChange(trx, updated, 'password', graceUntil);
          return { row: updated, prepared, graceUntil };
        });
      },
    );
    await deps.changes.settled();
    await passwordCommitted(row, prepared.password);
    return { password: prepared.password, graceUntil };
  }

  /**
   * The authentication method a PATCH leads to, checked: `ssoProvider` only with `sso` (a switch back to `sso`
   * without one takes the provider the user had); an SSO user stays a person with an email; a new provider must
   * exist, and the link to the old provider's subject goes. `changes`: the method or provider changes;
   * `toLocal`: a switch from `sso` to `local`.
   */
  async function nextMethod(
    trx: Kysely<Database>,
    target: UserRow,
    input: UpdateUserInput,
    nextKind: string,
  ): Promise<{
    authMethod: AuthMethod;
    ssoProvider: string | null;
    ssoSubject: string | null;
    changes: boolean;
    toLocal: boolean;
  }> {
    const current: AuthMethod = target.auth_method === 'sso' ? 'sso' : 'local';
    const authMethod = input.authMethod ?? current;
    if (input.ssoProvider !== undefined && authMethod !== 'sso') {
      throw userError('user.auth_method_invalid', 'ssoProvider goes only with authMethod sso');
    }
    if (authMethod === 'local') {
      const toLocal = current === 'sso';
      return {
        authMethod,
        ssoProvider: target.sso_provider,
        ssoSubject: target.sso_subject,
        changes: toLocal,
        toLocal,
      };
    }
    const provider = input.ssoProvider ?? target.sso_provider;
    const providerChanges = provider !== target.sso_provider;
    const changes = current !== 'sso' || providerChanges;
    if (changes || input.email !== undefined || input.kind !== undefined) {
      checkSsoPerson({ kind: nextKind, email: input.email !== undefined ? input.email : target.email });
    }
    if (changes) await checkSsoProvider(provider, trx);
    return {
      authMethod,
      ssoProvider: provider,
      ssoSubject: providerChanges ? null : target.sso_subject,
      changes,
      toLocal: false,
    };
  }

  /**
   * The authentication method of a new user, checked before any hashing: `sso` only for a person that is not
   * root, with an email and an existing provider, and never with a password; `ssoProvider` only with `sso`.
   */
  async function checkNewMethod(input: NewUserInput, options: { protected?: boolean }): Promise<void> {
    if ((input.authMethod ?? 'local') === 'local') {
      if (input.ssoProvider !== undefined) {
        throw userError('user.auth_method_invalid', 'ssoProvider goes only with authMethod sso');
      }
      return;
    }
    if (options.protected) throw userError('user.protected', 'The root user signs in locally');
    checkSsoPerson({ kind: input.kind ?? 'person', email: input.email ?? null });
    await checkSsoProvider(input.ssoProvider);
  }

  /** An SSO user is a person with an email (the first sign-in finds it by the verified email). */
  function checkSsoPerson(user: { kind: string; email: string | null }): void {
    if (user.kind !== 'person') {
      throw userError('user.auth_method_invalid', 'Only people sign in with SSO, not devices or services');
    }
    if (!user.email) throw userError('user.email_required', 'SSO users need an email address');
  }

  /** An SSO user's provider must exist (enabled or not: a disabled one just signs nobody in). */
  async function checkSsoProvider(
    provider: string | null | undefined,
    trx: Kysely<Database> = db,
  ): Promise<void> {
    if (!provider) throw userError('user.sso_provider_unknown', 'Name the SSO provider (ssoProvider)');
    if (!(await deps.ssoProviders.find(provider, trx))) {
      throw userError('user.sso_provider_unknown', `No SSO provider is called "${provider}"`);
    }
  }

  /** The role and scopes of a new user, checked: compatible, and only what the actor holds itself. */
  function newUserRights(ctx: OperationContext, input: NewUserInput): { role: Role; scopes: Scope[] } {
    const role = roleOf(input.role);
    const scopes = normalizeScopes(input.scopes ?? defaultScopes(role));
    const bad = incompatibleScopes(role, scopes);
    if (bad.length > 0) {
      throw userError('user.scopes_incompatible', `Role ${role} cannot hold ${bad.join(', ')}`);
    }
    enforce(canGrant(ctx.actor, role, scopes));
    return { role, scopes };
  }

  /**
   * Inserts a new user in `trx`, which holds the admin-set lock, with the `prepared` password or none (yet, or at
   * all for an SSO user): its access roles, its audit event and its change-feed record, in that transaction.
   */
  async function insertIn(
    trx: Kysely<Database>,
    ctx: OperationContext,
    input: NewUserInput & { ssoSubject?: string },
    rights: { role: Role; scopes: Scope[] },
    prepared: PreparedPassword | null,
    options: { protected?: boolean; mustChangePassword?: boolean; auditDetails?: Record<string, unknown> },
  ): Promise<{ row: UserRow; user: PublicUser }> {
    if (await findUserByUsername(trx, input.username)) {
      throw userError('user.exists', `A user named "${input.username}" already exists`);
    }
    const now = clock.now();
    const id = randomUUID();
    const sso = input.authMethod === 'sso';
    const accessRoles = await deps.accessRoles.resolveForAssignment(trx, input.accessRoles ?? []);
    await insertUser(trx, {
      id,
      username: input.username,
      username_lower: input.username.toLowerCase(),
      email: input.email ?? null,
      email_lower: input.email?.toLowerCase() ?? null,
      description: input.description ?? '',
      kind: input.kind ?? 'person',
      role: rights.role,
      scopes: JSON.stringify(rights.scopes),
      active: 1,
      protected: options.protected ? 1 : 0,
      auth_method: sso ? 'sso' : 'local',
      sso_provider: sso ? (input.ssoProvider ?? null) : null,
      sso_subject: input.ssoSubject ?? null,
      ...(prepared
        ? storedPassword(prepared, null)
        : {
            password_hash: null,
            password_origin: null,
            previous_password_hash: null,
            previous_valid_until: null,
          }),
      password_changed_at: prepared ? now : null,
      must_change_password: options.mustChangePassword ? 1 : 0,
      session_timeout_minutes: input.sessionTimeoutMinutes ?? 0,
      last_login_at: null,
      created_at: now,
      updated_at: now,
    });
    if (prepared) await recordPassword(trx, id, prepared.hash);
    await deps.accessRoles.assign(
      trx,
      id,
      accessRoles.map((accessRole) => accessRole.id),
    );
    const created = await mustFind(trx, input.username);
    const user = await publicUser(trx, created);
    const { createdAt: _c, updatedAt: _u, lastLoginAt: _l, ...snapshot } = user;
    await audit.record(trx, ctx, {
      action: 'user.create',
      target: userTarget(input.username),
      details: { after: snapshot, ...options.auditDetails },
    });
    await recordChange(trx, created, 'created');
    return { row: created, user };
  }

  /**
   * Creates a user with the password `prepare` yields (hashed after every other check passed, outside the
   * transaction), or with none for an SSO user (`prepare` yields null); the cleartext goes to the password sink
   * after commit.
   */
  async function insertNew<P extends PreparedPassword | null>(
    ctx: OperationContext,
    input: NewUserInput,
    prepare: () => Promise<P>,
    options: { protected?: boolean; mustChangePassword?: boolean },
  ): Promise<{ user: PublicUser; prepared: P }> {
    const { row, user, prepared } = await audit.refusable(
      ctx,
      { action: 'user.create', target: userTarget(input.username) },
      async () => {
        const rights = newUserRights(ctx, input);
        await checkNewMethod(input, options);
        if (await findUserByUsername(db, input.username)) {
          throw userError('user.exists', `A user named "${input.username}" already exists`);
        }
        const prepared = await prepare();
        return transaction(async (trx) => ({
          ...(await insertIn(trx, ctx, input, rights, prepared, options)),
          prepared,
        }));
      },
    );
    await deps.changes.settled();
    if (prepared) await passwordCommitted(row, prepared.password);
    return { user, prepared };
  }

  return {
    async list(input: ListUsersInput): Promise<UserList> {
      const page = input.page ?? 1;
      const pageSize = input.pageSize ?? 25;
      const role = input.role ? parseRole(input.role) : null;
      const includeInactive = input.includeInactive ?? false;
      const offset = (page - 1) * pageSize;
      // Deep pages of the unsearched list start from a remembered position instead of scanning `offset` rows.
      const seek = input.search
        ? null
        : await pageMarks.seek(db, { ...(role ? { role } : {}), includeInactive }, offset);
      const { rows, total } = await listUsers(db, deps.engine, {
        ...(input.search ? { search: input.search } : {}),
        ...(role ? { role } : {}),
        includeInactive,
        limit: pageSize,
        offset,
        seek,
      });
      return { items: await publicUsers(db, rows), total, page, pageSize };
    },

    async get(username: string): Promise<PublicUser> {
      return publicUser(db, await mustFind(db, username));
    },

    /** Marks a completed console login on the user, in the login's transaction. */
    async recordLogin(trx: Kysely<Database>, userId: string, at: number): Promise<void> {
      await updateUser(trx, userId, { last_login_at: at }, { bumpVersion: false });
    },

    /**
     * Creates the user an SSO sign-in provisions (docs/sso.md#signing-in), in the sign-in's transaction (which
     * holds the admin-set lock): a person without a password, linked to the provider's subject, audited as
     * `user.create` made by `ctx`'s actor with `via: sso:<provider>`.
     */
    async provisionSso(
      trx: Kysely<Database>,
      ctx: OperationContext,
      input: ProvisionedSsoUser,
    ): Promise<UserRow> {
      const profile: NewUserInput & { ssoSubject: string } = {
        username: input.username,
        email: input.email,
        role: input.role,
        scopes: [...input.scopes],
        kind: 'person',
        authMethod: 'sso',
        ssoProvider: input.provider,
        ssoSubject: input.subject,
      };
      const { row } = await insertIn(trx, ctx, profile, newUserRights(ctx, profile), null, {
        auditDetails: { via: `sso:${input.provider}` },
      });
      return row;
    },

    /**
     * Links an SSO user to its provider's subject at its first sign-in, in the sign-in's transaction, so later
     * sign-ins (and the provider's tokens) find it even after its email changes at the provider.
     */
    async linkSsoSubject(trx: Kysely<Database>, row: UserRow, subject: string): Promise<UserRow> {
      await updateUser(trx, row.id, { sso_subject: subject, updated_at: clock.now() });
      return mustFind(trx, row.username);
    },

    /**
     * Applies an SSO sign-in's role mapping (`mapped`) to the user, in the sign-in's transaction (which holds the
     * admin-set lock): audited as `user.update` with `via: sso:<provider>`. A change that would leave no admin who
     * can manage users is not made: the refusal is audited (`user.last_admin`) and the user keeps its role.
     */
    async applySsoRole(
      trx: Kysely<Database>,
      ctx: OperationContext,
      row: UserRow,
      mapped: { readonly role: Role; readonly scopes: readonly Scope[]; readonly provider: string },
    ): Promise<{ row: UserRow; outcome: SsoRoleOutcome }> {
      const scopes = normalizeScopes(mapped.scopes);
      if (mapped.role === roleOf(row.role) && JSON.stringify(scopes) === JSON.stringify(scopesOf(row))) {
        return { row, outcome: 'unchanged' };
      }
      const via = `sso:${mapped.provider}`;
      try {
        await assertUserManagerRemains(trx, row, { role: mapped.role, scopes });
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'user.last_admin') throw error;
        await audit.record(trx, ctx, {
          action: 'user.update',
          target: userTarget(row.username),
          outcome: 'failure',
          details: {
            error: error.code,
            reason: error.message,
            via,
            refused: { role: mapped.role, scopes },
          },
        });
        return { row, outcome: 'kept_last_admin' };
      }
      const before = await publicUser(trx, row);
      await updateUser(trx, row.id, {
        role: mapped.role,
        scopes: JSON.stringify(scopes),
        updated_at: clock.now(),
      });
      const updated = await mustFind(trx, row.username);
      const diff = changedFields(before, await publicUser(trx, updated), ['role', 'scopes']);
      await audit.record(trx, ctx, {
        action: 'user.update',
        target: userTarget(row.username),
        details: { ...diff, via },
      });
      await recordChange(trx, updated, 'updated');
      return { row: updated, outcome: 'changed' };
    },

    /** Creates a user with the password a person chose (argon2id, checked against the policy). */
    async create(
      ctx: OperationContext,
      input: CreateUserInput & { password: string },
      options: { protected?: boolean } = {},
    ): Promise<PublicUser> {
      refusePasswordForSso(input);
      const { user } = await insertNew(ctx, input, () => prepareChosen(input.password, null), options);
      return user;
    },

    /**
     * Creates an SSO user (docs/sso.md#users-and-the-authentication-method): a person with an email, who signs in
     * at `ssoProvider` and has no password; its provider's subject is linked at its first sign-in.
     */
    async createSso(ctx: OperationContext, input: NewUserInput & { authMethod: 'sso' }): Promise<PublicUser> {
      const { user } = await insertNew(ctx, input, async () => null, {});
      return user;
    },

    /**
     * Creates a user with a password Warden draws (returned once): a device's or service's lasting MQTT secret
     * under the keyed fast hash, a person's one-time password that must be changed at the first login.
     */
    async createGenerated(
      ctx: OperationContext,
      input: NewUserInput,
      options: { protected?: boolean } = {},
    ): Promise<{ user: PublicUser; password: string }> {
      refusePasswordForSso(input);
      const kind = input.kind ?? 'person';
      const { user, prepared } = await insertNew(ctx, input, () => prepareGenerated(kind), {
        ...options,
        mustChangePassword: !isMachineKind(kind),
      });
      return { user, password: prepared.password };
    },

    /**
     * Creates a device or service without a credential yet, inside the caller's transaction: the client registry
     * creates the user of an approved request in the approval's own transaction (docs/registry.md). The same
     * checks, `user.create` audit event and change-feed record as `create`; a refusal throws and rolls the
     * caller's transaction back (the caller audits it). The caller settles the change feed after commit; the
     * first secret comes from {@link issueGeneratedSecretWithin} (or the user signs in with a certificate).
     */
    async createMachineWithin(
      trx: Kysely<Database>,
      ctx: OperationContext,
      input: NewUserInput,
    ): Promise<{ userId: string; user: PublicUser }> {
      if (!isMachineKind(input.kind ?? 'person')) {
        throw new Error('createMachineWithin creates devices and services only');
      }
      const rights = newUserRights(ctx, input);
      await lockFor(trx, deps.engine, 'admin-set');
      const { row, user } = await insertIn(trx, ctx, input, rights, null, {});
      return { userId: row.id, user };
    },

    /**
     * Draws a device's or service's secret and stores it (keyed fast hash, origin `generated`) inside the
     * caller's transaction, recorded as a password change; refused (409 `user.not_machine`) for a person. The
     * caller audits why; `committed` settles the change feed and hands the secret to the password sink, and must
     * be called only after the transaction committed.
     */
    async issueGeneratedSecretWithin(
      trx: Kysely<Database>,
      userId: string,
    ): Promise<{ secret: string; committed: () => Promise<void> }> {
      const target = await findUserById(trx, userId);
      if (!target) throw userError('user.not_found', 'The user of this request no longer exists');
      if (!isMachineKind(target.kind)) {
        throw userError(
          'user.not_machine',
          `${target.username} is a person: only machines get a generated secret`,
        );
      }
      const prepared = await prepareGenerated(target.kind);
      const now = clock.now();
      await updateUser(trx, target.id, {
        ...storedPassword(prepared, null),
        password_changed_at: now,
        must_change_password: 0,
        updated_at: now,
      });
      await recordPassword(trx, target.id, prepared.hash);
      const updated = await mustFind(trx, target.username);
      await recordChange(trx, updated, 'password');
      return {
        secret: prepared.password,
        committed: async () => {
          await deps.changes.settled();
          await passwordCommitted(updated, prepared.password);
        },
      };
    },

    /**
     * Changes a user's profile, role, scopes, access roles or authentication method
     * (docs/sso.md#users-and-the-authentication-method). A change of method or provider ends the user's sessions
     * (the caller's own current one excepted) and counts as a credential change, so MQTT connections made with
     * the old credential close: `local` → `sso` keeps the password but nothing accepts it any more; `sso` →
     * `local` draws a one-time password, answered once as `generatedPassword`, that must be changed at the next
     * login — a password kept from before is never revived.
     */
    async update(
      ctx: OperationContext,
      username: string,
      input: UpdateUserInput,
    ): Promise<PublicUser & { generatedPassword?: string }> {
      if (input.username !== undefined && input.username.toLowerCase() !== username.toLowerCase()) {
        throw userError('user.username_immutable', 'Usernames cannot be changed');
      }
      /** The update under the admin-set lock; `drawn`: a one-time password hashed beforehand, if one was asked. */
      const changeUser = async (trx: Kysely<Database>, drawn: PreparedPassword | null) => {
        const target = await mustFind(trx, username);
        if (input.username !== undefined && input.username !== target.username) {
          throw userError('user.username_immutable', 'Usernames cannot be changed');
        }
        enforce(canActOn(ctx.actor, policyTarget(target)));
        const currentRole = roleOf(target.role);
        const currentScopes = scopesOf(target);
        const nextRole = input.role ? roleOf(input.role) : currentRole;
        const nextScopes = input.scopes
          ? normalizeScopes(input.scopes)
          : scopesForRoleChange(currentRole, nextRole, currentScopes);
        const roleChanges = nextRole !== currentRole;
        const nextKind = input.kind ?? target.kind;
        const scopesChange = JSON.stringify(nextScopes) !== JSON.stringify(currentScopes);
        if (target.protected === 1 && input.authMethod === 'sso') {
          throw userError('user.protected', 'The root user signs in locally, as the break-glass account');
        }
        const method = await nextMethod(trx, target, input, nextKind);

        if (target.protected === 1 && (roleChanges || scopesChange || nextKind !== target.kind)) {
          throw userError(
            'user.protected',
            'The root user stays a person with the admin role and all scopes',
          );
        }
        const bad = incompatibleScopes(nextRole, nextScopes);
        if (bad.length > 0) {
          throw userError(
            'user.scopes_incompatible',
            input.scopes
              ? `Role ${nextRole} cannot hold ${bad.join(', ')}`
              : `Role ${nextRole} cannot hold ${bad.join(', ')}; send a compatible scopes list with the role change`,
          );
        }
        const added = nextScopes.filter((scope) => !currentScopes.includes(scope));
        enforce(canGrant(ctx.actor, roleChanges ? nextRole : 'viewer', added));
        // A switch to local that the early look did not foresee (a concurrent switch to sso) hashes here.
        const oneTime = method.toLocal ? (drawn ?? (await prepareGenerated('person'))) : null;
        await assertUserManagerRemains(trx, target, {
          role: nextRole,
          scopes: nextScopes,
          kind: nextKind,
          canSignIn: canSignIn(
            {
              auth_method: method.authMethod,
              sso_provider: method.ssoProvider,
              password_hash: oneTime?.hash ?? target.password_hash,
            },
            await enabledProviders(trx),
          ),
        });

        const now = clock.now();
        const patch = {
          ...(input.email !== undefined
            ? { email: input.email, email_lower: input.email?.toLowerCase() ?? null }
            : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.kind !== undefined ? { kind: input.kind } : {}),
          ...(input.sessionTimeoutMinutes !== undefined
            ? { session_timeout_minutes: input.sessionTimeoutMinutes }
            : {}),
          ...(roleChanges ? { role: nextRole } : {}),
          ...(scopesChange ? { scopes: JSON.stringify(nextScopes) } : {}),
          ...(method.changes
            ? {
                auth_method: method.authMethod,
                sso_provider: method.ssoProvider,
                sso_subject: method.ssoSubject,
              }
            : {}),
          ...(oneTime
            ? {
                ...storedPassword(oneTime, null),
                password_changed_at: now,
                must_change_password: 1,
              }
            : {}),
        };
        const before = await publicUser(trx, target);
        const nextAccessRoles =
          input.accessRoles === undefined
            ? null
            : await deps.accessRoles.resolveForAssignment(trx, input.accessRoles);
        const accessRolesChange =
          nextAccessRoles !== null &&
          JSON.stringify(nextAccessRoles.map((accessRole) => accessRole.name)) !==
            JSON.stringify(before.accessRoles);
        const changesFields = Object.keys(patch).length > 0;
        if (!changesFields && !accessRolesChange) {
          return { user: before, row: target, changed: false, oneTime: null };
        }
        if (nextAccessRoles !== null && accessRolesChange) {
          await deps.accessRoles.assign(
            trx,
            target.id,
            nextAccessRoles.map((accessRole) => accessRole.id),
          );
        }
        // Also for an assignment-only change: the version bump invalidates caches keyed on the user.
        await updateUser(trx, target.id, { ...patch, updated_at: now });
        if (oneTime) await recordPassword(trx, target.id, oneTime.hash);
        // The credential the sessions were signed in with no longer applies; the caller keeps its own.
        const ownSession =
          ctx.actor.type === 'user' && ctx.actor.userId === target.id ? ctx.actor.sessionId : undefined;
        const sessionsEnded = method.changes
          ? await deps.sessions.endAllForUser(trx, target.id, ownSession)
          : null;
        const updated = await mustFind(trx, username);
        const after = await publicUser(trx, updated);
        const diff = changedFields(before, after, [
          'email',
          'description',
          'kind',
          'role',
          'scopes',
          'sessionTimeoutMinutes',
          'accessRoles',
          'authMethod',
          'ssoProvider',
        ]);
        await audit.record(trx, ctx, {
          action: 'user.update',
          target: userTarget(target.username),
          details: {
            ...diff,
            ...(sessionsEnded === null ? {} : { sessionsEnded }),
            ...(oneTime ? { generated: true } : {}),
          },
        });
        if (changesFields) await recordChange(trx, updated, method.changes ? 'password' : 'updated');
        if (accessRolesChange) await recordChange(trx, updated, 'access_roles');
        return { user: after, row: updated, changed: true, oneTime };
      };
      const outcome = await audit.refusable(
        ctx,
        { action: 'user.update', target: userTarget(username) },
        async () => {
          // The one-time password of a switch to local is hashed before the transaction (argon2 work outside it),
          // and only for a target the actor may act on (checked again under the lock).
          const early = input.authMethod === 'local' ? await findUserByUsername(db, username) : undefined;
          if (early) enforce(canActOn(ctx.actor, policyTarget(early)));
          const drawn = early?.auth_method === 'sso' ? await prepareGenerated('person') : null;
          return transaction((trx) => changeUser(trx, drawn));
        },
      );
      if (outcome.changed) await deps.changes.settled();
      if (outcome.oneTime) {
        await passwordCommitted(outcome.row, outcome.oneTime.password);
        return { ...outcome.user, generatedPassword: outcome.oneTime.password };
      }
      return outcome.user;
    },

    /** Admin reset with a password a person chose: no current password needed; ends the user's sessions. */
    async setPassword(
      ctx: OperationContext,
      username: string,
      password: string,
      options: { mustChange?: boolean } = {},
    ): Promise<void> {
      await replaceCredential(ctx, username, {
        action: 'user.password_reset',
        prepare: (target) => prepareChosen(password, target),
        mustChange: () => options.mustChange ?? false,
        graceMinutes: 0,
        details: ({ mustChange }) => ({ mustChange, generated: false }),
      });
    },

    /**
     * Admin reset with a password Warden draws (returned once): a device's or service's new MQTT secret (keyed
     * fast hash), or a person's one-time password, always to be changed at the next login.
     */
    async setGeneratedPassword(
      ctx: OperationContext,
      username: string,
      options: { mustChange?: boolean } = {},
    ): Promise<string> {
      const { password } = await replaceCredential(ctx, username, {
        action: 'user.password_reset',
        prepare: (target) => prepareGenerated(target.kind),
        mustChange: (target) => !isMachineKind(target.kind) || (options.mustChange ?? false),
        graceMinutes: 0,
        details: ({ mustChange }) => ({ mustChange, generated: true }),
      });
      return password;
    },

    /**
     * A device's or service's new generated secret (docs/authentication.md#rotating-a-secret), returned once.
     * With `graceMinutes` > 0 the previous secret stays valid for MQTT that long, and the user's live
     * connections stay open until then; without, it stops at once and they close, as after a password reset.
     * Refused for a person (409 `user.not_machine`) and for a target the actor may not act on.
     */
    async rotateSecret(
      ctx: OperationContext,
      username: string,
      options: { graceMinutes?: number } = {},
    ): Promise<RotatedSecret> {
      const graceMinutes = options.graceMinutes ?? 0;
      const { password, graceUntil } = await replaceCredential(ctx, username, {
        action: 'user.secret_rotate',
        refuse: (target) => {
          if (!isMachineKind(target.kind)) {
            throw userError(
              'user.not_machine',
              `${target.username} is a person: only devices and services have secrets to rotate; reset the password instead`,
            );
          }
        },
        prepare: (target) => prepareGenerated(target.kind),
        mustChange: () => false,
        graceMinutes,
        details: ({ graceUntil }) => ({ graceMinutes, graceUntil: toIso(graceUntil) }),
      });
      return { secret: password, previousValidUntil: graceUntil };
    },

    /**
     * Self-service password change: needs the current password, ends the user's other sessions and clears a
     * must-change flag or an expired password.
     */
    async changeOwnPassword(ctx: SelfContext, currentPassword: string, password: string): Promise<void> {
      const target = await mustFind(db, ctx.actor.username);
      // A password kept from before a switch to SSO is ignored everywhere, so it cannot be changed either.
      if (target.auth_method === 'sso') {
        throw userError('user.sso_password', 'You sign in with SSO: your provider manages your password');
      }
      if (!target.password_hash || !(await deps.hasher.verify(target.password_hash, currentPassword))) {
        await db.transaction().execute((trx) =>
          audit.record(trx, ctx, {
            action: 'user.password_change',
            target: userTarget(target.username),
            outcome: 'failure',
            details: { reason: 'current_password_mismatch' },
          }),
        );
        throw userError('password.current_mismatch');
      }
      const prepared = await prepareChosen(password, target, { ownChange: true });
      const row = await transaction(async (trx) => {
        await updateUser(trx, target.id, {
          ...storedPassword(prepared, null),
          password_changed_at: clock.now(),
          must_change_password: 0,
          updated_at: clock.now(),
        });
        await recordPassword(trx, target.id, prepared.hash);
        const ended = await deps.sessions.endAllForUser(trx, target.id, ctx.actor.sessionId);
        await audit.record(trx, ctx, {
          action: 'user.password_change',
          target: userTarget(target.username),
          details: { otherSessionsEnded: ended },
        });
        const updated = await mustFind(trx, target.username);
        await recordChange(trx, updated, 'password');
        return updated;
      });
      await deps.changes.settled();
      await passwordCommitted(row, password);
    },

    /**
     * After a successful MQTT verification of `cleartext` against `row`'s current record: a password set
     * before Warden recorded where passwords come from moves to the keyed fast hash when it belongs to a device
     * or service and has exactly the generator's form — Warden generated it
     * (docs/authentication.md#passwords-generated-before-this-release). One conditional UPDATE, so a password
     * changed meanwhile is left alone. True when the record moved.
     */
    async adoptGeneratedSecret(row: UserRow, cleartext: string): Promise<boolean> {
      const { password_hash: current } = row;
      if (current === null || row.password_origin !== null || !isMachineKind(row.kind)) return false;
      if (deps.hasher.schemeOf(current) !== 'argon2id') return false;
      const secret = recognizeGeneratedSecret(cleartext);
      if (secret === null) return false;
      return replaceUnmarkedPasswordHash(db, row.id, current, deps.hasher.hashGenerated(secret));
    },

    async deactivate(ctx: OperationContext, username: string): Promise<PublicUser> {
      const { row, changed } = await write(ctx, 'user.deactivate', username, async (trx) => {
        const target = await mustFind(trx, username);
        enforce(canActOn(ctx.actor, policyTarget(target)));
        if (target.active === 0) return { row: target, changed: false };
        await assertUserManagerRemains(trx, target, { active: false });
        await updateUser(trx, target.id, { active: 0, updated_at: clock.now() });
        const ended = await deps.sessions.endAllForUser(trx, target.id);
        await audit.record(trx, ctx, {
          action: 'user.deactivate',
          target: userTarget(target.username),
          details: { before: { active: true }, after: { active: false }, sessionsEnded: ended },
        });
        const updated = await mustFind(trx, username);
        await recordChange(trx, updated, 'deactivated');
        return { row: updated, changed: true };
      });
      if (changed) await deps.changes.settled();
      return publicUser(db, row);
    },

    async reactivate(ctx: OperationContext, username: string): Promise<PublicUser> {
      const { row, changed } = await write(ctx, 'user.reactivate', username, async (trx) => {
        const target = await mustFind(trx, username);
        enforce(canActOn(ctx.actor, policyTarget(target)));
        if (target.active === 1) return { row: target, changed: false };
        await updateUser(trx, target.id, { active: 1, updated_at: clock.now() });
        await audit.record(trx, ctx, {
          action: 'user.reactivate',
          target: userTarget(target.username),
          details: { before: { active: false }, after: { active: true } },
        });
        const updated = await mustFind(trx, username);
        await recordChange(trx, updated, 'reactivated');
        return { row: updated, changed: true };
      });
      if (changed) await deps.changes.settled();
      return publicUser(db, row);
    },

    /**
     * Break-glass (`warden recover-admin`, docs/permissions.md): gives the root user a new password that must be
     * changed at next login, reactivates it and clears its MFA, ending its sessions. Runs on the host only (CLI).
     */
    async recoverRoot(ctx: OperationContext): Promise<{ user: PublicUser; password: string }> {
      const prepared = await prepareGenerated('person');
      const row = await transaction(async (trx) => {
        const root = await findRootUser(trx);
        if (!root)
          throw userError('user.not_found', 'There is no root user; start the server once to create it');
        await updateUser(trx, root.id, {
          ...storedPassword(prepared, null),
          password_changed_at: clock.now(),
          must_change_password: 1,
          active: 1,
          updated_at: clock.now(),
        });
        const mfaCleared = await deps.mfa.clear(trx, root.id);
        await recordPassword(trx, root.id, prepared.hash);
        const ended = await deps.sessions.endAllForUser(trx, root.id);
        await audit.record(trx, ctx, {
          action: 'user.recover_admin',
          target: userTarget(root.username),
          details: { reactivated: root.active === 0, mfaCleared, sessionsEnded: ended },
        });
        const updated = await mustFind(trx, root.username);
        await recordChange(trx, updated, 'password');
        return updated;
      });
      await deps.changes.settled();
      await passwordCommitted(row, prepared.password);
      return { user: await publicUser(db, row), password: prepared.password };
    },

    async remove(ctx: OperationContext, username: string): Promise<void> {
      await write(ctx, 'user.delete', username, async (trx) => {
        const target = await mustFind(trx, username);
        if (target.protected === 1) throw userError('user.protected', 'The root user cannot be deleted');
        enforce(canActOn(ctx.actor, policyTarget(target)));
        await assertUserManagerRemains(trx, target, null);
        const { createdAt: _c, updatedAt: _u, ...snapshot } = await publicUser(trx, target);
        await deleteUserRow(trx, target.id);
        await audit.record(trx, ctx, {
          action: 'user.delete',
          target: userTarget(target.username),
          details: { before: snapshot },
        });
        await recordChange(trx, target, 'deleted');
      });
      await deps.changes.settled();
    },
  };
}
