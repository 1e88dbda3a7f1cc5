import {
  defaultScopes,
  incompatibleScopes,
  normalizeScopes,
  type Role,
  roleAtLeast,
  type Scope,
} from '../permissions/permissions.policy.js';
import type { SsoProviderConfig } from './sso-provider-config.js';

/** The console role and scopes a sign-in's groups give, and which mapping entries matched. */
export interface MappedRole {
  readonly role: Role;
  readonly scopes: readonly Scope[];
  /** The `value`s of the matching entries (empty: the provider's default role). */
  readonly matched: readonly string[];
}

/**
 * The group names in a claim: an array of strings (other entries are ignored), or one string; anything else is
 * no groups. Providers differ (Keycloak and Entra ID send arrays, some send a single value).
 */
export function groupsOf(claims: Readonly<Record<string, unknown>>, claim: string): string[] {
  const value = claims[claim];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return [];
  return value.filter((entry): entry is string => typeof entry === 'string');
}

/**
 * The provider's role mapping applied to `groups` (docs/sso.md#signing-in). Pure. Of the entries whose `value` is
 * among the groups, the highest role wins and the scopes of all of them are united (an entry without scopes
 * contributes its role's default scopes), keeping only those the winning role may hold; when none matches, the
 * provider's default role with its default scopes.
 */
export function mapRole(
  provider: Pick<SsoProviderConfig, 'roleMapping' | 'defaultRole' | 'defaultScopes'>,
  groups: readonly string[],
): MappedRole {
  const matching = provider.roleMapping.filter((entry) => groups.includes(entry.value));
  if (matching.length === 0) {
    const role = provider.defaultRole;
    const scopes = normalizeScopes(provider.defaultScopes ?? defaultScopes(role));
    const bad = incompatibleScopes(role, scopes);
    return { role, scopes: scopes.filter((scope) => !bad.includes(scope)), matched: [] };
  }
  let role: Role = 'viewer';
  for (const entry of matching) if (roleAtLeast(entry.role, role)) role = entry.role;
  const united = normalizeScopes(matching.flatMap((entry) => entry.scopes ?? defaultScopes(entry.role)));
  const bad = incompatibleScopes(role, united);
  return {
    role,
    scopes: united.filter((scope) => !bad.includes(scope)),
    matched: matching.map((entry) => entry.value),
  };
}
