import { toIso } from '../../core/clock.js';
import type { Role, Scope } from '../permissions/permissions.policy.js';
import type { PublicUser, UserKind } from './users.schemas.js';
import type { UserRow } from './users.table.js';

/** The only way a user leaves the service layer: secrets (hashes, TOTP secret) are never copied. */
export function toPublicUser(row: UserRow, accessRoles: readonly string[] = []): PublicUser {
  return {
    username: row.username,
    email: row.email,
    description: row.description,
    kind: row.kind as UserKind,
    role: row.role as Role,
    scopes: JSON.parse(row.scopes) as Scope[],
    active: row.active === 1,
    protected: row.protected === 1,
    authMethod: row.auth_method === 'sso' ? 'sso' : 'local',
    mfaEnabled: row.mfa_enabled === 1,
    sessionTimeoutMinutes: row.session_timeout_minutes,
    accessRoles: [...accessRoles],
    mustChangePassword: row.must_change_password === 1,
    lastLoginAt: toIso(row.last_login_at),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

export function userTarget(username: string): string {
  return `user:${username}`;
}
