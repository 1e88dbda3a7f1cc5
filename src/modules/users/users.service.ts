import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { PasswordHasher } from '../../core/crypto/password-hasher.js';
import { coreError } from '../../core/errors/core-errors.js';
import type { DomainEventBus } from '../../core/events.js';
import type { Engine } from '../../db/database.js';
import { lockFor } from '../../db/dialects/locks.js';
import type { Database } from '../../db/schema.js';
import type { AccessRolesService } from '../access-roles/access-roles.service.js';
import { type AuditService, changedFields } from '../audit/audit.service.js';
import type { OperationContext } from '../permissions/operation-context.js';
import {
  type Actor,
  canGrant,
  defaultScopes,
  incompatibleScopes,
  normalizeScopes,
  parseRole,
  type Role,
  type Scope,
} from '../permissions/permissions.policy.js';
import { deleteSessionsOfUser } from '../sessions/sessions.repository.js';
import { checkPasswordPolicy } from '../settings/password-policy.js';
import { settingsError } from '../settings/settings.errors.js';
import type { SettingsService } from '../settings/settings.service.js';
import { PageMarks } from './page-marks.js';
import { userError } from './users.errors.js';
import { toPublicUser, userTarget } from './users.mapper.js';
import {
  countActiveAdmins,
  deleteUserRow,
  findUserByUsername,
  insertPasswordHistory,
  insertUser,
  listUsers,
  recentPasswordHashes,
  updateUser,
} from './users.repository.js';
import type { CreateUserInput, ListUsersInput, PublicUser, UpdateUserInput } from './users.schemas.js';
import type { UserRow } from './users.table.js';

export interface UsersServiceDeps {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  hasher: PasswordHasher;
  audit: AuditService;
  settings: SettingsService;
  events: DomainEventBus;
  /** Users hold an ordered list of access roles; the access-roles service owns them and the assignments. */
  accessRoles: Pick<AccessRolesService, 'resolveForAssignment' | 'assign' | 'namesByUser'>;
}

export interface UserList {
  items: PublicUser[];
  total: number;
  page: number;
  pageSize: number;
}

export type UsersService = ReturnType<typeof createUsersService>;

function forbidden(reason: string): Error {
  return coreError('auth.forbidden', reason);
}

function roleOf(value: string): Role {
  return parseRole(value) ?? 'viewer';
}

function scopesOf(row: UserRow): Scope[] {
  return JSON.parse(row.scopes) as Scope[];
}

/**
 * The user lifecycle (SPEC §1–2). Every operation validates, enforces root protection, the last-admin rule and
 * "nobody grants what they do not hold", then writes the change and its audit event in one transaction.
 * Domain events are emitted only after commit.
 */
export function createUsersService(deps: UsersServiceDeps) {
  const { db, clock, audit, events } = deps;
  const pageMarks = new PageMarks();

  async function mustFind(trx: Kysely<Database>, username: string): Promise<UserRow> {
    const row = await findUserByUsername(trx, username);
    if (!row) throw userError('user.not_found', `No user named "${username}"`);
    return row;
  }

  /**
   * Refuses a change that would leave no active admin. Takes the admin-set lock first, so concurrent demotions
   * (admins demoting each other) are serialized and the second one sees the first one's result.
   */
  async function assertAnotherActiveAdmin(trx: Kysely<Database>, target: UserRow): Promise<void> {
    if (target.role !== 'admin' || target.active !== 1) return;
    if ((await countActiveAdmins(trx, target.id)) === 0) {
      throw userError('user.last_admin', `${target.username} is the last active admin`);
    }
  }

  /** Policy and reuse checks for a new password, then the hash (computed outside any transaction). */
  async function preparePassword(password: string, userId: string | null): Promise<string> {
    const security = await deps.settings.getSecurity();
    const failures = checkPasswordPolicy(security.passwordPolicy, password);
    if (failures.length > 0) throw settingsError('password.policy', undefined, { errors: failures });
    if (userId !== null) {
      for (const previous of await recentPasswordHashes(db, userId, security.passwordPolicy.historyCount)) {
        if (await deps.hasher.verify(previous, password)) {
          throw settingsError(
            'password.reused',
            `Choose a password not among the last ${security.passwordPolicy.historyCount}`,
          );
        }
      }
    }
    return deps.hasher.hash(password);
  }

  async function recordPassword(trx: Kysely<Database>, userId: string, hash: string): Promise<void> {
    const { historyCount } = (await deps.settings.getSecurity(trx)).passwordPolicy;
    await insertPasswordHistory(
      trx,
      { id: randomUUID(), user_id: userId, password_hash: hash, created_at: clock.now() },
      historyCount,
    );
  }

  /** The public shape, with the user's access roles in evaluation order. */
  async function publicUser(trx: Kysely<Database>, row: UserRow): Promise<PublicUser> {
    const names = await deps.accessRoles.namesByUser(trx, [row.id]);
    return toPublicUser(row, names.get(row.id) ?? []);
  }

  function transaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return db.transaction().execute(async (trx) => {
      await lockFor(trx, deps.engine, 'admin-set');
      return work(trx);
    });
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
      const names = await deps.accessRoles.namesByUser(
        db,
        rows.map((row) => row.id),
      );
      return { items: rows.map((row) => toPublicUser(row, names.get(row.id) ?? [])), total, page, pageSize };
    },

    async get(username: string): Promise<PublicUser> {
      return publicUser(db, await mustFind(db, username));
    },

    /** The raw row, for authentication only (never leaves the server). */
    findRow(username: string): Promise<UserRow | undefined> {
      return findUserByUsername(db, username);
    },

    async create(
      ctx: OperationContext,
      input: CreateUserInput,
      options: { protected?: boolean; mustChangePassword?: boolean } = {},
    ): Promise<PublicUser> {
      const role = roleOf(input.role);
      const scopes = normalizeScopes(input.scopes ?? defaultScopes(role));
      const bad = incompatibleScopes(role, scopes);
      if (bad.length > 0) {
        throw userError('user.scopes_incompatible', `Role ${role} cannot hold ${bad.join(', ')}`);
      }
      const grant = canGrant(ctx.actor, role, scopes);
      if (!grant.allowed) throw forbidden(grant.reason);
      if (await findUserByUsername(db, input.username)) {
        throw userError('user.exists', `A user named "${input.username}" already exists`);
      }
      const hash = await preparePassword(input.password, null);
      const now = clock.now();
      const id = randomUUID();
      const { row, user } = await transaction(async (trx) => {
        if (await findUserByUsername(trx, input.username)) {
          throw userError('user.exists', `A user named "${input.username}" already exists`);
        }
        const accessRoles = await deps.accessRoles.resolveForAssignment(trx, input.accessRoles ?? []);
        await insertUser(trx, {
          id,
          username: input.username,
          username_lower: input.username.toLowerCase(),
          email: input.email ?? null,
          email_lower: input.email?.toLowerCase() ?? null,
          description: input.description ?? '',
          kind: input.kind ?? 'person',
          role,
          scopes: JSON.stringify(scopes),
          active: 1,
          protected: options.protected ? 1 : 0,
          password_hash: hash,
          password_changed_at: now,
          must_change_password: options.mustChangePassword ? 1 : 0,
          totp_secret: null,
          totp_last_step: null,
          session_timeout_minutes: input.sessionTimeoutMinutes ?? 0,
          last_login_at: null,
          created_at: now,
          updated_at: now,
        });
        await recordPassword(trx, id, hash);
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
          details: { after: snapshot },
        });
        return { row: created, user };
      });
      events.emit('user.changed', { userId: row.id, username: row.username, change: 'created' });
      return user;
    },

    async update(ctx: OperationContext, username: string, input: UpdateUserInput): Promise<PublicUser> {
      if (input.username !== undefined && input.username !== username) {
        throw userError('user.username_immutable', 'Usernames cannot be changed');
      }
      const { user, row, fieldsChanged, rolesChanged } = await transaction(async (trx) => {
        const target = await mustFind(trx, username);
        if (input.username !== undefined && input.username !== target.username) {
          throw userError('user.username_immutable', 'Usernames cannot be changed');
        }
        const currentRole = roleOf(target.role);
        const currentScopes = scopesOf(target);
        const nextRole = input.role ? roleOf(input.role) : currentRole;
        const nextScopes = input.scopes ? normalizeScopes(input.scopes) : currentScopes;
        const roleChanges = nextRole !== currentRole;
        const scopesChange = JSON.stringify(nextScopes) !== JSON.stringify(currentScopes);

        if (target.protected === 1 && (roleChanges || scopesChange)) {
          throw userError('user.protected', 'The root user keeps the admin role and all scopes');
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
        const grant = canGrant(ctx.actor, roleChanges ? nextRole : 'viewer', added);
        if (!grant.allowed) throw forbidden(grant.reason);
        if (roleChanges && nextRole !== 'admin') await assertAnotherActiveAdmin(trx, target);

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
          return { user: before, row: target, fieldsChanged: false, rolesChanged: false };
        }
        if (nextAccessRoles !== null && accessRolesChange) {
          await deps.accessRoles.assign(
            trx,
            target.id,
            nextAccessRoles.map((accessRole) => accessRole.id),
          );
        }
        // Also for an assignment-only change: the version bump invalidates caches keyed on the user.
        await updateUser(trx, target.id, { ...patch, updated_at: clock.now() });
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
        ]);
        await audit.record(trx, ctx, {
          action: 'user.update',
          target: userTarget(target.username),
          details: diff ?? {},
        });
        return { user: after, row: updated, fieldsChanged: changesFields, rolesChanged: accessRolesChange };
      });
      if (fieldsChanged) {
        events.emit('user.changed', { userId: row.id, username: row.username, change: 'updated' });
      }
      if (rolesChanged) {
        events.emit('user.changed', { userId: row.id, username: row.username, change: 'access_roles' });
      }
      return user;
    },

    /** Admin reset: no current password; ends the user's sessions (SPEC §4). */
    async setPassword(
      ctx: OperationContext,
      username: string,
      password: string,
      options: { mustChange?: boolean } = {},
    ): Promise<void> {
      const target = await mustFind(db, username);
      const hash = await preparePassword(password, target.id);
      await transaction(async (trx) => {
        const current = await mustFind(trx, username);
        await updateUser(trx, current.id, {
          password_hash: hash,
          password_changed_at: clock.now(),
          must_change_password: options.mustChange ? 1 : 0,
          updated_at: clock.now(),
        });
        await recordPassword(trx, current.id, hash);
        const ended = await deleteSessionsOfUser(trx, current.id);
        await audit.record(trx, ctx, {
          action: 'user.password_reset',
          target: userTarget(current.username),
          details: { mustChange: options.mustChange ?? false, sessionsEnded: ended },
        });
      });
      events.emit('user.changed', { userId: target.id, username: target.username, change: 'password' });
    },

    /**
     * Self-service password change: needs the current password, ends the user's other sessions and clears a
     * must-change flag or an expired password.
     */
    async changeOwnPassword(
      ctx: OperationContext & { actor: Extract<Actor, { type: 'user' }> },
      currentPassword: string,
      password: string,
    ): Promise<void> {
      const target = await mustFind(db, ctx.actor.username);
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
      const hash = await preparePassword(password, target.id);
      await transaction(async (trx) => {
        await updateUser(trx, target.id, {
          password_hash: hash,
          password_changed_at: clock.now(),
          must_change_password: 0,
          updated_at: clock.now(),
        });
        await recordPassword(trx, target.id, hash);
        const ended = await deleteSessionsOfUser(trx, target.id, ctx.actor.sessionId);
        await audit.record(trx, ctx, {
          action: 'user.password_change',
          target: userTarget(target.username),
          details: { otherSessionsEnded: ended },
        });
      });
      events.emit('user.changed', { userId: target.id, username: target.username, change: 'password' });
    },

    async deactivate(ctx: OperationContext, username: string): Promise<PublicUser> {
      const row = await transaction(async (trx) => {
        const target = await mustFind(trx, username);
        if (target.active === 0) return target;
        await assertAnotherActiveAdmin(trx, target);
        await updateUser(trx, target.id, { active: 0, updated_at: clock.now() });
        const ended = await deleteSessionsOfUser(trx, target.id);
        await audit.record(trx, ctx, {
          action: 'user.deactivate',
          target: userTarget(target.username),
          details: { before: { active: true }, after: { active: false }, sessionsEnded: ended },
        });
        return mustFind(trx, username);
      });
      events.emit('user.changed', { userId: row.id, username: row.username, change: 'deactivated' });
      return publicUser(db, row);
    },

    async reactivate(ctx: OperationContext, username: string): Promise<PublicUser> {
      const row = await transaction(async (trx) => {
        const target = await mustFind(trx, username);
        if (target.active === 1) return target;
        await updateUser(trx, target.id, { active: 1, updated_at: clock.now() });
        await audit.record(trx, ctx, {
          action: 'user.reactivate',
          target: userTarget(target.username),
          details: { before: { active: false }, after: { active: true } },
        });
        return mustFind(trx, username);
      });
      events.emit('user.changed', { userId: row.id, username: row.username, change: 'reactivated' });
      return publicUser(db, row);
    },

    /**
     * Break-glass (SPEC §1, `warden recover-admin`): gives the root user a new password that must be changed at
     * next login, reactivates it and clears its MFA, ending its sessions. Runs on the host only (CLI).
     */
    async recoverRoot(ctx: OperationContext, password: string): Promise<PublicUser> {
      const hash = await deps.hasher.hash(password);
      const row = await transaction(async (trx) => {
        const root = await trx.selectFrom('users').selectAll().where('protected', '=', 1).executeTakeFirst();
        if (!root)
          throw userError('user.not_found', 'There is no root user; start the server once to create it');
        await updateUser(trx, root.id, {
          password_hash: hash,
          password_changed_at: clock.now(),
          must_change_password: 1,
          active: 1,
          mfa_enabled: 0,
          totp_secret: null,
          totp_last_step: null,
          mfa_enroll_required: 0,
          updated_at: clock.now(),
        });
        await trx.deleteFrom('recovery_codes').where('user_id', '=', root.id).execute();
        await recordPassword(trx, root.id, hash);
        const ended = await deleteSessionsOfUser(trx, root.id);
        await audit.record(trx, ctx, {
          action: 'user.recover_admin',
          target: userTarget(root.username),
          details: {
            reactivated: root.active === 0,
            mfaCleared: root.mfa_enabled === 1,
            sessionsEnded: ended,
          },
        });
        return mustFind(trx, root.username);
      });
      events.emit('user.changed', { userId: row.id, username: row.username, change: 'password' });
      return publicUser(db, row);
    },

    async remove(ctx: OperationContext, username: string): Promise<void> {
      const row = await transaction(async (trx) => {
        const target = await mustFind(trx, username);
        if (target.protected === 1) throw userError('user.protected', 'The root user cannot be deleted');
        await assertAnotherActiveAdmin(trx, target);
        const { createdAt: _c, updatedAt: _u, ...snapshot } = await publicUser(trx, target);
        await deleteUserRow(trx, target.id);
        await audit.record(trx, ctx, {
          action: 'user.delete',
          target: userTarget(target.username),
          details: { before: snapshot },
        });
        return target;
      });
      events.emit('user.changed', { userId: row.id, username: row.username, change: 'deleted' });
    },
  };
}
