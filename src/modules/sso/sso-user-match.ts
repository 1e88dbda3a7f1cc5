import type { UserRow } from '../users/users.table.js';

/**
 * The users a provider's verified email may be matched to (docs/sso.md#signing-in): SSO users of that provider
 * whose subject is not linked yet. Sign-in links the one it finds; MQTT tokens accept it until then.
 */
export function unlinkedSsoUsersOf(provider: string, rows: readonly UserRow[]): UserRow[] {
  return rows.filter(
    (row) => row.auth_method === 'sso' && row.sso_provider === provider && row.sso_subject === null,
  );
}

/** The row a provider's subject is linked to, when it still signs in with that provider (not switched to local). */
export function linkedSsoUser(row: UserRow | undefined): UserRow | undefined {
  return row?.auth_method === 'sso' ? row : undefined;
}
