/**
 * What the signed-in user may see and do in the console. The console asks the very same pure policy the
 * server's access guard asks (docs/permissions.md, src/modules/permissions/permissions.policy.ts), so a button is shown exactly when
 * the API would accept its request; the API still refuses anything else.
 */
import {
  type Actor,
  allowedScopes,
  authorize,
  canActOn,
  canGrant,
  defaultScopes,
  type Requirement,
  ROLES,
  type Role,
  SCOPES,
  type Scope,
} from '../../../src/modules/permissions/permissions.policy';
import type { User } from '../api/types';

export type { Requirement, Role, Scope };
export { defaultScopes, ROLES, SCOPES };

/** The four scopes the users table draws as per-user toggles, in this order. */
export const TOGGLE_SCOPES = [
  'system_config',
  'asset_management',
  'user_management',
  'log_management',
] as const satisfies readonly Scope[];

/** The signed-in user as the policy's actor; the policy decides on role and scopes only. */
function actorOf(user: User): Actor {
  return {
    type: 'user',
    userId: user.username,
    username: user.username,
    role: user.role,
    scopes: user.scopes,
    sessionId: 'console',
  };
}

/** Whether the signed-in user (with a complete login) meets a route's requirement. */
export function meets(user: User, requirement: Requirement): boolean {
  return authorize(actorOf(user), 'active', requirement).allowed;
}

export function canWrite(user: User, scope: Scope): boolean {
  return meets(user, { kind: 'write', scope });
}

/** Whether `user` may hand out `role` with `scopes` ("nobody grants what they do not hold"). */
export function mayGrant(user: User, role: Role, scopes: readonly Scope[]): boolean {
  return canGrant(actorOf(user), role, scopes).allowed;
}

/**
 * Why `me` may not act on `user` at all (edit, password, MFA, sessions, deactivate, delete), or null: the user
 * is root and `me` lacks a scope, or it holds a role or scope `me` does not.
 */
export function actOnRefusal(me: User, user: User): 'root' | 'outranks' | null {
  const decision = canActOn(actorOf(me), {
    username: user.username,
    role: user.role,
    scopes: user.scopes,
    protected: user.protected,
  });
  return decision.allowed || decision.denial.reason !== 'target' ? null : decision.denial.why;
}

/** Whether a user of `role` can hold `scope` at all. */
export function roleCanHold(role: Role, scope: Scope): boolean {
  return allowedScopes(role).includes(scope);
}

/** What each console area needs, mirroring the server routes that area calls. */
export const AREA_REQUIREMENTS = {
  users: { kind: 'read', scope: 'user_management' },
  sessions: { kind: 'read', scope: 'user_management' },
  audit: { kind: 'read', scope: 'log_management' },
  security: { kind: 'read', scope: 'system_config' },
  brokers: { kind: 'read', scope: 'system_config' },
  apiKeys: { kind: 'read', scope: 'api_key_management' },
  sso: { kind: 'read', scope: 'sso_management' },
  registry: { kind: 'read', scope: 'asset_management' },
} as const satisfies Record<string, Requirement>;
