import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * Row of `broker_integrations` (migration 004). `config` is the kind's settings as JSON with every secret sealed
 * by the secret box; status columns persist the last sync and error for the CLI and restarts. Times are epoch ms.
 */
export interface BrokerIntegrationsTable {
  id: string;
  name: string;
  name_lower: string;
  kind: string;
  enabled: number;
  config: string;
  version: Generated<number>;
  last_sync_at: number | null;
  last_sync_changes: number | null;
  last_error: string | null;
  last_error_at: number | null;
  created_at: number;
  updated_at: number;
}

/**
 * A user's password in the form brokers that store hashes need (Mosquitto dynsec PBKDF2-SHA512), sealed.
 * Captured when the password is set; `password_changed_at` is the user's at capture time, so a password set by
 * another path shows up as stale. `revision` grows with every capture.
 */
export interface BrokerCredentialsTable {
  user_id: string;
  mosquitto: string;
  revision: number;
  password_changed_at: number | null;
  updated_at: number;
}

/** Which credential revision each broker acknowledged for each user. */
export interface BrokerPasswordSyncTable {
  integration_id: string;
  user_id: string;
  revision: number;
  synced_at: number;
}

export type BrokerIntegrationRow = Selectable<BrokerIntegrationsTable>;
export type NewBrokerIntegrationRow = Insertable<BrokerIntegrationsTable>;
