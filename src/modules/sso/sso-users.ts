import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { OperationContext } from '../permissions/operation-context.js';
import type { UserReader } from '../users/users.reader.js';
import type { SsoRoleOutcome, UsersService } from '../users/users.service.js';
import type { UserRow } from '../users/users.table.js';
import type { SsoLoginErrorCode } from './sso-login.errors.js';
import { usernameCandidates } from './sso-login.username.js';
import type { SsoProviderConfig } from './sso-provider-config.js';
import { mapRole } from './sso-role-mapping.js';
import { unlinkedSsoUsersOf } from './sso-user-match.js';

/** Who the provider says signed in: its subject, the email of the provider's email claim, groups. */
export interface SsoIdentity {
  readonly subject: string;
  readonly email: string | null;
  /** The provider asserted `email_verified: true`. */
  readonly emailVerified: boolean;
  readonly preferredUsername: unknown;
  readonly groups: readonly string[];
}

/**
 * A sign-in that finds no user who may sign in: the code the browser is sent back with, and the reason the audit
 * log records (more precise than the code, e.g. `local_account` for `sso.user_conflict`).
 */
export class SignInRefused extends Error {
  constructor(
    readonly code: SsoLoginErrorCode | 'session.limit_reached',
    readonly reason: string,
    /** The user concerned, when one was found. */
    readonly username: string | null = null,
  ) {
    super(`${code}: ${reason}`);
    this.name = 'SignInRefused';
  }
}

/** The user a sign-in signs in, and what happened to it on the way. */
export interface ResolvedSsoUser {
  readonly row: UserRow;
  readonly provisioned: boolean;
  /** Its subject was linked by this sign-in (matched by verified email). */
  readonly linked: boolean;
  /** What the role mapping did; null when the provider maps no roles (the role is managed in Warden). */
  readonly roleMapping: SsoRoleOutcome | null;
}

export interface SsoUserDeps {
  readonly users: Pick<UsersService, 'provisionSso' | 'linkSsoSubject' | 'applySsoRole'>;
  readonly userReader: Pick<UserReader, 'findRow' | 'findRowsByEmail' | 'findRowBySsoSubject'>;
}

/** Why a user with the sign-in's email cannot be linked to it. */
function conflictReason(row: UserRow, provider: string): string {
  if (row.auth_method !== 'sso') return 'local_account';
  if (row.sso_provider !== provider) return 'other_provider';
  return 'linked_elsewhere';
}

/**
 * The user an SSO sign-in signs in (docs/sso.md#signing-in), in the sign-in's transaction, which holds the
 * admin-set lock so that concurrent first sign-ins of one person cannot provision or link twice:
 *
 * 1. the user linked to the provider's subject;
 * 2. else the one SSO user of this provider with the sign-in's **verified** email and no subject yet, which gets
 *    linked — a local user (or one of another provider) with that email is never converted: `sso.user_conflict`;
 * 3. else, when the provider provisions users, a new person with the mapped role;
 * 4. else `sso.user_unknown`.
 *
 * A deactivated user is refused; the provider's role mapping (when it has one) is applied at every sign-in through
 * the users service, which audits it and never demotes the last admin who can manage users.
 */
export async function resolveSsoUser(
  trx: Kysely<Database>,
  deps: SsoUserDeps,
  ctx: OperationContext,
  provider: SsoProviderConfig,
  identity: SsoIdentity,
): Promise<ResolvedSsoUser> {
  let row = await deps.userReader.findRowBySsoSubject(provider.name, identity.subject, trx);
  let linked = false;
  if (row && row.auth_method !== 'sso')
    throw new SignInRefused('sso.user_conflict', 'local_account', row.username);
  if (!row) {
    if (!identity.email || !identity.emailVerified) {
      throw new SignInRefused('sso.email_unverified', identity.email ? 'email_unverified' : 'no_email');
    }
    const sameEmail = await deps.userReader.findRowsByEmail(identity.email, trx);
    const linkable = unlinkedSsoUsersOf(provider.name, sameEmail);
    const [only] = linkable;
    if (linkable.length > 1) throw new SignInRefused('sso.user_conflict', 'ambiguous_email');
    if (only) {
      row = await deps.users.linkSsoSubject(trx, only, identity.subject);
      linked = true;
    } else if (sameEmail[0]) {
      const first = sameEmail[0];
      throw new SignInRefused('sso.user_conflict', conflictReason(first, provider.name), first.username);
    } else if (provider.autoProvision) {
      return {
        row: await provision(trx, deps, ctx, provider, identity, identity.email),
        provisioned: true,
        linked: false,
        roleMapping: null,
      };
    } else {
      throw new SignInRefused('sso.user_unknown', 'no_account');
    }
  }
  if (row.active !== 1) throw new SignInRefused('sso.user_inactive', 'inactive', row.username);
  // Only people sign in with SSO; a service or device here came from data written below the API (an import).
  if (row.kind !== 'person') throw new SignInRefused('sso.user_conflict', 'no_console_login', row.username);
  if (provider.roleMapping.length === 0) return { row, provisioned: false, linked, roleMapping: null };
  const mapped = mapRole(provider, identity.groups);
  const applied = await deps.users.applySsoRole(trx, ctx, row, { ...mapped, provider: provider.name });
  return { row: applied.row, provisioned: false, linked, roleMapping: applied.outcome };
}

/** A new person for the sign-in: the first free username of its candidates, the mapped (or default) role. */
async function provision(
  trx: Kysely<Database>,
  deps: SsoUserDeps,
  ctx: OperationContext,
  provider: SsoProviderConfig,
  identity: SsoIdentity,
  email: string,
): Promise<UserRow> {
  let username: string | null = null;
  for (const candidate of usernameCandidates({ preferredUsername: identity.preferredUsername, email })) {
    if (!(await deps.userReader.findRow(candidate, trx))) {
      username = candidate;
      break;
    }
  }
  if (username === null) throw new SignInRefused('sso.login_failed', 'no_free_username');
  const { role, scopes } = mapRole(provider, identity.groups);
  return deps.users.provisionSso(trx, ctx, {
    username,
    email,
    role,
    scopes,
    provider: provider.name,
    subject: identity.subject,
  });
}
