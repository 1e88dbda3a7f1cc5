import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Row of `api_keys` (migration 009). `scopes` is a JSON array, `enabled` 0/1, times epoch ms; `secret_hash` is
 * the keyed hash of the secret part (`$warden-hmac-sha256$…`) and never leaves the module.
 */
export interface ApiKeysTable {
  id: string;
  name: string;
  description: Generated<string>;
  owner_id: string;
  role: string;
  scopes: string;
  secret_hash: string;
  expires_at: number | null;
  enabled: Generated<number>;
  last_used_at: number | null;
  created_at: number;
  /** The audit name of the actor who made the key (`user:alice`, `apikey:<id>`, `cli`). */
  created_by: string;
  updated_at: number;
}

export type ApiKeyRow = Selectable<ApiKeysTable>;
export type NewApiKeyRow = Insertable<ApiKeysTable>;
export type ApiKeyRowUpdate = Updateable<ApiKeysTable>;
