/**
 * The management-plane policy (docs/permissions.md): roles, scopes and who may do what. Pure: no I/O, never
 * throws; the HTTP guard, the CLI, the services and the console all ask these functions, and every refusal says
 * what was missing in a machine-readable {@link Denial}.
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

/** The scope table of docs/permissions.md: whether each role may hold a scope, and whether it gets it by default. */
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
 * Who makes a request. `user` comes from a console session; `apikey` from an API key (docs/api-keys.md): it acts
 * for its owner (`userId`, `username`) with the key's rights reduced by the owner's current ones (`role`,
 * `scopes` are those effective rights), and is bound by every rule a user is; `cli` is an operator with shell
 * access to the host; `system` is Warden itself (bootstrap, expiry).
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
  | {
      readonly type: 'apikey';
      readonly keyId: string;
      /** The owner's id and username: whom the key acts for. */
      readonly userId: string;
      readonly username: string;
      /** Effective: the key's role and scopes reduced by the owner's current ones. */
      readonly role: Role;
      readonly scopes: readonly Scope[];
    }
  | { readonly type: 'cli' }
  | { readonly type: 'system' };

/** An actor bound by roles and scopes: a signed-in user or an API key (the CLI and the system are not). */
export type PrincipalActor = Extract<Actor, { type: 'user' | 'apikey' }>;

export function isPrincipal(actor: Actor): actor is PrincipalActor {
  return actor.type === 'user' || actor.type === 'apikey';
}

/** The audit-log name of an actor (`user:alice`, `apikey:<id>`, `cli`, `system`). */
export function actorName(actor: Actor): string {
  switch (actor.type) {
    case 'user':
      return `user:${actor.username}`;
    case 'apikey':
      return `apikey:${actor.keyId}`;
    default:
      return actor.type;
  }
}

/**
 * What a key may do at most, reduced by what its owner holds now (docs/api-keys.md): the lower of the two roles,
 * and the scopes both hold that the resulting role may hold. Read at every request, so a demoted owner's keys
 * shrink with it.
 */
export function reduceRights(
  key: { readonly role: Role; readonly scopes: readonly Scope[] },
  owner: { readonly role: Role; readonly scopes: readonly Scope[] },
): { role: Role; scopes: Scope[] } {
  const role = roleAtLeast(owner.role, key.role) ? key.role : owner.role;
  const scopes = normalizeScopes(
    key.scopes.filter((scope) => owner.scopes.includes(scope) && SCOPE_GRANTS[scope][role] !== 'no'),
  );
  return { role, scopes };
}

/** What a route needs. Every route declares one; a single hook decides (src/http/access-guard.ts). */
export type Requirement =
  /** Anyone, no session (login, health, docs, the console's static files). */
  | { readonly kind: 'public' }
  /**
   * A session that may still be mid-login (MFA step, forced password change or enrolment); `stages` narrows
   * which login stages qualify (a complete session always does).
   */
  | {
      readonly kind: 'login_step';
      readonly stages?: readonly SessionStage[];
      /**
       * Also answered for an API key (`GET /api/v1/me`, the password policy). Without it a login-step route is about the session
       * itself (logout, own password, MFA enrolment) and refused for keys.
       */
      readonly apiKeys?: true;
    }
  /** A complete session acting on itself (self-service is always allowed; API keys cannot use it). */
  | { readonly kind: 'self' }
  /**
   * Reading; with a scope when the area's data is restricted (user directory, audit log). `anyOf` accepts any one
   * of several scopes; `unlessSelf` names the body field that, when it is the actor's own username, makes the
   * scope unnecessary (a user may always ask about itself).
   */
  | {
      readonly kind: 'read';
      readonly scope?: Scope;
      readonly anyOf?: readonly Scope[];
      readonly unlessSelf?: 'username';
    }
  /** Writing: role ≥ operator and the area's scope. */
  | { readonly kind: 'write'; readonly scope: Scope }
  /**
   * Broker callbacks, authenticated by a broker integration's hook credential or source address instead of a
   * session (docs/brokers.md); `broker` names the integration kind whose settings apply.
   */
  | { readonly kind: 'hook'; readonly broker: 'emqx' | 'go-auth' | 'vernemq' }
  /**
   * Metrics scrapes (`GET /metrics`), authenticated by a scrape token or a source address in
   * `WARDEN_METRICS_ALLOW_FROM` instead of a session (docs/metrics.md).
   */
  | { readonly kind: 'scrape' }
  /**
   * Forward-auth: the identity of the request a reverse proxy forwards (a complete session, HTTP Basic or an
   * API key), established by forward-auth's identity resolution (docs/forward-auth.md) instead of the
   * management policy; the route then decides with the user's HTTP rules.
   */
  | { readonly kind: 'forwarded' }
  /**
   * Device self-registration (docs/registry.md): no session. A device is admitted by the registry's per-address
   * rate limit and the route checks its enrolment token or poll secret itself. With `staff`, a request that
   * presents no poll secret (`Bearer wdp_…`) is an administrator's and must meet `staff` instead.
   */
  | { readonly kind: 'registration'; readonly staff?: { readonly kind: 'read'; readonly scope: Scope } };

/** Where the requester stands in the login flow; `active` is a complete session. */
export type SessionStage = 'active' | 'mfa' | 'mfa_enroll' | 'password_change';

/**
 * Why something is refused, for machines: problems carry it as their `denial` member and the console puts it in
 * words. `role`/`scope` name what the actor lacks; `login_stage` the login step still open; `grant` what the actor
 * tried to hand out without holding it; `target` the user the actor may not act on (one whose role or scopes
 * exceed the actor's, or root without every scope).
 */
export type Denial =
  | { readonly reason: 'no_session' }
  | { readonly reason: 'no_hook_credential' }
  | { readonly reason: 'session_only' }
  | { readonly reason: 'no_scrape_credential' }
  | { readonly reason: 'no_forwarded_identity' }
  | { readonly reason: 'cross_site' }
  | { readonly reason: 'login_stage'; readonly stage: SessionStage | null }
  | { readonly reason: 'role'; readonly required: Role; readonly held: Role }
  | { readonly reason: 'scope'; readonly anyOf: readonly Scope[] }
  | { readonly reason: 'grant'; readonly role?: Role; readonly scopes?: readonly Scope[] }
  | {
      readonly reason: 'target';
      readonly target: string;
      /** `root`: root is managed only by actors holding every scope; `outranks`: its role or scopes exceed the actor's. */
      readonly why: 'root' | 'outranks';
      readonly role?: Role;
      readonly scopes?: readonly Scope[];
    };

export type Decision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly code: 'auth.required' | 'auth.forbidden' | 'auth.target_forbidden' | 'auth.session_required';
      /** For people (the problem's `detail`). */
      readonly message: string;
      readonly denial: Denial;
    };

const ALLOW: Decision = { allowed: true };

function deny(
  code: Extract<Decision, { allowed: false }>['code'],
  denial: Denial,
  message: string,
): Decision {
  return { allowed: false, code, denial, message };
}

/** The scopes a read requirement asks for (any one of them suffices); empty = none. */
function readScopes(requirement: Extract<Requirement, { kind: 'read' }>): readonly Scope[] {
  return requirement.anyOf ?? (requirement.scope ? [requirement.scope] : []);
}

/**
 * Decides whether `actor` (in login stage `stage`) meets `requirement`. Hook and scrape routes are decided on
 * `machineAdmitted` alone — whether a broker integration accepted the request's credential or source address
 * (src/modules/brokers/hook-gate.ts), or a scrape token or allowed address was presented — never on a session;
 * forward-auth routes likewise: whether forward-auth's identity resolution found who the forwarded request
 * comes from (passed as `machineAdmitted`, though a person may be behind it). A read with `unlessSelf` that the actor's scopes do
 * not satisfy is refused here; the guard asks {@link authorizeSelf} once the body is known.
 */
export function authorize(
  actor: Actor | null,
  stage: SessionStage | null,
  requirement: Requirement,
  machineAdmitted = false,
): Decision {
  if (requirement.kind === 'scrape') {
    return machineAdmitted
      ? ALLOW
      : deny(
          'auth.required',
          { reason: 'no_scrape_credential' },
          'A valid scrape token is required (or a request from an allowed network)',
        );
  }
  if (requirement.kind === 'forwarded') {
    return machineAdmitted
      ? ALLOW
      : deny(
          'auth.required',
          { reason: 'no_forwarded_identity' },
          'Sign in, or send valid credentials (Basic or Bearer)',
        );
  }
  if (requirement.kind === 'hook') {
    return machineAdmitted
      ? ALLOW
      : deny(
          'auth.required',
          { reason: 'no_hook_credential' },
          'A valid hook credential is required (or a request from an allowed network)',
        );
  }
  // A device registering itself was admitted by the registry's rate limit; its token or poll secret is the
  // route's to check (an administrator's request to such a route is decided as its `staff` requirement).
  if (requirement.kind === 'public' || requirement.kind === 'registration') return ALLOW;
  if (actor === null) return deny('auth.required', { reason: 'no_session' }, 'Sign in first');
  if (!isPrincipal(actor)) return ALLOW;
  // Self-service is about the session and the person signed in with it: a key may read whom it acts for
  // (`apiKeys`), never change the owner's password, MFA or sessions, or log out.
  if (
    actor.type === 'apikey' &&
    (requirement.kind === 'self' || (requirement.kind === 'login_step' && !requirement.apiKeys))
  ) {
    return deny(
      'auth.session_required',
      { reason: 'session_only' },
      'Self-service (own password, MFA, sessions, logout) needs a console session, not an API key',
    );
  }
  if (requirement.kind === 'login_step') {
    if (stage === 'active' || !requirement.stages || (stage !== null && requirement.stages.includes(stage)))
      return ALLOW;
    return deny(
      'auth.forbidden',
      { reason: 'login_stage', stage },
      `Not available during the login step ${stage ?? 'none'}`,
    );
  }
  if (stage !== 'active') {
    return deny(
      'auth.forbidden',
      { reason: 'login_stage', stage },
      `Finish signing in first (${stage ?? 'none'})`,
    );
  }
  switch (requirement.kind) {
    case 'self':
      return ALLOW;
    case 'read': {
      const scopes = readScopes(requirement);
      if (scopes.length === 0 || scopes.some((scope) => actor.scopes.includes(scope))) return ALLOW;
      return deny(
        'auth.forbidden',
        { reason: 'scope', anyOf: scopes },
        `Needs the scope ${scopes.join(' or ')}`,
      );
    }
    case 'write':
      if (!roleAtLeast(actor.role, 'operator')) {
        return deny(
          'auth.forbidden',
          { reason: 'role', required: 'operator', held: actor.role },
          'Viewers are read-only',
        );
      }
      if (!actor.scopes.includes(requirement.scope)) {
        return deny(
          'auth.forbidden',
          { reason: 'scope', anyOf: [requirement.scope] },
          `Needs the scope ${requirement.scope}`,
        );
      }
      return ALLOW;
  }
}

/**
 * The second look at a read with `unlessSelf` that {@link authorize} refused for lack of scope: allowed when the
 * request is about the actor itself (`subject` is the username the body names).
 */
export function authorizeSelf(actor: Actor, subject: string | undefined, refused: Decision): Decision {
  if (!isPrincipal(actor)) return ALLOW;
  return subject !== undefined && subject.toLowerCase() === actor.username.toLowerCase() ? ALLOW : refused;
}

/** Whether `actor` holds `scope` (the CLI and the system hold everything). */
export function holdsScope(actor: Actor, scope: Scope): boolean {
  return !isPrincipal(actor) || actor.scopes.includes(scope);
}

/**
 * "Nobody grants what they do not hold": the role must not exceed the actor's, and every scope granted must be
 * one the actor holds.
 */
export function canGrant(actor: Actor, role: Role, scopes: readonly Scope[]): Decision {
  if (!isPrincipal(actor)) return ALLOW;
  if (!roleAtLeast(actor.role, role)) {
    return deny(
      'auth.forbidden',
      { reason: 'grant', role },
      `Cannot grant the role ${role} above your own role ${actor.role}`,
    );
  }
  const missing = scopes.filter((scope) => !actor.scopes.includes(scope));
  if (missing.length > 0) {
    return deny(
      'auth.forbidden',
      { reason: 'grant', scopes: missing },
      `Cannot grant scopes you do not hold: ${missing.join(', ')}`,
    );
  }
  return ALLOW;
}

/** A user as the policy sees it when someone acts on it. */
export interface PolicyTarget {
  readonly username: string;
  readonly role: Role;
  readonly scopes: readonly Scope[];
  /** The root user. */
  readonly protected: boolean;
}

/**
 * Whether `actor` may act on `target` at all (edit, reset its password or MFA, end its sessions, deactivate,
 * delete): not when the target's role is above the actor's or it holds a scope the actor does not, and root
 * only by an actor holding every scope. Acting on oneself is the self-service rules' business, not this one's.
 */
export function canActOn(actor: Actor, target: PolicyTarget): Decision {
  if (!isPrincipal(actor)) return ALLOW;
  if (actor.username.toLowerCase() === target.username.toLowerCase()) return ALLOW;
  if (target.protected) {
    const missing = SCOPES.filter((scope) => !actor.scopes.includes(scope));
    if (actor.role !== 'admin' || missing.length > 0) {
      return deny(
        'auth.target_forbidden',
        {
          reason: 'target',
          target: target.username,
          why: 'root',
          ...(missing.length ? { scopes: missing } : {}),
        },
        `Only an admin holding every scope may manage the root user ${target.username}`,
      );
    }
    return ALLOW;
  }
  const roleAbove = !roleAtLeast(actor.role, target.role);
  const scopesAbove = target.scopes.filter((scope) => !actor.scopes.includes(scope));
  if (roleAbove || scopesAbove.length > 0) {
    return deny(
      'auth.target_forbidden',
      {
        reason: 'target',
        target: target.username,
        why: 'outranks',
        ...(roleAbove ? { role: target.role } : {}),
        ...(scopesAbove.length ? { scopes: scopesAbove } : {}),
      },
      `${target.username} holds ${roleAbove ? `the role ${target.role}` : `scopes you do not: ${scopesAbove.join(', ')}`}`,
    );
  }
  return ALLOW;
}

/** What decides whether a user counts towards "at least one active admin who can manage users". */
export interface AdminCandidate {
  readonly role: string;
  readonly active: boolean;
  readonly kind: string;
  readonly scopes: readonly string[];
  /** Can sign in to the console: a local password is set (or, later, an enabled SSO provider). */
  readonly canSignIn: boolean;
}

/**
 * The invariant no operation may break (docs/permissions.md): at least one active admin who holds
 * `user_management` and can sign in, because only such a user can repair anything else. An admin without the
 * scope, a deactivated one, a service or device (no console login) or one without a way to sign in does not count.
 */
export function managesUsers(user: AdminCandidate): boolean {
  return (
    user.role === 'admin' &&
    user.active &&
    user.kind === 'person' &&
    user.canSignIn &&
    user.scopes.includes('user_management')
  );
}
