/**
 * The management-plane policy of SPEC §2: roles, scopes and who may do what. Pure: no I/O, never throws;
 * the HTTP guard, the CLI, the users service and the console all ask these functions.
 */

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = [
  'system_config',
  'asset_management',
  'user_management',
  'log_management',
  'api_key_management',
  'sso_management',
] as const;
export type Scope = (typeof SCOPES)[number];

const ROLE_LEVEL: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

type Grant = 'no' | 'allowed' | 'default';

/** SPEC §2 table: whether each role may hold a scope, and whether it gets it by default. */
const SCOPE_GRANTS: Record<Scope, Record<Role, Grant>> = {
  system_config: { viewer: 'no', operator: 'no', admin: 'default' },
  asset_management: { viewer: 'no', operator: 'default', admin: 'default' },
  user_management: { viewer: 'no', operator: 'no', admin: 'default' },
  log_management: { viewer: 'allowed', operator: 'default', admin: 'default' },
  api_key_management: { viewer: 'no', operator: 'no', admin: 'default' },
  sso_management: { viewer: 'no', operator: 'no', admin: 'default' },
};

/** Accepts the role names of the API (`editor` is an alias of `operator`, as in MobiusFlow). */
export function parseRole(value: string): Role | null {
  const lower = value.toLowerCase();
  if (lower === 'editor') return 'operator';
  return (ROLES as readonly string[]).includes(lower) ? (lower as Role) : null;
}

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLE_LEVEL[role] >= ROLE_LEVEL[minimum];
}

export function defaultScopes(role: Role): Scope[] {
  return SCOPES.filter((scope) => SCOPE_GRANTS[scope][role] === 'default');
}

export function allowedScopes(role: Role): Scope[] {
  return SCOPES.filter((scope) => SCOPE_GRANTS[scope][role] !== 'no');
}

/** The scopes of `scopes` that `role` cannot hold (empty when compatible). */
export function incompatibleScopes(role: Role, scopes: readonly Scope[]): Scope[] {
  return scopes.filter((scope) => SCOPE_GRANTS[scope][role] === 'no');
}

/** Sorted, de-duplicated in catalogue order, so stored scope lists compare equal. */
export function normalizeScopes(scopes: readonly Scope[]): Scope[] {
  return SCOPES.filter((scope) => scopes.includes(scope));
}

/**
 * Who makes a request. `user` comes from a console session (later also API keys and namespaced roles: the
 * shape leaves room for an `apikey` variant and a namespace); `cli` is an operator with shell access to the
 * host; `system` is Warden itself (bootstrap, expiry).
 */
export type Actor =
  | {
      readonly type: 'user';
      readonly userId: string;
      readonly username: string;
      readonly role: Role;
      readonly scopes: readonly Scope[];
      readonly sessionId: string;
    }
  | { readonly type: 'cli' }
  | { readonly type: 'system' };

/** The audit-log name of an actor (`user:alice`, `cli`, `system`). */
export function actorName(actor: Actor): string {
  return actor.type === 'user' ? `user:${actor.username}` : actor.type;
}

/** What a route needs. Every route declares one; a single hook decides (src/http/access-guard.ts). */
export type Requirement =
  /** Anyone, no session (login, health, docs, the console's static files). */
  | { readonly kind: 'public' }
  /**
   * A session that may still be mid-login (MFA step, forced password change or enrolment); `stages` narrows
   * which login stages qualify (a complete session always does).
   */
  | { readonly kind: 'login_step'; readonly stages?: readonly SessionStage[] }
  /** A complete session acting on itself (self-service is always allowed, SPEC §2). */
  | { readonly kind: 'self' }
  /** Reading; with a scope when the area's data is restricted (user directory, audit log). */
  | { readonly kind: 'read'; readonly scope?: Scope }
  /** Writing: role ≥ operator and the area's scope. */
  | { readonly kind: 'write'; readonly scope: Scope }
  /**
   * Broker callbacks (SPEC §6 "broker (hook credential)"), authenticated by a broker integration's hook
   * credential or source address instead of a session; `broker` names the integration kind whose settings apply.
   */
  | { readonly kind: 'hook'; readonly broker: 'emqx' | 'go-auth' | 'vernemq' };

/** Where the requester stands in the login flow; `active` is a complete session. */
export type SessionStage = 'active' | 'mfa' | 'mfa_enroll' | 'password_change';

export type Decision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly code: 'auth.required' | 'auth.forbidden'; readonly reason: string };

const ALLOW: Decision = { allowed: true };

const NO_HOOK_CREDENTIAL: Decision = {
  allowed: false,
  code: 'auth.required',
  reason: 'no valid hook credential and not from an allowed network',
};

/**
 * Decides whether `actor` (in login stage `stage`) meets `requirement`. Hook routes are decided on
 * `hookAdmitted` alone — whether a broker integration accepted the request's credential or source address
 * (src/modules/brokers/hook-gate.ts) — never on a session.
 */
export function authorize(
  actor: Actor | null,
  stage: SessionStage | null,
  requirement: Requirement,
  hookAdmitted = false,
): Decision {
  if (requirement.kind === 'hook') return hookAdmitted ? ALLOW : NO_HOOK_CREDENTIAL;
  if (requirement.kind === 'public') return ALLOW;
  if (actor === null) return { allowed: false, code: 'auth.required', reason: 'no session' };
  if (actor.type !== 'user') return ALLOW;
  if (requirement.kind === 'login_step') {
    if (stage === 'active' || !requirement.stages || (stage !== null && requirement.stages.includes(stage)))
      return ALLOW;
    return {
      allowed: false,
      code: 'auth.forbidden',
      reason: `not available during login stage ${stage ?? 'none'}`,
    };
  }
  if (stage !== 'active') {
    return { allowed: false, code: 'auth.forbidden', reason: `login not complete (${stage ?? 'none'})` };
  }
  switch (requirement.kind) {
    case 'self':
      return ALLOW;
    case 'read':
      if (requirement.scope && !actor.scopes.includes(requirement.scope)) {
        return { allowed: false, code: 'auth.forbidden', reason: `needs scope ${requirement.scope}` };
      }
      return ALLOW;
    case 'write':
      if (!roleAtLeast(actor.role, 'operator')) {
        return { allowed: false, code: 'auth.forbidden', reason: 'viewers are read-only' };
      }
      if (!actor.scopes.includes(requirement.scope)) {
        return { allowed: false, code: 'auth.forbidden', reason: `needs scope ${requirement.scope}` };
      }
      return ALLOW;
  }
}

/** Whether `actor` holds `scope` (the CLI and the system hold everything). */
export function holdsScope(actor: Actor, scope: Scope): boolean {
  return actor.type !== 'user' || actor.scopes.includes(scope);
}

/**
 * "Nobody grants what they do not hold": the role must not exceed the actor's, and every scope granted must be
 * one the actor holds. Returns the reason when refused.
 */
export function canGrant(actor: Actor, role: Role, scopes: readonly Scope[]): Decision {
  if (actor.type !== 'user') return ALLOW;
  if (!roleAtLeast(actor.role, role)) {
    return {
      allowed: false,
      code: 'auth.forbidden',
      reason: `cannot grant role ${role} above own role ${actor.role}`,
    };
  }
  const missing = scopes.filter((scope) => !actor.scopes.includes(scope));
  if (missing.length > 0) {
    return {
      allowed: false,
      code: 'auth.forbidden',
      reason: `cannot grant scopes not held: ${missing.join(', ')}`,
    };
  }
  return ALLOW;
}
