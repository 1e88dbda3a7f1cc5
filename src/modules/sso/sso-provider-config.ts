import type { SecretBox } from '../../core/crypto/secret-box.js';
import type { Role, Scope } from '../permissions/permissions.policy.js';
import type { SsoProviderRow } from './sso.table.js';

/** One entry of a provider's role mapping: users whose groups claim holds `value` get `role` (and `scopes`). */
export interface RoleMappingEntry {
  readonly value: string;
  readonly role: Role;
  readonly scopes?: readonly Scope[];
}

export type SsoPreset = 'google' | 'keycloak' | 'entra' | 'generic';

/** A provider's configuration as the service validates and stores it (the secret handled apart). */
export interface ProviderSettings {
  readonly displayName: string;
  readonly preset: SsoPreset;
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly enabled: boolean;
  readonly autoProvision: boolean;
  readonly defaultRole: Role;
  /** null: the default role's default scopes. */
  readonly defaultScopes: readonly Scope[] | null;
  readonly emailClaim: string;
  readonly groupsClaim: string;
  readonly roleMapping: readonly RoleMappingEntry[];
}

/** A provider as the protocol code needs it: the client secret opened, JSON columns parsed. Never serialised. */
export interface SsoProviderConfig extends ProviderSettings {
  readonly name: string;
  /** The opened client secret; null for a public client (or a secret that no longer opens: see `secretUnreadable`). */
  readonly clientSecret: string | null;
  /** True when a secret is stored but does not open with this instance's key (WARDEN_SECRET_KEY changed). */
  readonly secretUnreadable: boolean;
}

/** The secret box context a provider's client secret is sealed under: a sealed value copied to another row fails. */
export function clientSecretContext(name: string): string {
  return `sso-provider:${name}`;
}

export function toProviderConfig(row: SsoProviderRow, box: SecretBox): SsoProviderConfig {
  const opened =
    row.client_secret_sealed === null
      ? null
      : box.open(row.client_secret_sealed, clientSecretContext(row.name));
  return {
    name: row.name,
    displayName: row.display_name,
    preset: row.preset as SsoPreset,
    issuer: row.issuer,
    clientId: row.client_id,
    clientSecret: opened === null ? null : Buffer.from(opened).toString('utf8'),
    secretUnreadable: row.client_secret_sealed !== null && opened === null,
    scopes: JSON.parse(row.scopes) as string[],
    enabled: row.enabled === 1,
    autoProvision: row.auto_provision === 1,
    defaultRole: row.default_role as Role,
    defaultScopes: row.default_scopes === null ? null : (JSON.parse(row.default_scopes) as Scope[]),
    emailClaim: row.email_claim,
    groupsClaim: row.groups_claim,
    roleMapping: JSON.parse(row.role_mapping) as RoleMappingEntry[],
  };
}
