import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { UserRow } from './users.table.js';

/**
 * Finding the Warden user an OpenID Connect provider's token stands for (docs/mqtt-tokens.md#which-user): only
 * users whose authentication method is `sso` with that provider qualify, first by the provider's subject linked
 * at their first SSO sign-in (`users.sso_subject`, unique per provider), else — while no subject is linked yet —
 * by the email address the provider asserts. Read-only; rows never leave the server.
 */
export interface SsoUserLookup {
  /** The SSO user of `provider` linked to `subject`, or undefined. */
  bySubject(provider: string, subject: string): Promise<UserRow | undefined>;
  /**
   * The SSO users of `provider` with this email address (case-insensitive) and no subject linked yet; at most
   * two, so that a caller can tell one from several.
   */
  unlinkedByEmail(provider: string, email: string): Promise<UserRow[]>;
}

export function createSsoUserLookup(deps: { db: Kysely<Database> }): SsoUserLookup {
  return {
    bySubject(provider, subject) {
      return deps.db
        .selectFrom('users')
        .selectAll()
        .where('sso_provider', '=', provider)
        .where('sso_subject', '=', subject)
        .where('auth_method', '=', 'sso')
        .executeTakeFirst();
    },
    unlinkedByEmail(provider, email) {
      return deps.db
        .selectFrom('users')
        .selectAll()
        .where('email_lower', '=', email.toLowerCase())
        .where('sso_provider', '=', provider)
        .where('sso_subject', 'is', null)
        .where('auth_method', '=', 'sso')
        .limit(2)
        .execute();
    },
  };
}
