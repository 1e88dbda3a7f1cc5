import { toIso } from '../../core/clock.js';
import { type PolicyTarget, parseRole, type Role, type Scope } from '../permissions/permissions.policy.js';
import type { PublicUser, UserKind } from './users.schemas.js';
import type { UserRow } from './users.table.js';

/** What a user's public shape adds to its row, from the modules that own it (access roles, MFA). */
export interface UserExtras {
  /** Access-role names in evaluation order. */
  readonly accessRoles: readonly string[];
  readonly mfaEnabled: boolean;
}

/** The only way a user leaves the service layer: secrets (hashes, TOTP secret) are never copied. */
export function toPublicUser(row: UserRow, extras: UserExtras): PublicUser {
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
    ssoProvider: row.sso_provider,
    mfaEnabled: extras.mfaEnabled,
    sessionTimeoutMinutes: row.session_timeout_minutes,
    accessRoles: [...extras.accessRoles],
    mustChangePassword: row.must_change_password === 1,
    lastLoginAt: toIso(row.last_login_at),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

export function userTarget(username: string): string {
  return `user:${username}`;
}

/** A user as the permissions policy sees it when someone acts on it (`canActOn`). */
export function policyTarget(row: UserRow): PolicyTarget {
  return {
    username: row.username,
    role: parseRole(row.role) ?? 'viewer',
    scopes: JSON.parse(row.scopes) as Scope[],
    protected: row.protected === 1,
  };
}
