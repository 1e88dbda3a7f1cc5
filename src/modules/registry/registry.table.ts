import type { Selectable, Updateable } from 'kysely';

/** Row of `registry_state` (migration 012): the one row (id 1) saying whether the registry is open, and its limits. */
export interface RegistryStateTable {
  id: number;
  /** Until when an administrator unlocked the registry (epoch ms); null or past = locked. */
  unlocked_until: number | null;
  max_pending: number;
  request_expiry_hours: number;
  certificate_validity_days: number;
  updated_at: number;
}

export type RegistryStateRow = Selectable<RegistryStateTable>;
export type RegistryStateUpdate = Updateable<RegistryStateTable>;

/** Where a request came from. */
export type RequestSource = 'rest' | 'mqtt';
/** The stored status; a pending request past `expires_at` reads as `expired` (the clock decides, not a job). */
export type StoredRequestStatus = 'pending' | 'approved' | 'rejected' | 'expired';

/**
 * Row of `registry_requests` (migration 012). `poll_secret_hash` is the keyed hash of the poll secret's secret
 * part and never leaves the module; `metadata` and `access_roles` are JSON text.
 */
export interface RegistryRequestsTable {
  id: string;
  username: string;
  username_lower: string;
  client_id: string | null;
  csr_pem: string | null;
  metadata: string;
  source: RequestSource;
  ip: string;
  poll_secret_hash: string;
  /** The enrolment token the request came with, if any (its id; the token may be deleted since). */
  enrolment_token_id: string | null;
  status: StoredRequestStatus;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  /** The audit name of who decided (`user:alice`, `apikey:<id>`, `cli`). */
  decided_by: string | null;
  /** Why it was rejected, as the administrator put it. */
  reason: string | null;
  /** Access-role names given at approval (JSON array). */
  access_roles: string | null;
  /** The user created at approval. */
  user_id: string | null;
  certificate_serial: string | null;
  /** The certificate issued from the request's CSR, and the chain that signed it (the CA's), both PEM. */
  certificate_pem: string | null;
  certificate_chain_pem: string | null;
  /** When the credentials were delivered (exactly once); null = not yet. */
  delivered_at: number | null;
}

export type RegistryRequestRow = Selectable<RegistryRequestsTable>;
export type RegistryRequestUpdate = Updateable<RegistryRequestsTable>;

/** Row of `registry_tokens` (migration 012): an enrolment token; only the keyed hash of its secret is stored. */
export interface RegistryTokensTable {
  /** Also the token's lookup part: `wde_<id>_<secret>`. */
  id: string;
  name: string;
  secret_hash: string;
  max_uses: number;
  uses: number;
  expires_at: number;
  created_at: number;
  /** The audit name of who created it. */
  created_by: string;
}

export type RegistryTokenRow = Selectable<RegistryTokensTable>;
