import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Row of `sso_providers` (migration 011). `scopes`, `default_scopes` and `role_mapping` are JSON, flags 0/1,
 * times epoch ms. `client_secret_sealed` is sealed with the secret box (context `sso-provider:<name>`) and never
 * leaves the module unopened; null for a public client.
 */
export interface SsoProvidersTable {
  name: string;
  display_name: string;
  preset: Generated<string>;
  issuer: string;
  client_id: string;
  client_secret_sealed: string | null;
  scopes: string;
  enabled: Generated<number>;
  auto_provision: Generated<number>;
  default_role: Generated<string>;
  default_scopes: string | null;
  email_claim: Generated<string>;
  groups_claim: Generated<string>;
  role_mapping: Generated<string>;
  created_at: number;
  updated_at: number;
}

export type SsoProviderRow = Selectable<SsoProvidersTable>;
export type NewSsoProviderRow = Insertable<SsoProvidersTable>;
export type SsoProviderRowUpdate = Updateable<SsoProvidersTable>;
